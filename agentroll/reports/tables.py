"""The report's tables as translated headers and raw cell values, shared by every tabular format.

Cells keep their Python types (numbers stay numbers, dates are dates, times are local datetimes)
so that the workbook can store real numbers and dates; the text formats turn them into strings
with ``display``, in the catalogue's language and time zone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from agentroll.i18n import REASON_SEPARATOR, Catalog
from agentroll.reports import labels

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
    """A cell as text: empty for None, yes/no for booleans, the language's decimals, dates and times."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return catalog.yes_no(value)
    if isinstance(value, float):
        return catalog.number(value)
    if isinstance(value, datetime):
        return catalog.moment(value)
    if isinstance(value, date):
        return catalog.date(value)
    return str(value)


#: A text cell starting with one of these is taken for a formula by spreadsheet programs (OWASP, "CSV
#: injection"): an owner, unit or computer name (which the PC itself reports) could run one.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(text: str) -> str:
    """A text cell that a spreadsheet shows as text: one starting like a formula gets a leading quote
    (OWASP's advice; the rest of the text is kept as it is)."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


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


def local_time(stamp: str | None, catalog: Catalog) -> datetime | str | None:
    """A report timestamp (UTC ISO) as a local datetime; text that is no timestamp stays as it is."""
    if not stamp:
        return None
    try:
        return catalog.local(stamp)
    except ValueError:
        return stamp


def day(value: str | None) -> date | str | None:
    """A report date (``YYYY-MM-DD``) as a date; text that is no date stays as it is."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return value


def generated_line(report: Report, catalog: Catalog) -> str:
    """When the figures were taken, in local time with the zone's offset."""
    stamp = report.get("generated_at")
    if not stamp:
        return ""
    _ = catalog.gettext
    return _("Generated {when} ({zone})").format(when=catalog.moment(stamp), zone=catalog.zone_label(stamp))


def nearest_unit_deadline(report: Report) -> Mapping[str, Any] | None:
    """The unit whose deadline is nearest: the next one to come, else the one passed most recently."""
    dated = [unit for unit in report["units"] if unit.get("deadline") and unit.get("days_left") is not None]
    coming = [unit for unit in dated if unit["days_left"] >= 0]
    if coming:
        return min(coming, key=lambda unit: (unit["days_left"], unit["code"]))
    return min(dated, key=lambda unit: (-unit["days_left"], unit["code"]), default=None)


def deadline_line(report: Report, catalog: Catalog) -> str:
    """The district deadline and the days left (or passed); without one, the nearest unit deadline."""
    _ = catalog.gettext
    deadline, days = report.get("deadline"), report.get("days_left")
    if deadline and days is not None:
        shown = display(day(deadline), catalog)
        if days > 0:
            return _("Deadline {deadline}: {days} days left").format(deadline=shown, days=days)
        if days == 0:
            return _("Deadline {deadline}: today").format(deadline=shown)
        return _("Deadline {deadline}: passed {days} days ago").format(deadline=shown, days=-days)
    unit = nearest_unit_deadline(report)
    if unit is None:
        return _("No deadline set")
    shown, days, code = display(day(unit["deadline"]), catalog), unit["days_left"], unit["code"]
    if days > 0:
        line = _("Nearest unit deadline {deadline} ({unit}): {days} days left")
    elif days == 0:
        line = _("Nearest unit deadline {deadline} ({unit}): today")
    else:
        line = _("Nearest unit deadline {deadline} ({unit}): passed {days} days ago")
    return line.format(deadline=shown, unit=code, days=abs(days))


def coverage_summary(report: Report, catalog: Catalog) -> str:
    """``62 of 190 licenses in use (32.6 %)``."""
    totals = report["totals"]
    return catalog.gettext("{installed} of {licenses} licenses in use ({pct})").format(
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
    "unknown",
    "usable",
    "unused_licenses",
    "remaining",
    "deadline",
    "days_left",
    "will_miss",
)


def units_table(report: Report, catalog: Catalog, with_total: bool = True) -> Table:
    """One row per unit, in inventory order, and a total row (not in the view of one unit)."""
    rows = [
        [
            unit["code"],
            unit["name"],
            unit["licenses"],
            unit["hosts"],
            unit["installed"],
            float(unit["coverage_pct"]),
            unit.get("eligible"),
            unit.get("unknown"),
            unit.get("usable"),
            unit.get("unused_licenses"),
            unit.get("remaining"),
            day(unit.get("deadline")),
            unit.get("days_left"),
            bool(unit.get("will_miss_deadline")),
        ]
        for unit in report["units"]
    ]
    if with_total and not report.get("unit"):
        totals = report["totals"]
        rows.append(
            [
                "",
                catalog.gettext("All units"),
                totals["licenses"],
                totals["hosts"],
                totals["installed"],
                float(totals["coverage_pct"]),
                totals.get("eligible"),
                totals.get("unknown"),
                totals.get("usable"),
                totals.get("unused_licenses"),
                totals.get("remaining"),
                day(report.get("deadline")),
                report.get("days_left"),
                None,
            ]
        )
    return Table(labels.columns(catalog, *UNIT_COLUMNS), rows)


