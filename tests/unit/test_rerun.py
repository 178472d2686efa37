"""The straggler rerun loop: which hosts each round targets, what each run is given, when it stops.

Here a round stands in for ansible-playbook (it records what it was asked and may mark hosts done in
the store); tests/integration/test_runner.py and test_district.py run the loop for real.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agentroll.model import Aspect
from agentroll.rerun import RerunError, rerun
from agentroll.runner import PlaybookRun, RunResult
from agentroll.store import Store

#: Later than every observation of the tiny district's recorded history.
AFTER_TINY_HISTORY = datetime(2030, 1, 1, tzinfo=UTC)
TINY_STRAGGLERS = ["tp-01", "tp-02", "vp-02", "vp-05", "xa-02"]


class RecordingRound:
    """Stands for one ansible-playbook run: remembers each run and, optionally, fixes hosts."""

    def __init__(
        self, store_path: Path | None = None, fixes: list[list[str]] | None = None, rc: int = 2
    ) -> None:
        self.runs: list[PlaybookRun] = []
        self.limits: list[list[str]] = []
        self.store_path = store_path
        self.fixes = list(fixes or [])
        self.rc = rc

    def __call__(self, run: PlaybookRun) -> RunResult:
        self.runs.append(run)
        assert run.limit is not None
        self.limits.append(Path(run.limit.removeprefix("@")).read_text(encoding="utf-8").split())
        if self.fixes and self.store_path is not None:
            self._mark_gone(self.fixes.pop(0))
        stats = {"processed": {host: 1 for host in self.limits[-1]}} if self.rc in (0, 2, 4) else {}
        return RunResult("failed", self.rc, stats, (), None, 0.1)

    def _mark_gone(self, hosts: list[str]) -> None:
        """Record the hosts as ineligible: no rerun should target them any more."""
        with Store(self.store_path) as store:
            run_id = store.start_run("site.yml")
            for host in hosts:
                store.record(
                    run_id,
                    host,
                    [
                        (Aspect.CONTACT, {"status": "ok", "reason": None}),
                        (Aspect.ELIGIBILITY, {"eligible": False, "reasons": ["RAM 1024 MB < 2048 MB"]}),
                        (Aspect.AGENT, {"installed": False}),
                    ],
                    AFTER_TINY_HISTORY,
                )
            store.finish_run(run_id, "ok")


def run_loop(inventory: Path, state: Path, tmp_path: Path, round_: RecordingRound, **options: object):
    return rerun(
        inventory,
        state=state,
        limit_file=tmp_path / "limit.txt",
        run_round=round_,
        say=lambda _: None,
        extra_args=("--skip-tags", "rename"),
        forks=7,
        **options,
    )


def test_each_round_targets_the_stragglers_through_the_limit_file(
    tiny_inventory_dir: Path, tiny_store_path: Path, tmp_path: Path
) -> None:
    round_ = RecordingRound()
    before = dict(os.environ)
    outcome = run_loop(
        tiny_inventory_dir, tiny_store_path, tmp_path, round_, rounds=2, env={"AGENTROLL_REPORT_DIR": "/r"}
    )
    assert round_.limits == [TINY_STRAGGLERS, TINY_STRAGGLERS]
    assert outcome.rounds == [TINY_STRAGGLERS, TINY_STRAGGLERS]
    assert outcome.remaining == TINY_STRAGGLERS and not outcome.converged
    run = round_.runs[0]
    assert (run.playbook, run.inventory) == (Path("playbooks/site.yml"), tiny_inventory_dir)
    assert run.limit == f"@{tmp_path / 'limit.txt'}"
    assert (run.forks, run.args, run.hosts) == (7, ("--skip-tags", "rename"), 5)
    # The state goes to the runs in their environment; this process's environment is left alone.
    assert run.env == {"AGENTROLL_REPORT_DIR": "/r", "AGENTROLL_STATE": str(tiny_store_path)}
    assert dict(os.environ) == before


def test_stop_when_unchanged_ends_after_a_round_that_changed_nothing(
    tiny_inventory_dir: Path, tiny_store_path: Path, tmp_path: Path
) -> None:
    round_ = RecordingRound()
    outcome = run_loop(
        tiny_inventory_dir, tiny_store_path, tmp_path, round_, rounds=3, stop_when_unchanged=True
    )
    assert len(round_.runs) == 1
    assert outcome.remaining == TINY_STRAGGLERS


def test_the_loop_ends_as_soon_as_no_straggler_is_left(
    tiny_inventory_dir: Path, tiny_store_path: Path, tmp_path: Path
) -> None:
    round_ = RecordingRound(tiny_store_path, fixes=[["tp-01", "tp-02"], ["vp-02", "vp-05", "xa-02"]])
    messages: list[str] = []
    outcome = rerun(
        tiny_inventory_dir,
        state=tiny_store_path,
        limit_file=tmp_path / "limit.txt",
        rounds=5,
        run_round=round_,
        say=messages.append,
    )
    assert round_.limits == [TINY_STRAGGLERS, ["vp-02", "vp-05", "xa-02"]]
    assert outcome.converged and outcome.remaining == []
    assert messages[-1] == "no straggler left after 2 round(s)"


def test_at_least_one_round(tiny_inventory_dir: Path, tiny_store_path: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="rounds must be at least 1"):
        run_loop(tiny_inventory_dir, tiny_store_path, tmp_path, RecordingRound(), rounds=0)


def test_a_state_database_that_does_not_exist_is_one_line(tiny_inventory_dir: Path, tmp_path: Path) -> None:
    round_ = RecordingRound()
    missing = tmp_path / "nowhere.sqlite"
    with pytest.raises(RerunError) as caught:
        run_loop(tiny_inventory_dir, missing, tmp_path, round_)
    assert str(caught.value) == f"state store {missing} does not exist: run a playbook first, or give --state"
    assert round_.runs == [] and not missing.exists()


def test_a_round_that_did_not_run_stops_the_loop(
    tiny_inventory_dir: Path, tiny_store_path: Path, tmp_path: Path
) -> None:
    round_ = RecordingRound(rc=1)  # e.g. a playbook that does not exist
    with pytest.raises(RerunError, match=r"^round 1: ansible-playbook stopped with exit code 1$"):
        run_loop(tiny_inventory_dir, tiny_store_path, tmp_path, round_, rounds=3)
    assert len(round_.runs) == 1
