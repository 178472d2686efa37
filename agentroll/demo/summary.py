"""What the demo says and writes: the dry run's findings, coverage lines, the report files."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from agentroll.demo.console import console_line
from agentroll.demo.phases import PhaseResult
from agentroll.demo.settings import DISTRICT, Settings, shown, shown_state
from agentroll.model import Inventory
from agentroll.reasons import Reason
from agentroll.report import Report, report_from_store, write_atomic
from agentroll.reports import render
from agentroll.runner.display import duration
from agentroll.store import open_store

#: Report files: (file name, format, language). Written atomically, each one.
REPORT_FILES: tuple[tuple[str, str, str], ...] = (
    ("coverage.json", "json", "en"),
    ("coverage.txt", "text", "en"),
    ("coverage.md", "md", "en"),
    ("coverage.csv", "csv", "en"),
    ("coverage.units.csv", "units-csv", "en"),
    ("coverage.html", "html", "en"),
    ("coverage.xlsx", "xlsx", "en"),
    ("coverage.vi.txt", "text", "vi"),
    ("coverage.vi.html", "html", "vi"),
    ("coverage.vi.xlsx", "xlsx", "vi"),
    ("reply.vi.docx", "docx", "vi"),
    ("reply.vi.html", "reply-html", "vi"),
)


@dataclass
class Outcome:
    """What the demo found: the reports before and after, and how long it took."""

    before: Report
    after: Report
    seconds: float
    phases: list[PhaseResult] = field(default_factory=list)
    reports: list[Path] = field(default_factory=list)


def build_report(settings: Settings, inventory: Inventory) -> Report:
    """The report of the demo's database, through the one code path."""
    with open_store(settings.state, readonly=True) as store:
        return report_from_store(inventory, store)


def eligibility_summary(report: Report) -> list[str]:
    """The dry run's findings in a few lines: who can take the agent, who cannot and why."""
    totals = report["totals"]
    lines = [
        f"  eligible: {totals['eligible']} PCs ({totals['installed']} already have the agent)",
        _reasons_line("ineligible", report, "ineligible"),
        _reasons_line("unmanageable", report, "unmanageable"),
        _reasons_line("unreachable", report, "unreachable"),
    ]
    waiting = sum(1 for host in report["hosts"] if host.get("license") == "waiting")
    if waiting:
        lines.append(f"  waiting for a license: {waiting} PCs")
    if totals["states"].get("failed"):
        lines.append(_reasons_line("failed", report, "failed"))
    return lines


def _reasons_line(label: str, report: Report, state: str) -> str:
    """``label: N PCs`` and how many of them give each reason."""
    reasons: Counter[str] = Counter()
    count = 0
    for host in report["hosts"]:
        if host["state"] == state:
            count += 1
            reasons.update(
                [Reason.from_value(reason).english() for reason in host["reasons"]] or ["no reason given"]
            )
    detail = "; ".join(f"{reason}: {times}" for reason, times in sorted(reasons.items(), key=_by_count))
    return f"  {label}: {count} PCs" + (f" ({detail})" if detail else "")


def _by_count(item: tuple[str, int]) -> tuple[int, str]:
    """Most frequent first, then alphabetical."""
    return (-item[1], item[0])


def reallocation_lines(report: Report) -> list[str]:
    """The license reallocation advice, one move a line."""
    names = {unit["code"]: unit["name"] for unit in report["units"]}
    moves = report["reallocation"]
    if not moves:
        return ["  no license needs to move"]
    return [
        f"  move {move['licenses']} license(s) from {move['from']} ({names.get(move['from'], '?')})"
        f" to {move['to']} ({names.get(move['to'], '?')})"
        for move in moves
    ]


def show_dry_run(before: Report, say: Callable[[str], None]) -> None:
    """What the dry run found: eligibility, reallocation advice, coverage before."""
    for line in eligibility_summary(before):
        say(line)
    say("  license reallocation advice:")
    for line in reallocation_lines(before):
        say("  " + line)
    say(f"  coverage before: {coverage_line(before)}")
    say(f"  the console before: {console_line(before)}")


def coverage_line(report: Report) -> str:
    """``installed/licenses = pct %``."""
    totals = report["totals"]
    return f"{totals['installed']}/{totals['licenses']} = {totals['coverage_pct']:.1f} %"


def listing(hosts: Sequence[str], shown_hosts: int = 8) -> str:
    """A few host names, and how many more."""
    more = f", … (+{len(hosts) - shown_hosts})" if len(hosts) > shown_hosts else ""
    return ", ".join(hosts[:shown_hosts]) + more


def write_reports(settings: Settings, report: Report) -> list[Path]:
    """Every report format into the report folder, each file atomically; returns the paths."""
    written = []
    for name, fmt, lang in REPORT_FILES:
        path = settings.report_dir / name
        write_atomic(path, render(report, fmt, lang, district=DISTRICT))
        written.append(path)
    stragglers = settings.report_dir / "stragglers.txt"
    write_atomic(stragglers, "".join(f"{host}\n" for host in report["stragglers"]))
    written.append(stragglers)
    return written


def print_outcome(settings: Settings, outcome: Outcome, out: TextIO) -> None:
    """Coverage after, per unit, the totals before and after, where the reports are, the wall time."""
    say = printer(out)
    say("\n" + str(render(outcome.after, "text", settings.lang)).rstrip("\n"))
    before, after = outcome.before["totals"], outcome.after["totals"]
    gained = after["installed"] - before["installed"]
    say(f"\nCoverage before: {coverage_line(outcome.before)}")
    say(f"Coverage after:  {coverage_line(outcome.after)}  (+{gained} PCs with the agent)")
    say(f"The console before: {console_line(outcome.before)}")
    say(f"The console after:  {console_line(outcome.after)}")
    official = outcome.after["totals"]
    whose = "the console's" if outcome.after.get("official") == "console" else "agentroll's"
    say(
        f"Official figure ({whose}): {official['official_installed']}/{official['licenses']} = "
        f"{official['official_coverage_pct']:.1f} %"
    )
    say(f"\nReports ({len(outcome.reports)} files) in {shown(settings.report_dir)}:")
    say("  " + ", ".join(path.name for path in outcome.reports))
    say(f"ansible-playbook logs in {shown(settings.log_dir)}")
    say(f"View the report again: {view_command(settings)}")
    timings = ", ".join(f"{phase.name} {duration(phase.result.seconds)}" for phase in outcome.phases)
    say(f"agentroll demo: done in {duration(outcome.seconds)} (wall time; {timings})")


def view_command(settings: Settings) -> str:
    """The exact command that shows this demo's report afterwards."""
    agentroll = shown(settings.root / ".venv" / "bin" / "agentroll")
    command = f"{agentroll} report -i {shown(settings.inventory)}"
    if settings.state_from_env:
        return command
    return f"AGENTROLL_STATE={shown_state(settings)} {command}"


def printer(out: TextIO) -> Callable[[str], None]:
    """print() to ``out``, flushed (the progress lines share the stream)."""

    def say(text: str) -> None:
        out.write(text + "\n")
        out.flush()

    return say
