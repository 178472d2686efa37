"""The watch loop on its own: rounds, attempts, the deadline, a stop and its continuation, one watcher.

Playbook runs are played by a stand-in that records what the real playbooks would (a contact for
each PC that answers, a magic packet for each woken one, a compliant PC after a deployment); the
real ``ansible-playbook`` over WinRM is in tests/integration/test_watch.py.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from agentroll.cli import main
from agentroll.inventory import load_inventory
from agentroll.model import Aspect
from agentroll.runner import PlaybookRun, RunResult
from agentroll.store import open_store
from agentroll.store.coordination import AttemptSummary
from agentroll.watch import (
    WatchError,
    end_of_day,
    inventory_deadline,
    parse_every,
    parse_until,
    watch,
)

#: The watch starts now by the real clock: the watch this test's process (or a child) holds must not
#: look older than the process holding it, and the inventory's deadline must still lie ahead.
START = datetime.now(UTC).replace(microsecond=0)
#: The inventory's deadline, thirteen days after the start (a date: the end of that day, UTC+7).
DEADLINE = (START + timedelta(days=13)).date().isoformat()
UNITS = {
    "tp": {
        "vars": {
            "agentroll_unit_code": "TP",
            "agentroll_unit_name": "Phòng Tư pháp",
            "agentroll_licenses": 3,
        },
        "hosts": {"tp-01": None, "tp-02": None, "tp-03": None},
    }
}
COMPLIANT = {
    Aspect.AGENT: {
        "installed": True,
        "version": "1.0",
        "service_name": "A",
        "service_state": "running",
        "start_mode": "auto",
    },
    Aspect.ELIGIBILITY: {"eligible": True, "reasons": []},
    Aspect.REBOOT: {"pending": False, "reason": None},
}
STANDARD = {"tp-01": "TP-PC01", "tp-02": "TP-PC02", "tp-03": "TP-PC03"}


def write_inventory(directory: Path, deadline: str | None = "2026-12-15") -> Path:
    units_group: dict[str, Any] = {"children": UNITS}
    if deadline:
        units_group["vars"] = {"agentroll_deadline": deadline}
    document = {"all": {"children": {"units": units_group}}}
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "hosts.yml").write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return directory


@dataclass
class Fleet:
    """Which PCs answer in which round, and what the stand-in playbooks recorded."""

    state: str
    #: host → the first round in which it answers (woken by its magic packet or switched on).
    answers_from: dict[str, int]
    wakes: set[str] = field(default_factory=set)
    round: int = 0
    plays: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    def run(self, run: PlaybookRun, label: str) -> RunResult:
        hosts = tuple(Path(str(run.limit)[1:]).read_text().split())
        name = Path(str(run.playbook)).name
        self.plays.append((name, hosts))
        now = START + timedelta(minutes=self.round)
        with open_store(self.state) as store:
            run_id = store.start_run(name, started_at=now)
            for host in hosts:
                answers = self.round >= self.answers_from.get(host, 10**6)
                if name == "wake.yml":
                    rows: list[tuple[Aspect, dict[str, Any]]] = []
                    if host in self.wakes:
                        rows.append((Aspect.WAKE, {"mac": "x", "answered": answers}))
                    status = "ok" if answers else "unreachable"
                    rows.append((Aspect.CONTACT, {"status": status, "reason": None}))
                    store.record(run_id, host, rows, now)
                else:
                    assert answers, f"{host} deployed to without answering"
                    name_value = {"computer_name": STANDARD[host], "pending_name": None}
                    store.record(run_id, host, [*COMPLIANT.items(), (Aspect.NAME, name_value)], now)
            store.finish_run(run_id, "ok", finished_at=now)
        return RunResult("successful", 0, {"ok": dict.fromkeys(hosts, 1)}, (), None, 1.0)


class Clock:
    """A clock the watch's sleeps move (and that moves one round on per sleep)."""

    def __init__(self, fleet: Fleet, stop_at_sleep: int | None = None) -> None:
        self.now = START
        self.fleet = fleet
        self.sleeps: list[float] = []
        self.stop_at_sleep = stop_at_sleep

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.stop_at_sleep is not None and len(self.sleeps) == self.stop_at_sleep:
            raise KeyboardInterrupt
        self.now += timedelta(seconds=seconds)
        self.fleet.round += 1


