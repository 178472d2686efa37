"""The store's read window (``since_run``) and the progress helpers the demo relies on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from agentroll.model import Aspect
from agentroll.store import Store

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
INSTALLED = {"installed": True, "version": "1.0.0", "service_state": "running", "start_mode": "auto"}
MISSING = {"installed": False, "version": None, "service_state": None, "start_mode": None}
REFUSED = {"status": "unreachable", "reason": "connection refused"}


def _two_demos(path: Path) -> tuple[int, int]:
    """An earlier demo saw pc-1 with the agent; the later one could not reach it and saw pc-2 without."""
    with Store(path) as store:
        earlier = store.start_run("site.yml", started_at=T0)
        store.record(earlier, "pc-1", [(Aspect.AGENT, INSTALLED)], observed_at=T0)
        store.finish_run(earlier, "ok", finished_at=T0)
        later = store.start_run("preflight.yml", started_at=T0 + timedelta(days=1))
        store.record(later, "pc-1", [(Aspect.CONTACT, REFUSED)], observed_at=T0 + timedelta(days=1))
        store.record(later, "pc-2", [(Aspect.AGENT, MISSING)], observed_at=T0 + timedelta(days=1))
    return earlier, later


def test_without_a_window_everything_is_seen(tmp_path: Path) -> None:
    earlier, later = _two_demos(tmp_path / "state.sqlite")
    with Store(tmp_path / "state.sqlite") as store:
        assert [run.id for run in store.runs()] == [earlier, later]
        views = store.views()
        assert views["pc-1"].value(Aspect.AGENT) == INSTALLED  # old knowledge still counts
        assert store.since_run is None


def test_window_hides_earlier_runs_from_runs_and_views(tmp_path: Path) -> None:
    _, later = _two_demos(tmp_path / "state.sqlite")
    with Store(tmp_path / "state.sqlite", since_run=later) as store:
        assert [run.id for run in store.runs()] == [later]
        views = store.views()
        assert views["pc-1"].value(Aspect.AGENT) is None
        assert views["pc-1"].value(Aspect.CONTACT) == REFUSED
        assert views["pc-1"].last_run_id == later
        assert views["pc-2"].value(Aspect.AGENT) == MISSING
        # as_of_run and the window combine.
        assert store.views(as_of_run=later - 1) == {}


def test_window_does_not_change_writes(tmp_path: Path) -> None:
    _, later = _two_demos(tmp_path / "state.sqlite")
    with Store(tmp_path / "state.sqlite", since_run=later + 1) as store:
        assert store.views() == {}
        run = store.start_run("site.yml")
        store.record(run, "pc-3", [(Aspect.AGENT, MISSING)])
        assert set(store.views()) == {"pc-3"}
    with Store(tmp_path / "state.sqlite") as store:
        assert set(store.views()) == {"pc-1", "pc-2", "pc-3"}


def test_last_run_id_and_hosts_observed(tmp_path: Path) -> None:
    with Store(tmp_path / "state.sqlite") as store:
        assert store.last_run_id() == 0
        assert store.hosts_observed(0) == 0
    earlier, later = _two_demos(tmp_path / "state.sqlite")
    with Store(tmp_path / "state.sqlite", since_run=later + 5) as store:
        assert store.last_run_id() == later  # the window does not hide what exists
        assert store.hosts_observed(earlier) == 2
        assert store.hosts_observed(later) == 0
        assert store.hosts_observed(0) == 2
