"""devstack's embedded PostgreSQL: a kept data directory's server is stopped by `stop`, also when
it was started again with other settings (as bench-growth's production-sized buffers do)."""

import psutil

from devstack.embedded import start_postgres


def test_a_kept_server_started_again_with_other_settings_is_stopped_by_stop(tmp_path):
    first = start_postgres(tmp_path / "pgdata", keep_data=True)
    second = start_postgres(tmp_path / "pgdata", keep_data=True, settings={"shared_buffers": "48MB"})
    pid = second.pid
    try:
        assert "48MB" in (tmp_path / "pgdata" / "postgresql.auto.conf").read_text()
    finally:
        second.stop()
        first.stop()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert not (tmp_path / "pgdata" / "postmaster.pid").exists()
