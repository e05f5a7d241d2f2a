"""China's official working days, one calendar for Python and SQL: the years loaded and the days
their arrangements name (holidays' days off, make-up working days), seeded from chinese-calendar's
data for 2004-2026; `intake_add_working_days` now counts them and refuses a year not loaded
(SQLSTATE FYC01, shared.calendar.MISSING_YEAR_SQLSTATE) instead of counting Monday to Friday.

Revision ID: 0007_working_calendar
Revises: 0006_closing_checklists
"""
from alembic import op
from sqlalchemy import Boolean, Date, DateTime, Integer, Text, column, table
from sqlalchemy.dialects.postgresql import insert

from shared.clock import now

revision = "0007_working_calendar"
down_revision = "0006_closing_checklists"
branch_labels = None
depends_on = None

# The years chinese-calendar 1.11 has the State Council's notices for; later years are loaded
# by operators (`python -m services.intake calendar load`), never guessed.
SEEDED_YEARS = range(2004, 2027)
SOURCE = "chinese-calendar 1.11.0 (the State Council's notices of {year})"
NAMES = {  # chinese-calendar's names -> the names the State Council's notices use
    "New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节", "Dragon Boat Festival": "端午节", "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}

# Idempotent, as the kernel's DDL of 0005 is: a database stamped back and migrated again keeps
# what it has (tests/integration/test_migrations.py does so).
TABLES = ["""
CREATE TABLE IF NOT EXISTS working_calendar_years (
    year integer PRIMARY KEY,
    source text NOT NULL,
    sha256 text,
    loaded_by text NOT NULL,
    loaded_at timestamptz NOT NULL
)""", """
CREATE TABLE IF NOT EXISTS working_calendar_days (
    day date PRIMARY KEY,
    working boolean NOT NULL,
    holiday text NOT NULL,
    year integer NOT NULL REFERENCES working_calendar_years (year) ON DELETE CASCADE
)""", "CREATE INDEX IF NOT EXISTS ix_working_calendar_days_year ON working_calendar_days (year)"]

# The same count as shared.calendar.WorkingCalendar.add_working_days: the n-th working day after
# `day`; a day its year's arrangement names is what it says, any other works Monday to Friday; a
# year not loaded raises FYC01 with the year in its message.
WORKING_DAYS = """
CREATE OR REPLACE FUNCTION intake_add_working_days(day date, n integer) RETURNS date
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE AS $$
DECLARE
    d date := day;
    remaining integer := n;
    named boolean;
BEGIN
    WHILE remaining > 0 LOOP
        d := d + 1;
        IF NOT EXISTS (SELECT 1 FROM working_calendar_years y WHERE y.year = extract(year FROM d)) THEN
            RAISE EXCEPTION 'China''s official working days for % are not loaded',
                extract(year FROM d)::integer USING ERRCODE = 'FYC01';
        END IF;
        SELECT c.working INTO named FROM working_calendar_days c WHERE c.day = d;
        IF coalesce(named, extract(isodow FROM d) < 6) THEN
            remaining := remaining - 1;
        END IF;
    END LOOP;
    RETURN d;
END
$$
"""

# Migration 0004's count, Monday to Friday, for a downgrade.
MONDAY_TO_FRIDAY = """
CREATE OR REPLACE FUNCTION intake_add_working_days(day date, n integer) RETURNS date
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN n <= 0 THEN day ELSE (
        SELECT d FROM generate_series(day + 1, day + n * 2 + 7, interval '1 day') AS g(t), \
LATERAL (SELECT t::date AS d) x
        WHERE extract(isodow FROM d) < 6 ORDER BY d OFFSET n - 1 LIMIT 1)
    END
$$
"""


def upgrade() -> None:
    from chinese_calendar import constants

    for statement in TABLES:
        op.execute(statement)
    days = table("working_calendar_days", column("day", Date), column("working", Boolean),
                 column("holiday", Text), column("year", Integer))
    years = table("working_calendar_years", column("year", Integer), column("source", Text),
                  column("loaded_by", Text), column("loaded_at", DateTime(timezone=True)))
    seeded = [{"year": y, "source": SOURCE.format(year=y), "loaded_by": "migration 0007", "loaded_at": now()}
              for y in SEEDED_YEARS]
    op.execute(insert(years).values(seeded).on_conflict_do_nothing())
    named = [(d, False, h) for d, h in constants.holidays.items()] + [
        (d, True, h) for d, h in constants.workdays.items()]
    op.execute(insert(days).values([{"day": d, "working": working, "holiday": NAMES[h], "year": d.year}
                                    for d, working, h in sorted(named, key=lambda x: x[0])
                                    if d.year in SEEDED_YEARS]).on_conflict_do_nothing())
    op.execute(WORKING_DAYS)


def downgrade() -> None:
    op.execute(MONDAY_TO_FRIDAY)
    op.execute("DROP TABLE IF EXISTS working_calendar_days")
    op.execute("DROP TABLE IF EXISTS working_calendar_years")
