"""The terminal report: per-unit coverage table, totals, state breakdown, deadline and stragglers."""

from __future__ import annotations

import textwrap

from tabulate import tabulate

from agentroll.i18n import Catalog
from agentroll.reports import console, tables
from agentroll.reports.tables import Report, Table

#: A terminal is narrow: the per-unit table keeps the columns an operator acts on.
TEXT_UNIT_COLUMNS = (
    "code",
    "unit",
    "licenses",
    "hosts",
    "installed",
    "coverage",
    "unused_licenses",
    "days_left",
    "will_miss",
)


def _grid(table: Table, catalog: Catalog) -> str:
    rows = tables.display_rows(table, catalog)
    return tabulate(
        rows,
        headers=table.headers,
        tablefmt="simple",
        disable_numparse=True,
        colalign=tables.alignments(table),
    )


def _section(title: str, body: str) -> str:
    return f"{title}\n{'=' * len(title)}\n{body}\n"


def _reallocation(report: Report, catalog: Catalog) -> str:
    table = tables.reallocation_table(report, catalog)
    return _grid(table, catalog) if table.rows else catalog.gettext("No license needs to move.")


def _cannot_take_agent(report: Report, catalog: Catalog) -> str:
    table = tables.problem_hosts_table(report, catalog, tables.REPLY_STATES)
    picked = tables.pick(table, tables.PROBLEM_COLUMNS, ("host", "unit", "state", "reasons"))
    return _grid(picked, catalog) if picked.rows else catalog.gettext("none")


def _next_steps(report: Report, catalog: Catalog) -> str:
    """Every PC with something left to do, grouped by what to do next: the action, how many, which."""
    _ = catalog.gettext
    groups = tables.next_step_groups(report, catalog)
    if not groups:
        return _("none")
    lines = []
    for step, names in groups:
        lines.append(_("{step} ({count} PC(s)):").format(step=step, count=len(names)))
        lines.append(textwrap.fill(", ".join(names), width=100, initial_indent="  ", subsequent_indent="  "))
    stragglers = report.get("stragglers") or []
    if stragglers:
        lines.append(_("Stragglers: {count}").format(count=len(stragglers)))
        lines.append(_("Rerun on them with: --limit @stragglers.txt"))
    return "\n".join(lines)


def render_text(report: Report, catalog: Catalog) -> str:
    """The whole terminal report as one string."""
    _ = catalog.gettext
    units = tables.pick(tables.units_table(report, catalog), tables.UNIT_COLUMNS, TEXT_UNIT_COLUMNS)
    header = "\n".join(
        [
            _("Agent coverage report"),
            tables.generated_line(report, catalog),
            tables.deadline_line(report, catalog),
            tables.coverage_summary(report, catalog),
        ]
    )
    sections = [
        header + "\n",
        _section(_("Coverage per unit"), _grid(units, catalog)),
        _section(_("PCs by state"), _grid(tables.states_table(report, catalog), catalog)),
        _section(_("Units at risk of missing the deadline"), tables.at_risk_list(report, catalog, "{} ")),
        _section(_("Licenses to reallocate"), _reallocation(report, catalog)),
        _section(
            _("PCs that cannot take the agent or cannot be managed"), _cannot_take_agent(report, catalog)
        ),
        _section(_("What to do next"), _next_steps(report, catalog)),
    ]
    if console.has_console(report):
        sections.append(_section(_("The console's count"), _console(report, catalog)))
    return "\n".join(sections)


def _console(report: Report, catalog: Catalog) -> str:
    """Both figures, per unit side by side, the PCs the two disagree on, the console's unknown PCs."""
    _ = catalog.gettext
    parts = [textwrap.fill(console.console_line(report, catalog), width=100), ""]
    parts.append(_grid(console.console_units_table(report, catalog), catalog))
    disagreements = console.console_hosts_table(report, catalog)
    parts += ["", _("PCs the console sees differently:")]
    parts.append(_grid(disagreements, catalog) if disagreements.rows else _("none"))
    unknown = console.console_unknown_table(report, catalog)
    parts += ["", _("On the console, not matched to a PC of the inventory, or listed twice:")]
    parts.append(_grid(unknown, catalog) if unknown.rows else _("none"))
    return "\n".join(parts)
