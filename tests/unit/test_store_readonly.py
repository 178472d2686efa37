"""Reading without writing: ``agentroll report`` on a store in a read-only place; missing stores."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentroll import cli
from agentroll.store import Store, StoreError, open_store
from tests.unit.conftest import record_tiny_history

AGENTROLL = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "agentroll"


def unprivileged(command: list[str]) -> list[str]:
    """``command`` as a process that file permissions apply to (root drops its capabilities)."""
    if os.geteuid() != 0:
        return command
    return ["setpriv", "--inh-caps=-all", "--bounding-set=-all", "--", *command]


@pytest.fixture
def read_only_place(tmp_path: Path) -> Iterator[Path]:
    """A directory whose permissions are dropped to read-only by ``lock``, restored afterwards."""
    place = tmp_path / "archive"
    place.mkdir()
    yield place
    for path in (place, *place.iterdir()):
        path.chmod(0o755 if path.is_dir() else 0o644)


def hold_open(state: Path) -> sqlite3.Connection:
    """A second connection to a database: while it is open, closing the writer merges no log."""
    keeper = sqlite3.connect(state)
    keeper.execute("SELECT count(*) FROM sqlite_master").fetchone()
    return keeper


def lock(place: Path) -> None:
    for path in place.iterdir():
        path.chmod(0o444)
    place.chmod(0o555)


def report_json(inventory: Path, state: Path | str) -> subprocess.CompletedProcess[str]:
    command = [str(AGENTROLL), "report", "-i", str(inventory), "--state", str(state), "--format", "json"]
    return subprocess.run(unprivileged(command), capture_output=True, text=True, check=False, timeout=120)


def test_report_reads_a_wal_store_in_a_read_only_place(
    tiny_inventory_dir: Path, read_only_place: Path
) -> None:
    state = read_only_place / "state.sqlite"
    with Store(state) as store:
        record_tiny_history(store)
    lock(read_only_place)
    done = report_json(tiny_inventory_dir, state)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["totals"]["installed"], [point["run_id"] for point in report["history"]]) == (4, [1, 2])
    assert sorted(path.name for path in read_only_place.iterdir()) == ["state.sqlite"]


def test_report_reads_what_a_running_writer_has_committed_in_a_read_only_place(
    tiny_inventory_dir: Path, read_only_place: Path
) -> None:
    state = read_only_place / "state.sqlite"
    Store(state).close()
    # Another connection keeps the database open: what the writer commits stays in the -wal file.
    keeper = hold_open(state)
    try:
        with Store(state) as writer:
            record_tiny_history(writer)
        assert (read_only_place / "state.sqlite-wal").stat().st_size > 0
        lock(read_only_place)
        done = report_json(tiny_inventory_dir, state)
    finally:
        read_only_place.chmod(0o755)
        keeper.close()
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["totals"]["installed"] == 4


def test_an_unmerged_log_that_cannot_be_read_read_only_is_a_one_line_error(
    tiny_inventory_dir: Path, read_only_place: Path, tmp_path: Path
) -> None:
    source = tmp_path / "live" / "state.sqlite"
    Store(source).close()
    keeper = hold_open(source)
    with Store(source) as writer:
        record_tiny_history(writer)
    # A copy of the database and its log without the WAL index, e.g. from a backup.
    shutil.copyfile(source, read_only_place / "state.sqlite")
    shutil.copyfile(f"{source}-wal", read_only_place / "state.sqlite-wal")
    keeper.close()
    lock(read_only_place)
    done = report_json(tiny_inventory_dir, read_only_place / "state.sqlite")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"agentroll: error: state store {read_only_place / 'state.sqlite'}: its write-ahead log "
        "state.sqlite-wal holds data that cannot be read from a directory this user cannot write; "
        "open it once where it can be written\n"
    )


def test_a_missing_state_is_an_error_naming_it_and_is_not_created(
    capsys: pytest.CaptureFixture[str], tiny_inventory_dir: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "typo" / "state.sqlite"
    for command in ("report", "stragglers", "names"):
        assert cli.main([command, "-i", str(tiny_inventory_dir), "--state", str(missing)]) == 2
        captured = capsys.readouterr()
        assert (captured.out, captured.err) == (
            "",
            f"agentroll: error: state store {missing} does not exist\n",
        )
    assert not missing.parent.exists()


def test_report_reads_either_backend_by_its_location(
    capsys: pytest.CaptureFixture[str], tiny_inventory_dir: Path, tiny_store: Store, store_location: str
) -> None:
    status = cli.main(
        ["report", "-i", str(tiny_inventory_dir), "--state", store_location, "--format", "json"]
    )
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert json.loads(captured.out)["totals"]["installed"] == 4


def test_a_read_only_store_refuses_writes_in_one_line(store_location: str) -> None:
    open_store(store_location).close()
    with open_store(store_location, readonly=True) as store, pytest.raises(StoreError) as caught:
        store.start_run("site.yml")
    assert str(caught.value) == f"state store {store.shown} is open read-only"


def test_a_place_without_agentroll_data_is_refused_read_only(store_location: str) -> None:
    if not store_location.startswith("postgresql"):
        sqlite3.connect(store_location).close()  # an empty file: SQLite's idea of an empty database
    with pytest.raises(StoreError, match="holds no agentroll data"):
        open_store(store_location, readonly=True)
