"""Fixtures every service's tests use: one PostgreSQL server and one broker per test session
(embedded, or those `DATABASE_URL` / `KAFKA_BOOTSTRAP_SERVERS` name), a clean database per
test where needed, and settings pointing at them."""
