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
        return catalog.gettext("none")
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
    _ = catalog.gettext
    units = tables.pick(tables.units_table(report, catalog), tables.UNIT_COLUMNS, MD_UNIT_COLUMNS)
    reallocation = tables.reallocation_table(report, catalog)
    parts = [
        f"# {_('Agent coverage report')}",
        f"{tables.generated_line(report, catalog)}  \n{tables.deadline_line(report, catalog)}  \n"
        f"**{tables.coverage_summary(report, catalog)}**",
        f"## {_('Coverage per unit')}",
        _table(units, catalog),
        f"## {_('PCs by state')}",
        _table(tables.states_table(report, catalog), catalog),
        f"## {_('Units that will miss the deadline')}",
        tables.at_risk_list(report, catalog, "**{}**"),
        f"## {_('Licenses to reallocate')}",
        _table(reallocation, catalog) if reallocation.rows else _("No license needs to move."),
        f"## {_('PCs that cannot take the agent')}",
        _table(tables.problem_hosts_table(report, catalog, ("ineligible",)), catalog),
        f"## {_('PCs Ansible cannot manage')}",
        _table(tables.problem_hosts_table(report, catalog, ("unmanageable",)), catalog),
        f"## {_('Stragglers (PCs a rerun should target)')}",
        _table(tables.stragglers_table(report, catalog), catalog),
        f"## {_('Coverage over the recorded runs')}",
        _table(tables.history_table(report, catalog), catalog)
        if report.get("history")
        else _("No run recorded yet."),
    ]
    return "\n\n".join(parts) + "\n"
