"""The terminal report: per-unit coverage table, totals, state breakdown, deadline and stragglers."""

from __future__ import annotations

import textwrap

from tabulate import tabulate

from agentroll.i18n import Catalog
from agentroll.reports import tables
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
    return _grid(table, catalog) if table.rows else catalog.text("no_reallocation")


def _cannot_take_agent(report: Report, catalog: Catalog) -> str:
    table = tables.problem_hosts_table(report, catalog, tables.REPLY_STATES)
    picked = tables.pick(table, tables.PROBLEM_COLUMNS, ("host", "unit", "state", "reasons"))
    return _grid(picked, catalog) if picked.rows else catalog.text("none")


def _stragglers(report: Report, catalog: Catalog) -> str:
    names = report.get("stragglers") or []
    if not names:
        return catalog.text("none")
    wrapped = textwrap.fill(", ".join(names), width=100)
    count = catalog.text("stragglers_count", count=len(names))
    return "\n".join([count, wrapped, catalog.text("stragglers_hint")])


def render_text(report: Report, catalog: Catalog) -> str:
    """The whole terminal report as one string."""
    units = tables.pick(tables.units_table(report, catalog), tables.UNIT_COLUMNS, TEXT_UNIT_COLUMNS)
    header = "\n".join(
        [
            catalog.text("title"),
            tables.generated_line(report, catalog),
            tables.deadline_line(report, catalog),
            tables.coverage_summary(report, catalog),
        ]
    )
    sections = [
        header + "\n",
        _section(catalog.text("units"), _grid(units, catalog)),
        _section(catalog.text("states"), _grid(tables.states_table(report, catalog), catalog)),
        _section(catalog.text("will_miss"), tables.at_risk_list(report, catalog, "{} ")),
        _section(catalog.text("reallocation"), _reallocation(report, catalog)),
        _section(catalog.text("cannot_take_agent"), _cannot_take_agent(report, catalog)),
        _section(catalog.text("stragglers"), _stragglers(report, catalog)),
    ]
    return "\n".join(sections)
