"""Schema migrations on both backends, and the upgrade of a store written by the first release."""

from __future__ import annotations

import multiprocessing
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agentroll.model import Aspect
from agentroll.store import SCHEMA_VERSION, StoreError, mask_password, open_store
from agentroll.store.schema import COLUMN_TYPES, MIGRATIONS
from agentroll.store.scratch import PostgresUnavailable, ScratchPostgres
from tests.unit.store_support import raw_query

#: A state file written by agentroll 0.1.0's store (schema version 1): run 1 (preflight, finished)
#: saw vp-01 without the agent and vp-02 refusing connections; run 2 (site.yml --limit vp-01) installed
#: the agent and renamed vp-01, then was stopped with Ctrl-C, so that release left it "running".
FIRST_RELEASE_STORE = Path(__file__).parent / "fixtures" / "state-v1.sqlite"


def test_migrations_are_numbered_from_one_without_gaps_and_spell_every_token() -> None:
    assert [migration.version for migration in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))
    assert MIGRATIONS[-1].version == SCHEMA_VERSION
    for dialect in COLUMN_TYPES:
        for migration in MIGRATIONS:
            assert all("{" not in statement for statement in migration.sql(dialect))


def test_a_new_store_gets_every_migration_once(store_location: str) -> None:
    with open_store(store_location) as store:
        assert store.schema_version() == SCHEMA_VERSION
    rows = raw_query(store_location, "SELECT version FROM schema_version ORDER BY version")
    assert rows == [(version,) for version in range(1, SCHEMA_VERSION + 1)]


def _open_and_close(location: str) -> None:
    open_store(location).close()


def test_two_processes_creating_one_store_at_once_migrate_it_once(store_location: str) -> None:
    context = multiprocessing.get_context("spawn")
    openers = [context.Process(target=_open_and_close, args=(store_location,)) for _ in range(3)]
    for process in openers:
        process.start()
    for process in openers:
        process.join(timeout=60)
        assert process.exitcode == 0
    rows = raw_query(store_location, "SELECT version FROM schema_version ORDER BY version")
    assert rows == [(version,) for version in range(1, SCHEMA_VERSION + 1)]


@pytest.fixture
def first_release_store(tmp_path: Path) -> Path:
    path = tmp_path / "state.sqlite"
    shutil.copyfile(FIRST_RELEASE_STORE, path)
    return path


def test_a_first_release_store_is_upgraded_in_place_keeping_everything(first_release_store: Path) -> None:
    with open_store(first_release_store) as store:
        assert store.schema_version() == SCHEMA_VERSION
        runs = store.runs()
        views = store.views()
        new_run = store.start_run("verify.yml", operator="Đặng Đức")
    assert [(run.id, run.playbook, run.limit, run.operator) for run in runs] == [
        (1, "preflight.yml", None, None),
        (2, "site.yml", "vp-01", None),
    ]
    # The run the first release left "running" forever has been silent for months: interrupted,
    # ending at its last observation.
    assert [run.status for run in runs] == ["ok", "interrupted"]
    assert runs[1].finished_at == datetime(2026, 5, 5, 8, 3, tzinfo=UTC)
    assert views["vp-01"].value(Aspect.AGENT)["installed"] is True
    assert views["vp-01"].value(Aspect.NAME) == {"computer_name": "mayphuong", "pending_name": "VP-PHUONGNT"}
    assert views["vp-01"].value(Aspect.CONTACT) == {"status": "ok", "reason": None}
    assert views["vp-01"].last_run_id == 2
    assert views["vp-02"].value(Aspect.CONTACT)["reason"] == "connection refused"
    assert new_run == 3
    with sqlite3.connect(first_release_store) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
        indexes = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"operator", "controller", "pid"} <= columns
    assert {"observations_by_host_aspect", "observations_by_run"}.isdisjoint(indexes)
    assert "observations_by_host" in indexes


def test_a_first_release_store_opened_read_only_is_read_upgraded_and_left_untouched(
    first_release_store: Path,
) -> None:
    before = first_release_store.read_bytes()
    with open_store(first_release_store, readonly=True) as store:
        assert store.schema_version() == SCHEMA_VERSION
        runs = store.runs()
        views = store.views()
    assert [run.status for run in runs] == ["ok", "interrupted"]
    assert views["vp-01"].value(Aspect.AGENT)["installed"] is True
    assert first_release_store.read_bytes() == before
    with sqlite3.connect(first_release_store) as db:
        assert db.execute("SELECT max(version) FROM schema_version").fetchone() == (1,)
        assert db.execute("SELECT status FROM runs WHERE id = 2").fetchone() == ("running",)


def test_an_older_postgresql_store_is_not_upgraded_by_a_reader(postgres: ScratchPostgres) -> None:
    url = postgres.fresh_store("first_release_shape")
    for statement in MIGRATIONS[0].sql("postgresql"):
        raw_query(url, statement)
    raw_query(url, "INSERT INTO schema_version (version) VALUES (1)")
    with pytest.raises(StoreError) as caught:
        open_store(url, readonly=True)
    assert str(caught.value) == (
        f"state store {mask_password(url)} has an older schema and is opened read-only: "
        "open it once for writing (any playbook run does) to upgrade it"
    )
    with open_store(url) as store:
        assert store.schema_version() == SCHEMA_VERSION


def test_a_scratch_cluster_that_cannot_start_says_why() -> None:
    cluster = ScratchPostgres()
    try:
        cluster.start()
        with pytest.raises(PostgresUnavailable, match=r"^initdb failed: "):
            cluster.start()  # its data directory exists now
    finally:
        cluster.stop()
    assert not cluster.directory.exists()


def test_console_exports_are_recorded_once_and_the_latest_by_export_time_is_read(store_location: str) -> None:
    """Migration 4 on each backend: an export is one row; the same digest twice is one; the latest
    export time wins whatever the order of the imports."""
    entries = [{"row": 2, "computer_name": "VP-THANGPV", "last_seen": "2026-12-04T00:00:00Z"}]
    now = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)
    with open_store(store_location) as store:
        assert store.latest_console_export() is None
        newer = dict(exported_at=datetime(2026, 12, 4, 1, 0, tzinfo=UTC), source="b.csv", digest="b" * 64)
        older = dict(exported_at=datetime(2026, 12, 1, 1, 0, tzinfo=UTC), source="a.csv", digest="a" * 64)
        assert store.record_console_export(**newer, entries=entries, inventory="inv", now=now) == (1, True)
        assert store.record_console_export(**older, entries=[], inventory="inv", now=now) == (2, True)
        assert store.record_console_export(**newer, entries=entries, inventory="inv", now=now) == (1, False)
    with open_store(store_location, readonly=True) as store:
        latest = store.latest_console_export()
    assert latest is not None
    assert (latest.id, latest.source, latest.exported_at, latest.entries) == (
        1,
        "b.csv",
        datetime(2026, 12, 4, 1, 0, tzinfo=UTC),
        tuple(entries),
    )
    assert raw_query(store_location, "SELECT count(*) FROM console_exports") == [(2,)]
