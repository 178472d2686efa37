"""The SQLite state store: round trips, latest views, history, concurrency, secrets, bad files."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agentroll.model import Aspect
from agentroll.store import SCHEMA_VERSION, Store, StoreError, default_state_path, is_secret_key, scrub

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def test_default_state_path_prefers_agentroll_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AGENTROLL_STATE", str(tmp_path / "x.sqlite"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert default_state_path() == tmp_path / "x.sqlite"


def test_default_state_path_follows_xdg_then_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("AGENTROLL_STATE", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert default_state_path() == tmp_path / "xdg" / "agentroll" / "state.sqlite"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_state_path() == tmp_path / "home" / ".local" / "state" / "agentroll" / "state.sqlite"


def test_creates_parent_directory_schema_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "state.sqlite"
    with Store(path):
        pass
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"runs", "observations", "schema_version"} <= tables
    db.close()


def test_run_and_observation_round_trip(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        run_id = store.start_run(
            "deploy.yml", inventory="inv/demo", limit="@stragglers", check_mode=True, started_at=T0
        )
        store.record(
            run_id,
            "pc-1",
            [
                (Aspect.AGENT, {"installed": True, "version": "7.1"}),
                (Aspect.NAME, {"computer_name": "VP-THANGPV", "pending_name": None}),
            ],
            observed_at=T0 + timedelta(minutes=1),
        )
        store.finish_run(run_id, "ok", finished_at=T0 + timedelta(minutes=2))
    with Store(tmp_path / "s.sqlite") as store:
        [run] = store.runs()
        views = store.views()
    assert (run.id, run.playbook, run.limit, run.check_mode, run.status) == (
        run_id,
        "deploy.yml",
        "@stragglers",
        True,
        "ok",
    )
    assert run.started_at == T0 and run.finished_at == T0 + timedelta(minutes=2)
    assert run.started_at.tzinfo is not None
    view = views["pc-1"]
    assert view.value(Aspect.AGENT) == {"installed": True, "version": "7.1"}
    assert view.latest[Aspect.NAME].observed_at == T0 + timedelta(minutes=1)
    assert view.last_run_id == run_id
    assert view.last_seen == T0 + timedelta(minutes=1)


def test_view_is_latest_per_aspect_and_keeps_older_aspects(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        first = store.start_run("preflight.yml", started_at=T0)
        store.record(
            first, "pc-1", [(Aspect.AGENT, {"installed": False}), (Aspect.FACTS, {"ram_mb": 4096})], T0
        )
        second = store.start_run("deploy.yml", started_at=T0 + timedelta(hours=1))
        store.record(second, "pc-1", [(Aspect.AGENT, {"installed": True})], T0 + timedelta(hours=1))
        store.record(
            second,
            "pc-2",
            [(Aspect.CONTACT, {"status": "unreachable", "reason": "timed out"})],
            T0 + timedelta(hours=1),
        )
        views = store.views()
    assert views["pc-1"].value(Aspect.AGENT) == {"installed": True}
    assert views["pc-1"].value(Aspect.FACTS) == {"ram_mb": 4096}
    assert views["pc-1"].latest[Aspect.FACTS].run_id == first
    assert views["pc-1"].last_run_id == second


def test_same_time_observations_resolve_by_insertion_order(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        run = store.start_run("p.yml")
        store.record(run, "pc-1", [(Aspect.AGENT, {"installed": False})], T0)
        store.record(run, "pc-1", [(Aspect.AGENT, {"installed": True})], T0)
        assert store.views()["pc-1"].value(Aspect.AGENT) == {"installed": True}


def test_views_as_of_run_and_host_filter(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        first = store.start_run("a.yml", started_at=T0)
        store.record(first, "pc-1", [(Aspect.AGENT, {"installed": False})], T0)
        second = store.start_run("b.yml", started_at=T0 + timedelta(hours=1))
        store.record(second, "pc-1", [(Aspect.AGENT, {"installed": True})], T0 + timedelta(hours=1))
        store.record(second, "pc-2", [(Aspect.AGENT, {"installed": True})], T0 + timedelta(hours=1))
        then = store.views(as_of_run=first)
        only_two = store.views(["pc-2", "pc-9"])
    assert then["pc-1"].value(Aspect.AGENT) == {"installed": False}
    assert then["pc-1"].last_run_id == first
    assert "pc-2" not in then
    assert set(only_two) == {"pc-2"}


def test_runs_are_listed_oldest_first_and_unfinished_runs_stay_running(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        ids = [store.start_run(f"p{n}.yml") for n in range(3)]
        store.finish_run(ids[0], "ok")
        runs = store.runs()
    assert [run.id for run in runs] == ids
    assert [run.status for run in runs] == ["ok", "running", "running"]
    assert runs[1].finished_at is None


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("password", True),
        ("ansible_password", True),
        ("winrm_passwd", True),
        ("api_key", True),
        ("registration_key", True),
        ("registrationKey", True),
        ("access-token", True),
        ("client_secret", True),
        ("key", True),
        ("version", False),
        ("keyboard_layout", False),
        ("monkey", False),
        ("computer_name", False),
        ("service_state", False),
        ("reason", False),
    ],
)
def test_is_secret_key(key: str, secret: bool) -> None:
    assert is_secret_key(key) is secret


def test_scrub_drops_secret_keys_at_any_depth() -> None:
    value = {"ok": 1, "password": "x", "nested": {"api_key": "k", "list": [{"token": "t", "keep": 2}]}}
    assert scrub(value) == {"ok": 1, "nested": {"list": [{"keep": 2}]}}


def test_secrets_never_reach_the_database_file(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with Store(path) as store:
        run = store.start_run("deploy.yml")
        store.record(
            run,
            "pc-1",
            [
                (
                    Aspect.FAILURE,
                    {
                        "task": "install",
                        "reason": "exit 1603",
                        "registration_key": "SUPERSECRET-KEY-123",
                        "args": {"ansible_password": "hunter2"},
                    },
                )
            ],
        )
        kept = store.views()["pc-1"].value(Aspect.FAILURE)
        assert kept == {"task": "install", "reason": "exit 1603", "args": {}}
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"SUPERSECRET" not in raw and b"hunter2" not in raw


def test_vietnamese_text_round_trips(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        run = store.start_run("p.yml")
        reason = "chờ giấy phép: Phòng Tư pháp"
        store.record(run, "pc-1", [(Aspect.LICENSE, {"granted": False, "reason": reason})])
        assert store.views()["pc-1"].value(Aspect.LICENSE)["reason"] == "chờ giấy phép: Phòng Tư pháp"


def test_bad_inputs_are_refused_with_the_culprit(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        run = store.start_run("p.yml")
        with pytest.raises(ValueError, match="host 'pc-1': unknown observation aspect 'mood'"):
            store.record(run, "pc-1", [("mood", {"happy": True})])
        with pytest.raises(ValueError, match="has no time zone"):
            store.record(run, "pc-1", [(Aspect.AGENT, {})], observed_at=datetime(2026, 1, 1))
        with pytest.raises(ValueError, match="aspect 'agent': value is not JSON"):
            store.record(run, "pc-1", [(Aspect.AGENT, {"when": object()})])
        with pytest.raises(ValueError, match="run 999 does not exist"):
            store.record(999, "pc-1", [(Aspect.AGENT, {"installed": True})])
        with pytest.raises(ValueError, match="run 999 does not exist"):
            store.finish_run(999, "ok")
        assert store.views() == {}


def test_a_failed_record_call_writes_nothing(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        run = store.start_run("p.yml")
        with pytest.raises(ValueError):
            store.record(run, "pc-1", [(Aspect.AGENT, {"installed": True}), ("bogus", {})])
        assert store.views() == {}


def test_non_sqlite_file_is_a_one_line_error_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    path.write_bytes(b"this is not a database at all, just some text " * 100)
    with pytest.raises(StoreError) as caught:
        Store(path)
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with Store(path):
        pass
    db = sqlite3.connect(path)
    db.execute("UPDATE schema_version SET version = 99")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="schema version 99"):
        Store(path)


def test_unwritable_location_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot open"):
        Store(blocker / "state.sqlite")


RECORDS_PER_WRITER = 200


def _write_many(path: str, writer: int) -> None:
    """Open the store independently (as a second ansible-playbook would) and record many results."""
    with Store(path) as store:
        run = store.start_run(f"writer-{writer}.yml")
        for index in range(RECORDS_PER_WRITER):
            store.record(
                run,
                f"w{writer}-pc-{index:03d}",
                [(Aspect.AGENT, {"installed": True, "n": index}), (Aspect.CONTACT, {"status": "ok"})],
            )
        store.finish_run(run, "ok")


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_write_many, args=(str(path), n)) for n in range(2)]
    for process in writers:
        process.start()
    for process in writers:
        process.join(timeout=120)
        assert process.exitcode == 0
    with Store(path) as store:
        views = store.views()
        runs = store.runs()
    assert len(views) == 2 * RECORDS_PER_WRITER
    assert all(view.value(Aspect.AGENT)["installed"] for view in views.values())
    assert all(len(view.latest) == 2 for view in views.values())
    assert sorted(run.status for run in runs) == ["ok", "ok"]


def test_threads_sharing_one_store_and_threads_with_their_own_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    shared = Store(path)
    run = shared.start_run("threads.yml")
    errors: list[BaseException] = []

    def shared_writer(thread: int) -> None:
        try:
            for index in range(100):
                shared.record(run, f"shared-{thread}-{index}", [(Aspect.AGENT, {"installed": True})])
        except BaseException as error:  # surfaced through the assertion below
            errors.append(error)

    def own_writer(thread: int) -> None:
        try:
            _write_many(str(path), 10 + thread)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=shared_writer, args=(n,)) for n in range(3)]
    threads += [threading.Thread(target=own_writer, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    views = shared.views()
    shared.close()
    assert len(views) == 3 * 100 + 2 * RECORDS_PER_WRITER