@pytest.fixture
def inventory(tmp_path: Path) -> Path:
    return write_inventory(tmp_path / "inventory", deadline=DEADLINE)


@pytest.fixture
def state(tmp_path: Path) -> Iterator[str]:
    yield str(tmp_path / "state.sqlite")


def run_watch(inventory: Path, fleet: Fleet, clock: Clock, lines: list[str], **options: Any) -> Any:
    return watch(
        inventory,
        state=fleet.state,
        template="{{ unit_code }}-{{ short }}",
        limit_dir=inventory.parent,
        run=fleet.run,
        now=lambda: clock.now,
        sleep=clock.sleep,
        say=lines.append,
        **{"every": 600.0, **options},
    )


def test_each_round_wakes_the_stragglers_and_deploys_to_those_that_answered(
    inventory: Path, state: str
) -> None:
    fleet = Fleet(state, answers_from={"tp-01": 0, "tp-02": 1, "tp-03": 2}, wakes={"tp-02"})
    clock, lines = Clock(fleet), []
    outcome = run_watch(inventory, fleet, clock, lines)
    assert outcome.status == "done" and outcome.remaining == []
    assert [(r.number, r.stragglers, r.wake_sent, r.answered) for r in outcome.rounds] == [
        (1, ("tp-01", "tp-02", "tp-03"), ("tp-02",), ("tp-01",)),
        (2, ("tp-02", "tp-03"), ("tp-02",), ("tp-02",)),
        (3, ("tp-03",), (), ("tp-03",)),
    ]
    assert fleet.plays == [
        ("wake.yml", ("tp-01", "tp-02", "tp-03")),
        ("site.yml", ("tp-01",)),
        ("wake.yml", ("tp-02", "tp-03")),
        ("site.yml", ("tp-02",)),
        ("wake.yml", ("tp-03",)),
        ("site.yml", ("tp-03",)),
    ]
    assert clock.sleeps == [600.0, 600.0]
    with open_store(state, readonly=True) as store:
        assert store.attempt_summaries() == {
            "tp-01": AttemptSummary(1, 1, START),
            "tp-02": AttemptSummary(2, 1, START),
            "tp-03": AttemptSummary(3, 1, START),
        }
    assert lines[-1] == "agentroll watch: no straggler left"
    assert "agentroll watch: round 2: 1 magic packet(s) sent, 1 answered and deployed to, 1 silent" in lines


def test_the_watch_stops_at_the_deadline_with_the_silent_ones_left(inventory: Path, state: str) -> None:
    fleet = Fleet(state, answers_from={"tp-01": 0, "tp-02": 0})
    clock, lines = Clock(fleet), []
    outcome = run_watch(inventory, fleet, clock, lines, until=START + timedelta(minutes=25))
    assert outcome.status == "deadline" and outcome.remaining == ["tp-03"]
    # Rounds at 0, 10 and 20 minutes; the last wait ends at the deadline, not after it.
    assert len(outcome.rounds) == 3 and clock.sleeps == [600.0, 600.0, 300.0]
    assert lines[-1] == "agentroll watch: deadline passed; 1 straggler(s) left"
    with open_store(state, readonly=True) as store:
        assert store.attempt_summaries(["tp-03"]) == {"tp-03": AttemptSummary(3, 0, START)}
        assert [run.playbook for run in store.runs()].count("site.yml") == 1


def test_a_stopped_watch_is_continued_with_its_deadline_rounds_and_attempts(
    inventory: Path, state: str
) -> None:
    fleet = Fleet(state, answers_from={"tp-01": 0, "tp-02": 0, "tp-03": 3})
    clock, lines = Clock(fleet, stop_at_sleep=2), []
    until = START + timedelta(days=2)
    with pytest.raises(KeyboardInterrupt):
        run_watch(inventory, fleet, clock, lines, until=until)
    assert lines[-1] == "agentroll watch: stopped; run it again to continue this watch"
    fleet.round = 3
    clock.stop_at_sleep = None
    later_lines: list[str] = []
    again = run_watch(inventory, fleet, clock, later_lines)
    assert again.status == "done"
    started_locally = (START + timedelta(hours=7)).strftime("%Y-%m-%d %H:%M")  # Asia/Ho_Chi_Minh, UTC+7
    assert later_lines[0].startswith(
        f"agentroll watch: continuing the watch started {started_locally} (2 round(s) so far)"
    )
    assert [r.number for r in again.rounds] == [3]
    with open_store(state, readonly=True) as store:
        assert store.attempt_summaries(["tp-03"]) == {"tp-03": AttemptSummary(3, 1, START)}
        assert store.watch(again.watch_id).until == until


