"""The demo in order: fleet up, dry run, deploy, switched-off PCs back on, reruns, reports."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from agentroll.demo.fleet import load_demo, running_fleet
from agentroll.demo.phases import PhaseResult, playbook_run, run_phase
from agentroll.demo.settings import DemoError, Settings, shown, shown_state
from agentroll.demo.state import check_state_is_empty, start_afresh
from agentroll.demo.summary import (
    Outcome,
    build_report,
    coverage_line,
    listing,
    printer,
    show_dry_run,
    write_reports,
)
from agentroll.model import Inventory
from agentroll.rerun import RerunError, rerun
from agentroll.runner import PlaybookRun, RunResult


def run_demo(settings: Settings, out: TextIO = sys.stdout) -> Outcome:
    """The whole demo; returns what it found. The fleet is stopped whatever happens."""
    started = time.monotonic()
    inventory, fleet = load_demo(settings)
    check_state_is_empty(settings)
    say = printer(out)
    with running_fleet(fleet) as demo_fleet:
        # Only now that the fleet's addresses are ours is the previous demo's state set aside.
        start_afresh(settings)
        say(
            f"agentroll demo: {len(inventory.hosts)} PCs of {len(inventory.units)} units, "
            f"{sum(unit.licenses for unit in inventory.units)} licenses; forks {settings.forks}"
        )
        say(f"  state: {shown_state(settings)}   reports and logs: {shown(settings.report_dir)}")
        say(
            f"\n[1/4] simulated fleet up: {len(fleet.addresses())} Windows PCs on WinRM "
            f"({len(demo_fleet.switched_off)} switched off)"
        )
        say("\n[2/4] dry run: playbooks/preflight.yml")
        hosts = len(inventory.hosts)
        phases = [run_phase(settings, 1, "preflight", playbook_run(settings, "preflight.yml", hosts), out)]
        before = build_report(settings, inventory)
        show_dry_run(before, say)
        say("\n[3/4] install, rename, reboot, verify: playbooks/site.yml")
        phases.append(run_phase(settings, 2, "site", playbook_run(settings, "site.yml", hosts), out))
        say(f"  coverage now: {coverage_line(build_report(settings, inventory))}")
        say(f"\n[4/4] switching {len(demo_fleet.switched_off)} PCs back on, then rerunning on the stragglers")
        demo_fleet.switch_on(demo_fleet.switched_off)
        phases += rerun_stragglers(settings, inventory, len(phases) + 1, out)
    after = build_report(settings, inventory)
    reports = write_reports(settings, after)
    return Outcome(before, after, time.monotonic() - started, phases, reports)


def rerun_stragglers(settings: Settings, inventory: Inventory, number: int, out: TextIO) -> list[PhaseResult]:
    """Rerun site.yml on the stragglers with the operator's loop (``agentroll.rerun``), showing progress.

    It stops when none is left, when a round changed nothing, or when the rounds run out.
    """
    say = printer(out)
    phases: list[PhaseResult] = []

    def run_round(run: PlaybookRun) -> RunResult:
        phases.append(run_phase(settings, number + len(phases), f"rerun-{len(phases) + 1}", run, out))
        say(f"    coverage {coverage_line(build_report(settings, inventory))}")
        return phases[-1].result

    try:
        outcome = rerun(
            settings.inventory,
            playbook=settings.root / "playbooks" / "site.yml",
            rounds=settings.rounds,
            state=settings.state,
            limit_file=settings.log_dir / "stragglers.txt",
            forks=settings.forks,
            env=settings.run_env,
            stop_when_unchanged=True,
            run_round=run_round,
            say=lambda text: say("  " + text),
        )
    except RerunError as error:
        raise DemoError(str(error)) from None
    if outcome.remaining:
        say(f"  left for a person to look at: {listing(outcome.remaining)}")
    return phases
