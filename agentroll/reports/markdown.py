"""The Markdown report: the terminal report's content plus the PCs that need attention, with reasons."""

from __future__ import annotations

from tabulate import tabulate

from agentroll.i18n import Catalog
from agentroll.reports import tables
from agentroll.reports.tables import Report, Table

MD_UNIT_COLUMNS = (
    "code",
    "unit",
    "licenses",
    "hosts",
    "installed",
    "coverage",
    "usable",
    "unused_licenses",
    "deadline",
    "days_left",
    "will_miss",
)


def _escape(cell: str) -> str:
    # A pipe inside a cell would end the cell; reasons and names may contain one.
    return cell.replace("|", "\\|")


def _table(table: Table, catalog: Catalog) -> str:
    if not table.rows:
        return catalog.text("none")
    rows = [[_escape(cell) for cell in row] for row in tables.display_rows(table, catalog)]
    return tabulate(
        rows,
        headers=table.headers,
        tablefmt="github",
        disable_numparse=True,
        colalign=tables.alignments(table),
    )


def render_markdown(report: Report, catalog: Catalog) -> str:
    """The whole report as a Markdown document."""
    units = tables.pick(tables.units_table(report, catalog), tables.UNIT_COLUMNS, MD_UNIT_COLUMNS)
    reallocation = tables.reallocation_table(report, catalog)
    parts = [
        f"# {catalog.text('title')}",
        f"{tables.generated_line(report, catalog)}  \n{tables.deadline_line(report, catalog)}  \n"
        f"**{tables.coverage_summary(report, catalog)}**",
        f"## {catalog.text('units')}",
        _table(units, catalog),
        f"## {catalog.text('states')}",
        _table(tables.states_table(report, catalog), catalog),
        f"## {catalog.text('will_miss')}",
        tables.at_risk_list(report, catalog, "**{}**"),
        f"## {catalog.text('reallocation')}",
        _table(reallocation, catalog) if reallocation.rows else catalog.text("no_reallocation"),
        f"## {catalog.text('ineligible')}",
        _table(tables.problem_hosts_table(report, catalog, ("ineligible",)), catalog),
        f"## {catalog.text('unmanageable')}",
        _table(tables.problem_hosts_table(report, catalog, ("unmanageable",)), catalog),
        f"## {catalog.text('stragglers')}",
        _table(tables.stragglers_table(report, catalog), catalog),
        f"## {catalog.text('history')}",
        _table(tables.history_table(report, catalog), catalog)
        if report.get("history")
        else catalog.text("no_history"),
    ]
    return "\n\n".join(parts) + "\n"
