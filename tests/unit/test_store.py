"""The state store on both backends: round trips, latest views, timelines, concurrency, secrets, bad input."""

from __future__ import annotations

import multiprocessing
import os
import socket
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agentroll.model import Aspect
from agentroll.store import SCHEMA_VERSION, Store, StoreError, is_secret_key, open_store, scrub
from agentroll.store.location import parse_location
from tests.unit.store_support import everything_stored, raw_query

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
INSTALLED = {"installed": True, "version": "7.1"}


def test_run_and_observation_round_trip(store_location: str) -> None:
    with open_store(store_location) as store:
        run_id = store.start_run(
            "deploy.yml",
            inventory="inv/demo",
            limit="@stragglers",
            check_mode=True,
            started_at=T0,
            operator="Phạm Văn Thắng",
            controller="ctl-1",
            pid=4242,
        )
        store.record(
            run_id,
            "pc-1",
            [(Aspect.AGENT, INSTALLED), (Aspect.NAME, {"computer_name": "VP-THANGPV", "pending_name": None})],
            observed_at=T0 + timedelta(minutes=1),
        )
        store.finish_run(run_id, "ok", finished_at=T0 + timedelta(minutes=2))
    with open_store(store_location) as store:
        [run] = store.runs()
        views = store.views()
    assert (run.id, run.playbook, run.limit, run.check_mode, run.status) == (
        run_id,
        "deploy.yml",
        "@stragglers",
        True,
        "ok",
    )
    assert (run.operator, run.controller, run.pid) == ("Phạm Văn Thắng", "ctl-1", 4242)
    assert run.started_at == T0 and run.finished_at == T0 + timedelta(minutes=2)
    view = views["pc-1"]
    assert view.value(Aspect.AGENT) == INSTALLED
    assert view.latest[Aspect.NAME].observed_at == T0 + timedelta(minutes=1)
    assert view.last_run_id == run_id
    assert view.last_seen == T0 + timedelta(minutes=1)


