"""The straggler rerun loop: which hosts each round targets, and when it stops."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from agentroll.model import Aspect
from agentroll.rerun import rerun
from agentroll.store import Store

#: Later than every observation of the tiny district's recorded history.
AFTER_TINY_HISTORY = datetime(2030, 1, 1, tzinfo=UTC)
TINY_STRAGGLERS = ["tp-01", "tp-02", "vp-02", "vp-05", "xa-02"]


class RecordingRunner:
    """Stands for ansible-playbook: remembers each command and, optionally, fixes hosts."""

    def __init__(self, store_path: Path | None = None, fixes: list[list[str]] | None = None) -> None:
        self.commands: list[list[str]] = []
        self.limits: list[list[str]] = []
        self.store_path = store_path
        self.fixes = list(fixes or [])

    def __call__(self, command: list[str]) -> int:
        self.commands.append(command)
        limit = Path(command[command.index("--limit") + 1].removeprefix("@"))
        self.limits.append(limit.read_text(encoding="utf-8").split())
        if self.fixes and self.store_path is not None:
            self._mark_gone(self.fixes.pop(0))
        return 2

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


def run_loop(inventory: Path, state: Path, tmp_path: Path, runner: RecordingRunner, **options: object):
    return rerun(
        inventory,
        state=state,
        limit_file=tmp_path / "limit.txt",
        runner=runner,
        say=lambda _: None,
        extra_args=("--forks", "7"),
        **options,
    )


def test_each_round_targets_the_stragglers_through_limit_file(
    tiny_inventory_dir: Path, tiny_store_path: Path, tmp_path: Path
) -> None:
    runner = RecordingRunner()
    outcome = run_loop(tiny_inventory_dir, tiny_store_path, tmp_path, runner, rounds=2)
    assert runner.limits == [TINY_STRAGGLERS, TINY_STRAGGLERS]
    assert outcome.rounds == [TINY_STRAGGLERS, TINY_STRAGGLERS]
    assert outcome.remaining == TINY_STRAGGLERS and not outcome.converged
    command = runner.commands[0]
    assert command[1:3] == ["-i", str(tiny_inventory_dir)]
    assert command[-4:] == ["--limit", f"@{tmp_path / 'limit.txt'}", "--forks", "7"]


def test_stop_when_unchanged_ends_after_a_round_that_changed_nothing(
    tiny_inventory_dir: Path, tiny_store_path: Path, tmp_path: Path
) -> None:
    runner = RecordingRunner()
    outcome = run_loop(
        tiny_inventory_dir, tiny_store_path, tmp_path, runner, rounds=3, stop_when_unchanged=True
    )
    assert len(runner.commands) == 1
    assert outcome.remaining == TINY_STRAGGLERS


def test_the_loop_ends_as_soon_as_no_straggler_is_left(
    tiny_inventory_dir: Path, tiny_store_path: Path, tmp_path: Path
) -> None:
    runner = RecordingRunner(tiny_store_path, fixes=[["tp-01", "tp-02"], ["vp-02", "vp-05", "xa-02"]])
    outcome = run_loop(
        tiny_inventory_dir, tiny_store_path, tmp_path, runner, rounds=5, stop_when_unchanged=True
    )
    assert runner.limits == [TINY_STRAGGLERS, ["vp-02", "vp-05", "xa-02"]]
    assert outcome.converged


def test_at_least_one_round(tiny_inventory_dir: Path, tiny_store_path: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="rounds must be at least 1"):
        run_loop(tiny_inventory_dir, tiny_store_path, tmp_path, RecordingRunner(), rounds=0)
