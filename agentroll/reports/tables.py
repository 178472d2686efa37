"""The report's tables as translated headers and raw cell values, shared by every tabular format.

Cells keep their Python types (numbers stay numbers) so that the workbook can store real numbers;
the text formats turn them into strings with ``display``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agentroll.i18n import Catalog

#: The design's states, most specific first; reports list them in this order.
STATE_ORDER = (
    "compliant",
    "reboot_pending",
    "misnamed",
    "agent_unhealthy",
    "not_installed",
    "ineligible",
    "unmanageable",
    "unreachable",
    "failed",
    "unknown",
)
#: States whose PCs the written reply lists: they cannot take the agent or cannot be managed.
REPLY_STATES = ("ineligible", "unmanageable")

Report = Mapping[str, Any]


@dataclass(frozen=True)
class Table:
    """Column names and rows of raw values."""

    headers: list[str]
    rows: list[list[Any]]


def display(value: Any, catalog: Catalog) -> str:
    """A cell as text: empty for None, yes/no for booleans, the language's decimal separator."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return catalog.yes_no(value)
    if isinstance(value, float):
        return catalog.number(value)
    return str(value)


def is_numeric_column(table: Table, index: int) -> bool:
    """A column of numbers only (blanks allowed), which text formats align to the right."""
    values = [row[index] for row in table.rows if row[index] not in (None, "")]
    return bool(values) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def alignments(table: Table) -> list[str]:
    """tabulate's ``colalign``: numbers right, text left."""
    return ["right" if is_numeric_column(table, i) else "left" for i in range(len(table.headers))]


def display_rows(table: Table, catalog: Catalog) -> list[list[str]]:
    """Every cell of ``table`` as text."""
    return [[display(cell, catalog) for cell in row] for row in table.rows]


def unit_names(report: Report) -> dict[str, str]:
    """Unit code → unit name."""
    return {unit["code"]: unit["name"] for unit in report["units"]}


def unit_label(report: Report, code: str) -> str:
    """``Name (CODE)`` for tables where both help the reader."""
    name = unit_names(report).get(code)
    return f"{name} ({code})" if name else code


def short_time(stamp: str | None) -> str:
    """``2026-11-29T04:41:03Z`` → ``2026-11-29 04:41``; readers do not need seconds or the zone letter."""
    if not stamp:
        return ""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    return moment.strftime("%Y-%m-%d %H:%M")


def generated_line(report: Report, catalog: Catalog) -> str:
    """When the figures were taken."""
    return catalog.text("generated_at", when=f"{short_time(report.get('generated_at'))} UTC")


def deadline_line(report: Report, catalog: Catalog) -> str:
    """The district deadline and the days left (or passed)."""
    deadline, days = report.get("deadline"), report.get("days_left")
    if not deadline or days is None:
        return catalog.text("no_deadline")
    if days > 0:
        return catalog.text("deadline_line", deadline=deadline, days=days)
    if days == 0:
        return catalog.text("deadline_today", deadline=deadline)
    return catalog.text("deadline_passed", deadline=deadline, days=-days)


def coverage_summary(report: Report, catalog: Catalog) -> str:
    """``62 of 190 licenses in use (32.6 %)``."""
    totals = report["totals"]
    return catalog.text(
        "coverage_summary",
        installed=totals["installed"],
        licenses=totals["licenses"],
        pct=catalog.percent(float(totals["coverage_pct"])),
    )


UNIT_COLUMNS = (
    "code",
    "unit",
    "licenses",
    "hosts",
    "installed",
    "coverage",
    "eligible",
    "usable",
    "unused_licenses",
    "deadline",
    "days_left",
    "will_miss",
)


def units_table(report: Report, catalog: Catalog, with_total: bool = True) -> Table:
    """One row per unit, in inventory order, and a total row."""
    rows = [
        [
            unit["code"],
            unit["name"],
            unit["licenses"],
            unit["hosts"],
            unit["installed"],
            float(unit["coverage_pct"]),
            unit.get("eligible"),
            unit.get("usable"),
            unit.get("unused_licenses"),
            unit.get("deadline"),
            unit.get("days_left"),
            bool(unit.get("will_miss_deadline")),
        ]
        for unit in report["units"]
    ]
    if with_total:
        totals = report["totals"]
        rows.append(
            [
                "",
                catalog.text("total_row"),
                totals["licenses"],
                totals["hosts"],
                totals["installed"],
                float(totals["coverage_pct"]),
                totals.get("eligible"),
                totals.get("usable"),
                totals.get("unused_licenses"),
                report.get("deadline"),
                report.get("days_left"),
                None,
            ]
        )
    return Table(catalog.columns(*UNIT_COLUMNS), rows)


def states_table(report: Report, catalog: Catalog) -> Table:
    """PCs per state, every state listed (zeros included) so the breakdown always adds up."""
    states = report["totals"]["states"]
    rows = [[catalog.state(state), states.get(state, 0)] for state in STATE_ORDER]
    return Table(catalog.columns("state", "count"), rows)