def test_a_run_records_who_where_and_which_process_by_default(
    store_location: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTROLL_OPERATOR", "Nguyễn Thị Phương")
    with open_store(store_location) as store:
        store.start_run("verify.yml")
        [run] = store.runs()
    assert (run.operator, run.controller, run.pid) == ("Nguyễn Thị Phương", socket.gethostname(), os.getpid())


def test_view_is_latest_per_aspect_and_keeps_older_aspects(store_location: str) -> None:
    with open_store(store_location) as store:
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


def test_latest_is_by_observation_time_not_by_run(store_location: str) -> None:
    """A later run that reports an older observation (a clock behind) does not hide a newer one."""
    with open_store(store_location) as store:
        first = store.start_run("a.yml", started_at=T0)
        store.record(first, "pc-1", [(Aspect.AGENT, {"installed": True})], T0 + timedelta(hours=2))
        second = store.start_run("b.yml", started_at=T0 + timedelta(hours=1))
        store.record(second, "pc-1", [(Aspect.AGENT, {"installed": False})], T0 + timedelta(hours=1))
        view = store.views()["pc-1"]
    assert view.value(Aspect.AGENT) == {"installed": True}
    assert view.last_run_id == second


def test_same_time_observations_resolve_by_insertion_order(store_location: str) -> None:
    with open_store(store_location) as store:
        run = store.start_run("p.yml")
        store.record(run, "pc-1", [(Aspect.AGENT, {"installed": False})], T0)
        store.record(run, "pc-1", [(Aspect.AGENT, {"installed": True})], T0)
        assert store.views()["pc-1"].value(Aspect.AGENT) == {"installed": True}


def test_views_as_of_run_and_host_filter(store_location: str) -> None:
    with open_store(store_location) as store:
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


def test_an_aspect_of_a_newer_agentroll_is_not_interpreted_but_its_run_counts(store_location: str) -> None:
    with open_store(store_location) as store:
        first = store.start_run("a.yml", started_at=T0)
        store.record(first, "pc-1", [(Aspect.AGENT, INSTALLED)], T0)
        second = store.start_run("b.yml", started_at=T0 + timedelta(hours=1))
    for host in ("pc-1", "pc-only-seen-by-the-newer"):
        newer = (second, host, "mood", '{"happy": true}', (T0 + timedelta(hours=1)).isoformat())
        raw_query(
            store_location,
            "INSERT INTO observations (run_id, host, aspect, value_json, observed_at) VALUES (?, ?, ?, ?, ?)",
            newer,
        )
    with open_store(store_location, readonly=True) as store:
        views, before = store.views(), store.views(as_of_run=first)
    assert list(views) == ["pc-1"] and set(views["pc-1"].latest) == {Aspect.AGENT}
    assert views["pc-1"].last_run_id == second
    assert list(before) == ["pc-1"] and before["pc-1"].last_run_id == first


def test_timelines_are_in_observation_order_per_host(store_location: str) -> None:
    with open_store(store_location) as store:
        first = store.start_run("a.yml", started_at=T0)
        second = store.start_run("b.yml", started_at=T0 + timedelta(hours=1))
        store.record(second, "pc-1", [(Aspect.AGENT, {"installed": True})], T0 + timedelta(hours=2))
        store.record(first, "pc-1", [(Aspect.AGENT, {"installed": False})], T0 + timedelta(hours=1))
        store.record(first, "pc-2", [(Aspect.AGENT, {"installed": True})], T0 + timedelta(hours=1))
        store.record(first, "pc-2", [(Aspect.CONTACT, {"status": "ok"})], T0 + timedelta(hours=1))
        timelines = store.timelines(Aspect.AGENT)
        only_two = store.timelines(Aspect.AGENT, ["pc-2"])
    assert timelines == {
        "pc-1": [(first, {"installed": False}), (second, {"installed": True})],
        "pc-2": [(first, {"installed": True})],
    }
    assert only_two == {"pc-2": [(first, {"installed": True})]}
    assert timelines["pc-1"][1][1] is timelines["pc-2"][0][1], "equal values are parsed once and shared"


def test_reads_inside_reading_see_one_state(store_location: str) -> None:
    with open_store(store_location) as reader, open_store(store_location) as writer:
        run = writer.start_run("a.yml")
        with reader.reading():
            before = reader.views()
            writer.record(run, "pc-1", [(Aspect.AGENT, INSTALLED)])
            assert reader.views() == before == {}
        assert set(reader.views()) == {"pc-1"}


def test_runs_are_listed_oldest_first_and_unfinished_runs_stay_running(store_location: str) -> None:
    with open_store(store_location) as store:
        ids = [store.start_run(f"p{n}.yml") for n in range(3)]
        store.finish_run(ids[0], "ok")
        runs = store.runs()
    assert [run.id for run in runs] == ids
    assert [run.status for run in runs] == ["ok", "running", "running"]
    assert runs[1].finished_at is None


def test_last_run_id_and_hosts_observed(store_location: str) -> None:
    with open_store(store_location) as store:
        assert (store.last_run_id(), store.hosts_observed(0)) == (0, 0)
        earlier = store.start_run("site.yml")
        store.record(earlier, "pc-1", [(Aspect.AGENT, INSTALLED)])
        later = store.start_run("verify.yml")
        store.record(later, "pc-1", [(Aspect.AGENT, INSTALLED)])
        store.record(later, "pc-2", [(Aspect.AGENT, INSTALLED)])
        assert store.last_run_id() == later
        assert (store.hosts_observed(0), store.hosts_observed(earlier), store.hosts_observed(later)) == (
            2,
            2,
            0,
        )


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
        ("Credentials", True),
        ("version", False),
        ("keyboard_layout", False),
        ("monkey", False),
        ("computer_name", False),
        ("service_state", False),
        ("reason", False),
    ],
)
def test_is_secret_key(key: str, secret: bool) -> None:
    # Asked twice: the second answer comes from the memo and must be the same.
    assert is_secret_key(key) is secret
    assert is_secret_key(key) is secret


def test_scrub_drops_secret_keys_at_any_depth() -> None:
    value = {"ok": 1, "password": "x", "nested": {"api_key": "k", "list": [{"token": "t", "keep": 2}]}}
    assert scrub(value) == {"ok": 1, "nested": {"list": [{"keep": 2}]}}