def states_table(report: Report, catalog: Catalog) -> Table:
    """PCs per state, every state listed (zeros included) so the breakdown always adds up."""
    states = report["totals"]["states"]
    rows = [[labels.state(catalog, state), states.get(state, 0)] for state in STATE_ORDER]
    return Table(labels.columns(catalog, "state", "count"), rows)


HOST_COLUMNS = (
    "host",
    "unit",
    "owner",
    "state",
    "reasons",
    "next_step",
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
            labels.state(catalog, host["state"]),
            labels.host_reasons(catalog, host),
            labels.host_next_step(catalog, host),
            host.get("computer_name"),
            host.get("standard_name"),
            host.get("address"),
            labels.license_status(catalog, host.get("license")),
            local_time(host.get("last_seen"), catalog),
            host.get("knowledge_age_days"),
        ]
        for host in report["hosts"]
    ]
    return Table(labels.columns(catalog, *HOST_COLUMNS), rows)


def hosts_in(report: Report, states: Sequence[str]) -> list[Mapping[str, Any]]:
    """The PCs in any of ``states``, in report order."""
    return [host for host in report["hosts"] if host["state"] in states]


PROBLEM_COLUMNS = ("host", "unit", "owner", "computer_name", "state", "reasons", "next_step")


def problem_hosts_table(report: Report, catalog: Catalog, states: Sequence[str]) -> Table:
    """PCs in ``states`` with who uses them, why they are there and what to do next."""
    rows = [
        [
            host["host"],
            host["unit"],
            host.get("owner"),
            host.get("computer_name"),
            labels.state(catalog, host["state"]),
            labels.host_reasons(catalog, host),
            labels.host_next_step(catalog, host),
        ]
        for host in hosts_in(report, states)
    ]
    return Table(labels.columns(catalog, *PROBLEM_COLUMNS), rows)


def waiting_hosts(report: Report) -> list[Mapping[str, Any]]:
    """The PCs waiting for a license, in report order."""
    return [host for host in report["hosts"] if host.get("license") == "waiting"]


def waiting_table(report: Report, catalog: Catalog) -> Table:
    """The PCs that could take the agent but wait for a license of their unit."""
    rows = [
        [host["host"], host["unit"], host.get("owner"), labels.host_reasons(catalog, host)]
        for host in waiting_hosts(report)
    ]
    return Table(labels.columns(catalog, "host", "unit", "owner", "reasons"), rows)


UNIT_HOST_COLUMNS = (
    "host",
    "owner",
    "computer_name",
    "standard_name",
    "state",
    "reasons",
    "next_step",
    "last_seen",
)


def unit_hosts_table(report: Report, catalog: Catalog, code: str) -> Table:
    """Every PC of one unit, for its head: who uses it, where it stands, why, and what to do next."""
    rows = [
        [
            host["host"],
            host.get("owner"),
            host.get("computer_name"),
            host.get("standard_name"),
            labels.state(catalog, host["state"]),
            labels.host_reasons(catalog, host),
            labels.host_next_step(catalog, host),
            local_time(host.get("last_seen"), catalog),
        ]
        for host in report["hosts"]
        if host["unit"] == code
    ]
    return Table(labels.columns(catalog, *UNIT_HOST_COLUMNS), rows)


def next_step_groups(report: Report, catalog: Catalog) -> list[tuple[str, list[str]]]:
    """Every PC with something left to do, grouped by what to do next, in words; the groups in order
    of their first PC, the PCs in report order."""
    groups: dict[str, list[str]] = {}
    for host in report["hosts"]:
        step = labels.host_next_step(catalog, host)
        if step:
            groups.setdefault(step, []).append(host["host"])
    return list(groups.items())


def _straggler_reasons(host: Mapping[str, Any], catalog: Catalog) -> str:
    """The reasons; for an unreachable PC how old the knowledge of its agent is; the watch's attempts."""
    parts = [labels.host_reasons(catalog, host)]
    age = host.get("knowledge_age_days")
    if host["state"] == "unreachable" and age is not None:
        # Coverage still counts its last known agent; the reader must see how stale that is.
        parts.append(catalog.gettext("last known {days} days ago").format(days=age))
    attempts = host.get("attempts")
    if attempts and attempts["answered"] < attempts["count"]:
        # What a unit head must hear: "off on 5 of 5 attempts since 02/12".
        parts.append(
            catalog.gettext("no answer on {missed} of {count} attempts since {since}").format(
                missed=attempts["count"] - attempts["answered"],
                count=attempts["count"],
                since=catalog.date(catalog.local(attempts["since"])),
            )
        )
    return REASON_SEPARATOR.join(part for part in parts if part)