def _hold_the_watch(inventory: str, state: str, ready: Any, release: Any) -> None:
    # This child process starts after the test module's START: its watch starts at its own "now".
    now = datetime.now(UTC)
    with open_store(state) as store:
        store.open_watch(inventory, until=now + timedelta(days=1), every_seconds=60, pid=os.getpid(), now=now)
    ready.set()
    release.wait(60)


def test_one_process_watches_an_inventory_at_a_time(inventory: Path, state: str) -> None:
    context = multiprocessing.get_context("spawn")
    ready, release = context.Event(), context.Event()
    other = context.Process(target=_hold_the_watch, args=(str(inventory.resolve()), state, ready, release))
    other.start()
    try:
        assert ready.wait(60)
        fleet = Fleet(state, answers_from={})
        with pytest.raises(WatchError, match=f"is already watched by pid {other.pid} on "):
            run_watch(inventory, fleet, Clock(fleet), [])
        assert fleet.plays == []
    finally:
        release.set()
        other.join(60)
    # Its holder gone, the watch is taken over.
    fleet = Fleet(state, answers_from={"tp-01": 0, "tp-02": 0, "tp-03": 0})
    assert run_watch(inventory, fleet, Clock(fleet), []).status == "done"


def test_a_watch_needs_a_deadline(tmp_path: Path, state: str) -> None:
    inventory = write_inventory(tmp_path / "undated", deadline=None)
    fleet = Fleet(state, answers_from={})
    with pytest.raises(
        WatchError, match="no deadline to watch until: give --until, or set agentroll_deadline"
    ):
        run_watch(inventory, fleet, Clock(fleet), [])


def test_durations_and_deadlines_as_the_operator_writes_them() -> None:
    assert [parse_every(text) for text in ("10m", "90s", "1h", "45", "1.5m")] == [600, 90, 3600, 45, 90]
    for bad in ("soon", "0.5s", "-1m"):
        with pytest.raises(ValueError, match=f"--every {bad!r}"):
            parse_every(bad)
    # A date is the end of that day in the district's time zone (UTC+7 by default).
    assert parse_until("2026-12-15") == datetime(2026, 12, 15, 17, 0, tzinfo=UTC)
    assert parse_until("2026-12-15T08:30") == datetime(2026, 12, 15, 1, 30, tzinfo=UTC)
    assert parse_until("2026-12-15T08:30+00:00") == datetime(2026, 12, 15, 8, 30, tzinfo=UTC)
    assert parse_until("2026-12-15", "Europe/Paris") == datetime(2026, 12, 15, 23, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="--until 'Friday': give a date"):
        parse_until("Friday")
    assert end_of_day(datetime(2026, 12, 15).date()) == datetime(2026, 12, 15, 17, 0, tzinfo=UTC)


def test_the_inventorys_deadline_is_its_latest(tmp_path: Path) -> None:
    assert inventory_deadline(load_inventory(write_inventory(tmp_path / "a"))) == datetime(
        2026, 12, 15, 17, 0, tzinfo=UTC
    )
    assert inventory_deadline(load_inventory(write_inventory(tmp_path / "b", deadline=None))) is None


def test_the_command_line_refuses_a_bad_interval_or_deadline_in_one_line(
    inventory: Path, state: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["watch", "-i", str(inventory), "--state", state, "--every", "soon"])
    assert stopped.value.code == 2
    assert "--every 'soon': give a duration such as 10m, 90s or 1h" in capsys.readouterr().err
    assert main(["watch", "-i", str(inventory), "--state", state, "--until", "Friday"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "agentroll: error: --until 'Friday': give a date (2026-12-15) or a date and time (2026-12-15T17:00)"
    ]