def test_secrets_never_reach_the_store(store_location: str) -> None:
    with open_store(store_location) as store:
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
    stored = everything_stored(store_location)
    assert "exit 1603" in stored
    assert "SUPERSECRET" not in stored and "hunter2" not in stored


def test_vietnamese_text_round_trips(store_location: str) -> None:
    with open_store(store_location) as store:
        run = store.start_run("p.yml")
        reason = "chờ giấy phép: Phòng Tư pháp"
        store.record(run, "pc-1", [(Aspect.LICENSE, {"granted": False, "reason": reason})])
        assert store.views()["pc-1"].value(Aspect.LICENSE)["reason"] == "chờ giấy phép: Phòng Tư pháp"


def test_bad_inputs_are_refused_with_the_culprit(store_location: str) -> None:
    with open_store(store_location) as store:
        run = store.start_run("p.yml")
        with pytest.raises(ValueError, match="host 'pc-1': unknown observation aspect 'mood'"):
            store.record(run, "pc-1", [("mood", {"happy": True})])
        with pytest.raises(ValueError, match="has no time zone"):
            store.record(run, "pc-1", [(Aspect.AGENT, {})], observed_at=datetime(2026, 1, 1))
        with pytest.raises(ValueError, match="aspect 'agent': value is not JSON"):
            store.record(run, "pc-1", [(Aspect.AGENT, {"when": object()})])
        with pytest.raises(ValueError, match="host 'pc-1': run 999 does not exist"):
            store.record(999, "pc-1", [(Aspect.AGENT, INSTALLED)])
        with pytest.raises(ValueError, match="run 999 does not exist"):
            store.finish_run(999, "ok")
        assert store.views() == {}


def test_a_failed_record_call_writes_nothing(store_location: str) -> None:
    with open_store(store_location) as store:
        run = store.start_run("p.yml")
        with pytest.raises(ValueError):
            store.record(run, "pc-1", [(Aspect.AGENT, INSTALLED), ("bogus", {})])
        assert store.views() == {}


def test_newer_schema_is_refused_in_one_line(store_location: str) -> None:
    open_store(store_location).close()
    raw_query(store_location, "INSERT INTO schema_version (version) VALUES (99)")
    location = parse_location(store_location)
    for readonly in (False, True):
        with pytest.raises(StoreError) as caught:
            open_store(store_location, readonly=readonly)
        message = str(caught.value)
        assert f"has schema version 99; this agentroll knows version {SCHEMA_VERSION} at most" in message
        assert location.shown in message and "\n" not in message


def test_a_failed_read_is_a_one_line_store_error_and_the_store_still_works(store_location: str) -> None:
    with open_store(store_location) as store:
        run = store.start_run("verify.yml", started_at=T0)
        store.record(run, "pc-1", [(Aspect.AGENT, INSTALLED)], T0)
        raw_query(store_location, "ALTER TABLE observations RENAME TO observations_elsewhere")
        for read in (store.views, lambda: store.timelines(Aspect.AGENT)):
            with pytest.raises(StoreError) as caught:
                read()
            message = str(caught.value)
            assert message.startswith(f"state store {parse_location(store_location).shown}: ")
            assert "observations" in message and "\n" not in message
        raw_query(store_location, "ALTER TABLE observations_elsewhere RENAME TO observations")
        assert store.views()["pc-1"].value(Aspect.AGENT) == INSTALLED
        assert [each.id for each in store.runs()] == [run]


def test_a_read_cut_short_inside_a_reading_block_leaves_the_store_usable(store_location: str) -> None:
    """Thousands of rows, the first one unreadable: the read ends there and its rest is dropped at once."""
    with open_store(store_location) as store:
        run = store.start_run("verify.yml", started_at=T0)
    raw_query(
        store_location,
        "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)"
        " INSERT INTO observations (run_id, host, aspect, value_json, observed_at)"
        " SELECT ?, 'pc-' || i, 'agent', '{\"installed\": true}', ? FROM n",
        (run, T0.isoformat()),
    )
    raw_query(store_location, "UPDATE observations SET value_json = '{not json' WHERE host = 'pc-1'")
    seen: dict[str, object] = {}

    def read() -> None:
        with open_store(store_location, readonly=True) as store:
            try:
                with store.reading():
                    store.views()
            except ValueError as error:
                seen["error"] = error
            seen["runs"] = [each.id for each in store.runs()]
            seen["timeline"] = store.timelines(Aspect.AGENT, ["pc-2"])

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=60)
    assert not reader.is_alive(), "the store hung after a read cut short"
    assert isinstance(seen["error"], ValueError)
    assert seen["runs"] == [run]
    assert seen["timeline"] == {"pc-2": [(run, {"installed": True})]}


