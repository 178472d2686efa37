"""The demo in order: fleet up, dry run, deploy, the watch (Wake-on-LAN, laptops switched on later),
the offline kit for the commune beyond the network, reports."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from agentroll.bundle import BundleError, write_kit
from agentroll.demo.console import import_export_after, import_letters_export
from agentroll.demo.fleet import load_demo, running_fleet
from agentroll.demo.phases import PhaseResult, playbook_run, run_phase
from agentroll.demo.settings import WATCH_EVERY, WATCH_MARGIN, DemoError, Settings, shown, shown_state
from agentroll.demo.state import check_state_is_empty, set_aside_previous_kit, start_afresh
from agentroll.demo.summary import (
    Outcome,
    build_report,
    coverage_line,
    listing,
    printer,
    show_dry_run,
    write_reports,
)
from agentroll.demo_data import OFFLINE_UNIT, SWITCHED_ON_LATER_AT
from agentroll.model import Inventory
from agentroll.receipts import ReceiptError, import_receipts
from agentroll.receipts import summary as receipts_summary
from agentroll.runner import PlaybookRun, RunResult
from agentroll.watch import WatchError, watch


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
        off, later, beyond = _out_of_reach(fleet)
        say(
            f"\n[1/5] simulated fleet up: {len(fleet.addresses())} Windows PCs on WinRM "
            f"({len(off)} switched off, {len(later)} switched on later, {len(beyond)} beyond the network)"
        )
        say("  the console's count the letter quoted: its export of that day")
        import_letters_export(settings, say)
        say("\n[2/5] dry run: playbooks/preflight.yml")
        hosts = len(inventory.hosts)
        phases = [run_phase(settings, 1, "preflight", playbook_run(settings, "preflight.yml", hosts), out)]
        before = build_report(settings, inventory)
        show_dry_run(before, say)
        say("\n[3/5] install, rename, reboot, verify: playbooks/site.yml")
        phases.append(run_phase(settings, 2, "site", playbook_run(settings, "site.yml", hosts), out))
        say(f"  coverage now: {coverage_line(build_report(settings, inventory))}")
        until = datetime.fromtimestamp(fleet.started_at + SWITCHED_ON_LATER_AT + WATCH_MARGIN, UTC)
        phases += watch_stragglers(settings, inventory, until, len(phases) + 1, out)
        offline_kit(settings, inventory, demo_fleet.fleet, out)
        say("\nthe console's count after: what it would export now")
        import_export_after(settings, inventory, demo_fleet.fleet, say)
    after = build_report(settings, inventory)
    reports = write_reports(settings, after)
    return Outcome(before, after, time.monotonic() - started, phases, reports)


def _out_of_reach(fleet: Any) -> tuple[list[str], list[str], list[str]]:
    """The PCs that start switched off, those switched on later, those beyond the network."""
    off, later, beyond = [], [], []
    for address in fleet.addresses():
        host = fleet.host(address)
        if host.schedule is not None:
            later.append(address)
        elif not host.powered:
            off.append(address)
        elif host.faults.refuse_connections:
            beyond.append(address)
    return off, later, beyond


def watch_stragglers(
    settings: Settings, inventory: Inventory, until: datetime, number: int, out: TextIO
) -> list[PhaseResult]:
    """``agentroll watch`` on the stragglers until ``until``: each round wakes, then deploys."""
    say = printer(out)
    say(
        f"\n[4/5] the watch, every {WATCH_EVERY:.0f} s until the laptops switched on later have been caught: "
        "Wake-on-LAN, then playbooks/site.yml on the PCs that answered"
    )
    phases: list[PhaseResult] = []

    def run_round(run: PlaybookRun, label: str) -> RunResult:
        name = label.replace("round ", "watch-").replace(": ", "-")
        phases.append(run_phase(settings, number + len(phases), name, run, out))
        return phases[-1].result

    try:
        outcome = watch(
            settings.inventory,
            every=WATCH_EVERY,
            until=until,
            state=settings.state,
            playbook=settings.root / "playbooks" / "site.yml",
            wake_playbook=settings.root / "playbooks" / "wake.yml",
            limit_dir=settings.log_dir,
            forks=settings.forks,
            env=settings.run_env,
            run=run_round,
            say=lambda text: say("  " + text.removeprefix("agentroll watch: ")),
        )
    except WatchError as error:
        raise DemoError(str(error)) from None
    say(f"  coverage now: {coverage_line(build_report(settings, inventory))}")
    if outcome.remaining:
        say(f"  left after the watch: {listing(outcome.remaining)}")
    return phases


def offline_kit(settings: Settings, inventory: Inventory, fleet: Any, out: TextIO) -> None:
    """The kit of the commune nothing reaches: made, carried to its PCs, its receipts imported."""
    from agentroll.sim.kit import run_kit

    say = printer(out)
    report = build_report(settings, inventory)
    silent = {
        entry["host"]
        for entry in report["hosts"]
        if entry["unit"] == OFFLINE_UNIT and entry["state"] == "unreachable"
    }
    say(f"\n[5/5] offline kit of {OFFLINE_UNIT} for its {len(silent)} PC(s) nothing reaches")
    kit_dir = settings.report_dir / "offline-kit" / OFFLINE_UNIT
    set_aside_previous_kit(kit_dir)
    try:
        # The demo's kit goes to simulated PCs: the one kit that may carry the sample agent.
        kit = write_kit(settings.inventory, OFFLINE_UNIT, kit_dir, simulated=True)
    except BundleError as error:
        raise DemoError(f"agentroll bundle: {error}") from None
    say(f"  agentroll bundle: {kit.pcs} PCs in the kit, in {shown(kit_dir)}")
    moment = datetime.now(UTC)
    for offset, host in enumerate(sorted(silent)):
        # A person carries the kit to each PC in turn and double-clicks Install-Agent.cmd.
        run_kit(kit_dir, fleet.host(inventory.host(host).address), now=moment + timedelta(seconds=offset))
    try:
        imported = import_receipts(kit_dir, settings.inventory, settings.state)
    except ReceiptError as error:
        raise DemoError(f"agentroll receipts import: {error}") from None
    say(f"  agentroll receipts import: {receipts_summary(imported)} ({listing(list(imported.hosts))})")
    say(f"  coverage now: {coverage_line(build_report(settings, inventory))}")