HOST_COLUMNS = (
    "host",
    "unit",
    "owner",
    "state",
    "reasons",
    "computer_name",
    "standard_name",
    "address",
    "license",
    "last_seen",
    "knowledge_age_days",
)


def hosts_table(report: Report, catalog: Catalog) -> Table:
    """Every PC with every column the report knows about it."""
    rows = [
        [
            host["host"],
            host["unit"],
            host.get("owner"),
            catalog.state(host["state"]),
            catalog.reasons(host.get("reasons") or ()),
            host.get("computer_name"),
            host.get("standard_name"),
            host.get("address"),
            catalog.license(host.get("license")),
            host.get("last_seen"),
            host.get("knowledge_age_days"),
        ]
        for host in report["hosts"]
    ]
    return Table(catalog.columns(*HOST_COLUMNS), rows)


def hosts_in(report: Report, states: Sequence[str]) -> list[Mapping[str, Any]]:
    """The PCs in any of ``states``, in report order."""
    return [host for host in report["hosts"] if host["state"] in states]


PROBLEM_COLUMNS = ("host", "unit", "owner", "computer_name", "state", "reasons")


def problem_hosts_table(report: Report, catalog: Catalog, states: Sequence[str]) -> Table:
    """PCs in ``states`` with who uses them and why they are there."""
    rows = [
        [
            host["host"],
            host["unit"],
            host.get("owner"),
            host.get("computer_name"),
            catalog.state(host["state"]),
            catalog.reasons(host.get("reasons") or ()),
        ]
        for host in hosts_in(report, states)
    ]
    return Table(catalog.columns(*PROBLEM_COLUMNS), rows)


def _straggler_reasons(host: Mapping[str, Any], catalog: Catalog) -> str:
    """The reasons, and for an unreachable PC how old the knowledge of its agent is."""
    reasons = catalog.reasons(host.get("reasons") or ())
    age = host.get("knowledge_age_days")
    if host["state"] == "unreachable" and age is not None:
        # Coverage still counts its last known agent; the reader must see how stale that is.
        return "; ".join(part for part in (reasons, catalog.text("knowledge_age", days=age)) if part)
    return reasons


def stragglers_table(report: Report, catalog: Catalog) -> Table:
    """The rerun targets with their state and reasons."""
    by_name = {host["host"]: host for host in report["hosts"]}
    rows = []
    for name in sorted(set(report.get("stragglers") or ())):
        host = by_name.get(name)
        if host is None:
            rows.append([name, "", "", ""])
            continue
        rows.append([name, host["unit"], catalog.state(host["state"]), _straggler_reasons(host, catalog)])
    return Table(catalog.columns("host", "unit", "state", "reasons"), rows)


def reallocation_table(report: Report, catalog: Catalog) -> Table:
    """Advised license moves, units by name and code."""
    rows = [
        [unit_label(report, move["from"]), unit_label(report, move["to"]), move["licenses"]]
        for move in report.get("reallocation") or ()
    ]
    return Table(catalog.columns("from", "to", "licenses"), rows)


def reallocation_codes_table(report: Report, catalog: Catalog) -> Table:
    """Advised license moves with plain unit codes, for machine-friendly sheets."""
    rows = [[move["from"], move["to"], move["licenses"]] for move in report.get("reallocation") or ()]
    return Table(catalog.columns("from", "to", "licenses"), rows)


def at_risk_units(report: Report) -> list[Mapping[str, Any]]:
    """Units that will miss the deadline at the current pace."""
    return [unit for unit in report["units"] if unit.get("will_miss_deadline")]


def at_risk_list(report: Report, catalog: Catalog, code_format: str = "{}") -> str:
    """The at-risk units as a bulleted list (``code_format`` dresses the code), or "none"."""
    units = at_risk_units(report)
    if not units:
        return catalog.text("will_miss_none")
    return "\n".join(
        f"- {code_format.format(unit['code'])} {unit['name']}: {unit['installed']}/{unit['licenses']}"
        f" ({catalog.percent(float(unit['coverage_pct']))})"
        for unit in units
    )


def history_table(report: Report, catalog: Catalog) -> Table:
    """Coverage after each recorded run, oldest first."""
    rows = [
        [
            point["run_id"],
            point["playbook"],
            short_time(point.get("finished_at") or point.get("started_at")),
            point["installed"],
            float(point["coverage_pct"]),
        ]
        for point in report.get("history") or ()
    ]
    return Table(catalog.columns("run", "playbook", "finished_at", "installed", "coverage"), rows)


def pick(table: Table, all_keys: Sequence[str], keys: Sequence[str]) -> Table:
    """The columns ``keys`` of a table whose columns are ``all_keys``, in the order asked."""
    positions = [list(all_keys).index(key) for key in keys]
    return Table([table.headers[i] for i in positions], [[row[i] for i in positions] for row in table.rows])
