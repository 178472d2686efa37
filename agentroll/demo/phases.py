"""One ansible-playbook run of the demo (a phase), with its progress line and its log."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from agentroll.demo.settings import DemoError, Settings, shown
from agentroll.demo.state import runs_recorded
from agentroll.runner import PlaybookRun, ProgressLine, RunResult, Snapshot, run_playbook
from agentroll.runner.display import duration

LOG_TAIL_LINES = 20
EXIT_MEANINGS = {0: "all ok", 2: "some hosts failed", 4: "some hosts unreachable"}


@dataclass(frozen=True)
class PhaseResult:
    """How a phase ended."""

    number: int
    name: str
    result: RunResult


def playbook_run(settings: Settings, playbook: str, hosts: int) -> PlaybookRun:
    """A run of one of the project's playbooks on the demo inventory, every PC."""
    return PlaybookRun(
        settings.root / "playbooks" / playbook,
        settings.inventory,
        env=settings.run_env,
        forks=settings.forks,
        hosts=hosts,
    )


def run_phase(settings: Settings, number: int, name: str, run: PlaybookRun, out: TextIO) -> PhaseResult:
    """Run one phase, showing its progress on ``out``; a run that broke raises ``DemoError``.

    The phase's output goes to ``logs/NN-name.log`` in the report folder.
    """
    log = settings.log_dir / f"{number:02d}-{name}.log"
    line = ProgressLine(out)
    recorded_before = runs_recorded(settings.state)

    def show(snapshot: Snapshot) -> None:
        step = f"{snapshot.current} · " if snapshot.current else ""
        line.update(f"  {name}: {step}{duration(snapshot.seconds)}")

    result = run_playbook(run, log=log, on_progress=show)
    processed = len(result.stats.get("processed", {}))
    steps = "".join(f" · {step}" for step in result.steps)
    meaning = EXIT_MEANINGS.get(result.rc, "error")
    line.done(
        f"  {name}: {processed}/{run.hosts} hosts in {duration(result.seconds)} "
        f"(exit {result.rc}: {meaning}){steps}"
    )
    recorded = runs_recorded(settings.state) > recorded_before
    if not result.completed or not recorded:
        _show_log_tail(log)
        why = f"exit code {result.rc}" if recorded else "no run was recorded in the state store"
        raise DemoError(f"{name} failed ({why}); full log: {shown(log)}")
    return PhaseResult(number, name, result)


def _show_log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> None:
    """The last lines of a failed phase's log, on standard error."""
    try:
        tail = path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    except OSError:
        return
    print(f"--- last {len(tail)} lines of {shown(path)} ---", file=sys.stderr)
    for text in tail:
        print(text, file=sys.stderr)
    print("---", file=sys.stderr)
