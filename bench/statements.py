"""`python -m bench.statements --pgdata DIR`: where a registration's time goes in PostgreSQL, by
the size of the history (docs/benchmarks.md "Growth").

On a kept bench-growth server (`python -m bench.growth --pgdata DIR ...` seeded it), started again
with `pg_stat_statements` loaded and I/O timing on, it registers `--count` cases in each size's
intake database through intake's command, taking turns between the sizes as bench-growth does,
then prints each statement the registrations ran, per size: its mean time in the server, the
buffer pages it found in shared buffers and read from outside them, the pages it dirtied, the full
page images and bytes it wrote to the write-ahead log. A statement whose time grows with the
history shows which index or table it meets at a random place.

The settings it adds (`shared_preload_libraries`, `track_io_timing`) stay in the kept server's
`postgresql.auto.conf`; the extension's cost per statement is the same for every size.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

# asyncpg ships no type information (no py.typed, no stubs): its objects are Any here.
import asyncpg  # type: ignore[import-untyped]
import typer
from rich.table import Table

from bench.growth import _percentile, production_server, registrations
from bench.intake_history import intake_settings
from bench.rebuild import console
from services.intake.app import MIGRATIONS
from shared.migrations import upgrade

PROFILED = {"shared_preload_libraries": "pg_stat_statements", "track_io_timing": "on",
            "pg_stat_statements.track_utility": "on"}

_STATEMENTS = """
SELECT d.datname AS database, s.query, s.calls, s.mean_exec_time, s.shared_blks_hit, s.shared_blks_read,
       s.shared_blk_read_time, s.shared_blks_dirtied, s.wal_fpi, s.wal_bytes
FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
WHERE d.datname = ANY($1::text[]) AND s.calls >= $2
"""


async def _profile(url: str, sizes: list[str], count: int) -> None:
    settings = [(size, intake_settings(url, size)) for size in sizes]
    admin = await asyncpg.connect(url)
    try:
        await admin.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        await admin.execute("SELECT pg_stat_statements_reset()")
        timed = await registrations(settings, count)
        rows = await admin.fetch(_STATEMENTS, [s.database_name for _, s in settings], count)
    finally:
        await admin.close()
    summary = Table(title=f"{count} registrations in each history, taking turns")
    for column in ("history", "p50 ms", "p99 ms", "this process's CPU ms"):
        summary.add_column(column, justify="left" if column == "history" else "right")
    for size, (walls, cpu) in timed.items():
        summary.add_row(size, f"{_percentile(walls, 0.5) * 1000:.2f}",
                        f"{_percentile(walls, 0.99) * 1000:.2f}", f"{cpu * 1000:.2f}")
    console.print(summary)
    table = Table(title="Each statement, per registration, in the server (pg_stat_statements)")
    for column in ("statement", "history", "calls", "mean µs", "pages hit", "pages read", "read µs",
                   "dirtied", "full pages to WAL", "WAL bytes"):
        table.add_column(column, justify="left" if column in ("statement", "history") else "right",
                         no_wrap=column == "statement", max_width=44 if column == "statement" else None)
    database_size = {s.database_name: size for size, s in settings}
    for row in sorted(rows, key=lambda r: (r["query"], sizes.index(database_size[r["database"]]))):
        n = row["calls"]
        table.add_row(" ".join(row["query"].split())[:44], database_size[row["database"]], f"{n:,}",
                      f"{row['mean_exec_time'] * 1000:,.0f}", f"{row['shared_blks_hit'] / n:.1f}",
                      f"{row['shared_blks_read'] / n:.2f}", f"{row['shared_blk_read_time'] / n * 1000:.0f}",
                      f"{row['shared_blks_dirtied'] / n:.2f}", f"{row['wal_fpi'] / n:.2f}",
                      f"{float(row['wal_bytes']) / n:,.0f}")
    console.print(table)
    console.print("COMMIT's wait for the write-ahead log to reach the disk happens after the statement, "
                  "outside these times: it is in the wall clock above.")


cli = typer.Typer(add_completion=False)


@cli.command()
def main(
    pgdata: Path = typer.Option(..., help="A kept bench-growth server's directory (its sizes seeded)."),
    sizes: str = typer.Option("none,national", help="Comma-separated sizes whose intake databases to "
                                                    "compare."),
    count: int = typer.Option(300, help="Registrations in each size."),
) -> None:
    """Each statement of a registration, per size of the history: time, pages, write-ahead log."""
    from devstack.embedded import start_postgres

    chosen = [s.strip() for s in sizes.split(",") if s.strip()]
    postgres = start_postgres(pgdata, keep_data=True, settings={**production_server(), **PROFILED})
    try:
        for size in chosen:
            upgrade(intake_settings(postgres.url, size), MIGRATIONS)
        asyncio.run(_profile(postgres.url, chosen, count))
    finally:
        postgres.stop()


if __name__ == "__main__":
    cli()