def stragglers_table(report: Report, catalog: Catalog) -> Table:
    """The rerun targets with their state, reasons and what to do next."""
    by_name = {host["host"]: host for host in report["hosts"]}
    rows = []
    for name in sorted(set(report.get("stragglers") or ())):
        host = by_name.get(name)
        if host is None:
            rows.append([name, "", "", "", ""])
            continue
        rows.append(
            [
                name,
                host["unit"],
                labels.state(catalog, host["state"]),
                _straggler_reasons(host, catalog),
                labels.host_next_step(catalog, host),
            ]
        )
    return Table(labels.columns(catalog, "host", "unit", "state", "reasons", "next_step"), rows)


def reallocation_table(report: Report, catalog: Catalog) -> Table:
    """Advised license moves, units by name and code, then the licenses returnable to the district."""
    rows: list[list[Any]] = [
        [unit_label(report, move["from"]), unit_label(report, move["to"]), move["licenses"]]
        for move in report.get("reallocation") or ()
    ]
    district = catalog.gettext("returned to the district")
    rows.extend(
        [unit_label(report, entry["unit"]), district, entry["licenses"]]
        for entry in report.get("returnable") or ()
    )
    return Table(labels.columns(catalog, "from", "to", "licenses"), rows)


def at_risk_units(report: Report) -> list[Mapping[str, Any]]:
    """Units at risk: not finished, and their deadline near or past."""
    return [unit for unit in report["units"] if unit.get("will_miss_deadline")]


def unit_progress(unit: Mapping[str, Any], catalog: Catalog) -> str:
    """``5/7 installed (71.4 %), 3 PC(s) still to finish`` (the second part from minor 2 reports on)."""
    _ = catalog.gettext
    done = _("{installed}/{licenses} installed ({pct})").format(
        installed=unit["installed"],
        licenses=unit["licenses"],
        pct=catalog.percent(float(unit["coverage_pct"])),
    )
    if unit.get("remaining") is None:
        return done
    if unit["remaining"] == 0:
        return _("{done}, nothing left to do").format(done=done)
    return _("{done}, {remaining} PC(s) still to finish").format(done=done, remaining=unit["remaining"])


def at_risk_line(unit: Mapping[str, Any], catalog: Catalog) -> str:
    """Why one unit is at risk: how far it is, and its deadline with the days left or passed."""
    _ = catalog.gettext
    days = unit.get("days_left")
    if days is None:
        return unit_progress(unit, catalog)
    deadline = display(day(unit.get("deadline")), catalog)
    if days > 0:
        when = _("deadline {deadline}, {days} days left").format(deadline=deadline, days=days)
    elif days == 0:
        when = _("deadline {deadline}, today").format(deadline=deadline)
    else:
        when = _("deadline {deadline}, passed {days} days ago").format(deadline=deadline, days=-days)
    return f"{unit_progress(unit, catalog)}; {when}"


def at_risk_list(
    report: Report, catalog: Catalog, code_format: str = "{}", escape: Callable[[str], str] = str
) -> str:
    """The at-risk units as a bulleted list (``code_format`` dresses the code, ``escape`` the texts
    taken from the inventory), or a sentence saying there is none."""
    units = at_risk_units(report)
    if not units:
        return risk_rule(report, catalog) + " " + catalog.gettext("No unit is at risk.")
    lines = [risk_rule(report, catalog)]
    lines.extend(
        f"- {code_format.format(escape(unit['code']))} {escape(unit['name'])}: {at_risk_line(unit, catalog)}"
        for unit in units
    )
    return "\n".join(lines)


def risk_rule(report: Report, catalog: Catalog) -> str:
    """What "at risk" means in this report, in one sentence."""
    days = report.get("deadline_warning_days")
    if days is None:
        return catalog.gettext("A unit is at risk when it is not finished and its deadline is near or past.")
    return catalog.gettext(
        "A unit is at risk when it is not finished and its deadline is {days} days away or less, or past."
    ).format(days=days)


def history_table(report: Report, catalog: Catalog) -> Table:
    """Coverage after each recorded run, oldest first."""
    rows = [
        [
            point["run_id"],
            point["playbook"],
            local_time(point.get("finished_at") or point.get("started_at"), catalog),
            point["installed"],
            float(point["coverage_pct"]),
        ]
        for point in report.get("history") or ()
    ]
    return Table(labels.columns(catalog, "run", "playbook", "finished_at", "installed", "coverage"), rows)


def pick(table: Table, all_keys: Sequence[str], keys: Sequence[str]) -> Table:
    """The columns ``keys`` of a table whose columns are ``all_keys``, in the order asked."""
    positions = [list(all_keys).index(key) for key in keys]
    return Table([table.headers[i] for i in positions], [[row[i] for i in positions] for row in table.rows])