# -- SQLite files ---------------------------------------------------------------------------------


def test_creates_parent_directory_schema_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "state.sqlite"
    with Store(path):
        pass
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT version FROM schema_version").fetchall() == [
        (version,) for version in range(1, SCHEMA_VERSION + 1)
    ]
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"runs", "observations", "schema_version"} <= tables
    db.close()


def test_sqlite_url_and_bare_path_are_the_same_store(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    with open_store(path) as store:
        store.start_run("a.yml")
    with open_store(f"sqlite://{path}") as store:
        assert [run.playbook for run in store.runs()] == ["a.yml"]


def test_non_sqlite_file_is_a_one_line_error_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    path.write_bytes(b"this is not a database at all, just some text " * 100)
    for readonly in (False, True):
        with pytest.raises(StoreError) as caught:
            Store(path, readonly=readonly)
        assert str(caught.value).startswith(f"state store {path} is not a usable SQLite database: ")
        assert "\n" not in str(caught.value)


def test_unwritable_location_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot open"):
        Store(blocker / "state.sqlite")


# -- PostgreSQL servers ---------------------------------------------------------------------------


def test_unreachable_server_is_a_one_line_error_without_the_password(tmp_path: Path) -> None:
    url = f"postgresql://agentroll:s3cr3t-pw@/agentroll?host={tmp_path}&connect_timeout=2"
    with pytest.raises(StoreError) as caught:
        open_store(url)
    message = str(caught.value)
    assert message.startswith(f"state store postgresql://agentroll:***@/agentroll?host={tmp_path}")
    assert ": cannot connect: " in message
    assert "s3cr3t-pw" not in message and "\n" not in message


def test_postgresql_needs_psycopg_and_says_so(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['psycopg'] = None\n"
        "from agentroll.store import open_store, StoreError\n"
        "try:\n    open_store('postgresql://db.example.org/agentroll')\n"
        "except StoreError as error:\n    print(error)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == (
        "state store postgresql://db.example.org/agentroll: a PostgreSQL store needs the Python package "
        "psycopg (pip install 'psycopg[binary]')\n"
    )


# -- concurrency ----------------------------------------------------------------------------------

RECORDS_PER_WRITER = 200


def _write_many(location: str, writer: int) -> None:
    """Open the store independently (as a second ansible-playbook would) and record many results."""
    with Store(location) as store:
        run = store.start_run(f"writer-{writer}.yml")
        for index in range(RECORDS_PER_WRITER):
            store.record(
                run,
                f"w{writer}-pc-{index:03d}",
                [(Aspect.AGENT, {"installed": True, "n": index}), (Aspect.CONTACT, {"status": "ok"})],
            )
        store.finish_run(run, "ok")


def test_two_processes_writing_at_once_lose_nothing(store_location: str) -> None:
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_write_many, args=(store_location, n)) for n in range(2)]
    for process in writers:
        process.start()
    for process in writers:
        process.join(timeout=120)
        assert process.exitcode == 0
    with open_store(store_location) as store:
        views = store.views()
        runs = store.runs()
    assert len(views) == 2 * RECORDS_PER_WRITER
    assert all(view.value(Aspect.AGENT)["installed"] for view in views.values())
    assert all(len(view.latest) == 2 for view in views.values())
    assert sorted(run.status for run in runs) == ["ok", "ok"]


def test_threads_sharing_one_store_and_threads_with_their_own_lose_nothing(store_location: str) -> None:
    shared = open_store(store_location)
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
            _write_many(store_location, 10 + thread)
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
