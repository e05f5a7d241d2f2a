"""The local-only machinery: the embedded PostgreSQL and broker (`embedded`), the five services
as processes (`stack`), and `make run` (`python -m devstack run`).

Installed with the `embedded` dependency group (on by default for `uv sync`, absent from the
image); the tests and the benchmarks import it, runtime code never does (docs/adr/0005).
"""
