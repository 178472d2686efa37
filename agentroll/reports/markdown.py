"""The Markdown report: the terminal report's content plus the PCs that need attention, with reasons.

Names in the report come from the inventory and from the PCs themselves, so every text taken from
the report is escaped before it reaches the document: HTML (a ``<script>`` stays inert text where the
Markdown is turned into a web page) and Markdown's own inline markup (links, emphasis, table pipes).
"""

from __future__ import annotations

import re

from tabulate import tabulate

from agentroll.i18n import Catalog
from agentroll.reports import console, tables
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
#: Characters with an inline meaning in (GitHub-flavoured) Markdown inside a line: emphasis, code,
#: links and images, table cells, strike-through; each is shown as itself when escaped with a backslash.
#: (Block markup such as ``#`` or ``>`` only counts at the start of a line, where no report text is.)
_MARKUP = re.compile(r"([\\`*_\[\]|~])")
#: What starts raw HTML, an autolink or a character reference: ``<`` before a letter, ``/``, ``!`` or
#: ``?``, and ``&`` before a letter or ``#``. Written as an entity it is text in every Markdown
#: dialect (a backslash is not: Python-Markdown keeps ``\<`` and passes the tag through). A ``<``
#: among words ("RAM 1024 MB < 2048 MB") starts nothing and stays readable.
_HTML_START = re.compile(r"<(?=[A-Za-z/!?])|&(?=[A-Za-z#])")
_ENTITIES = {"<": "&lt;", "&": "&amp;"}


def escape(text: str) -> str:
    """A text from the report as literal Markdown: what could start HTML as an entity, then inline
    markup backslash-escaped. Line breaks become spaces, since a table cell or a list item is one line.
    """
    flat = " ".join(str(text).splitlines())
    inert = _HTML_START.sub(lambda match: _ENTITIES[match.group()], flat)
    return _MARKUP.sub(r"\\\1", inert)


def _table(table: Table, catalog: Catalog) -> str:
    if not table.rows:
        return catalog.gettext("none")
    rows = [[escape(cell) for cell in row] for row in tables.display_rows(table, catalog)]
    return tabulate(
        rows,
        headers=[escape(header) for header in table.headers],
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
        f"{escape(tables.generated_line(report, catalog))}  \n"
        f"{escape(tables.deadline_line(report, catalog))}  \n"
        f"**{escape(tables.coverage_summary(report, catalog))}**",
        f"## {_('Coverage per unit')}",
        _table(units, catalog),
        f"## {_('PCs by state')}",
        _table(tables.states_table(report, catalog), catalog),
        f"## {_('Units at risk of missing the deadline')}",
        tables.at_risk_list(report, catalog, "**{}**", escape=escape),
        f"## {_('Licenses to reallocate')}",
        _table(reallocation, catalog) if reallocation.rows else _("No license needs to move."),
        f"## {_('PCs waiting for a license')}",
        _table(tables.waiting_table(report, catalog), catalog),
        f"## {_('PCs that cannot take the agent')}",
        _table(tables.problem_hosts_table(report, catalog, ("ineligible",)), catalog),
        f"## {_('PCs that cannot be managed remotely')}",
        _table(tables.problem_hosts_table(report, catalog, ("unmanageable",)), catalog),
        f"## {_('Stragglers (PCs a rerun should target)')}",
        _table(tables.stragglers_table(report, catalog), catalog),
    ]
    if console.has_console(report):
        parts += [
            f"## {_("The console's count")}",
            escape(console.console_line(report, catalog)),
            _table(console.console_units_table(report, catalog), catalog),
            f"### {escape(_('PCs the console sees differently:'))}",
            _table(console.console_hosts_table(report, catalog), catalog),
            f"### {escape(_('On the console, not matched to a PC of the inventory, or listed twice:'))}",
            _table(console.console_unknown_table(report, catalog), catalog),
        ]
    if not report.get("unit"):
        parts += [
            f"## {_('Coverage over the recorded runs')}",
            _table(tables.history_table(report, catalog), catalog)
            if report.get("history")
            else _("No run recorded yet."),
        ]
    return "\n\n".join(parts) + "\n"
