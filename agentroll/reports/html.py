"""The HTML report: one self-contained page (inline CSS and SVG, no script, no external asset)."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from agentroll.i18n import Catalog, translations
from agentroll.model import DEFAULT_DEADLINE_WARNING_DAYS
from agentroll.reports import charts, console, tables
from agentroll.reports.tables import Report, Table

HTML_UNIT_COLUMNS = (
    "code",
    "unit",
    "licenses",
    "hosts",
    "installed",
    "coverage",
    "usable",
    "unused_licenses",
    "remaining",
    "days_left",
    "will_miss",
)


@cache
def environment(lang: str) -> Environment:
    """The Jinja2 environment of the report templates in ``lang``: autoescaping, and ``_``/``pgettext``
    from the language's catalogue (``jinja2.ext.i18n``)."""
    env = Environment(
        loader=PackageLoader("agentroll", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    # Old-style gettext: a template's texts are plain, so a literal "%" needs no escaping.
    env.install_gettext_translations(translations(lang), newstyle=False)  # type: ignore[attr-defined]
    return env


def table_view(table: Table, catalog: Catalog) -> dict[str, Any]:
    """Headers, text cells and which columns are numeric (right-aligned)."""
    return {
        "headers": table.headers,
        "rows": tables.display_rows(table, catalog),
        "numeric": [tables.is_numeric_column(table, i) for i in range(len(table.headers))],
    }


def _days_left_class(days: int | None, warning_days: int) -> str:
    if days is None:
        return ""
    if days < 0:
        return "late"
    return "soon" if days <= warning_days else ""


def _unit_console(report: Report, catalog: Catalog, code: str) -> Any:
    """The unit's PCs the console sees differently, or None (no export, or no difference)."""
    if not console.has_console(report):
        return None
    table = console.console_hosts_table(report, catalog, code)
    return table_view(table, catalog) if table.rows else None


def _unit_sections(report: Report, catalog: Catalog) -> list[dict[str, Any]]:
    """One section per unit: its figures in a line and every PC with what to do next."""
    sections = []
    for unit in report["units"]:
        sections.append(
            {
                "code": unit["code"],
                "name": unit["name"],
                "summary": tables.at_risk_line(unit, catalog),
                "at_risk": bool(unit.get("will_miss_deadline")),
                "hosts": table_view(tables.unit_hosts_table(report, catalog, unit["code"]), catalog),
                "console": _unit_console(report, catalog, unit["code"]),
            }
        )
    return sections


def context(report: Report, catalog: Catalog) -> dict[str, Any]:
    """Everything the template shows, already translated and formatted."""
    units = tables.pick(tables.units_table(report, catalog), tables.UNIT_COLUMNS, HTML_UNIT_COLUMNS)
    totals = report["totals"]
    history = report.get("history") or []
    return {
        "lang": catalog.lang,
        "generated": tables.generated_line(report, catalog),
        "deadline": tables.deadline_line(report, catalog),
        "summary": tables.coverage_summary(report, catalog),
        "coverage_pct": catalog.percent(float(totals["coverage_pct"])),
        "installed": totals["installed"],
        "licenses": totals["licenses"],
        "days_left": report.get("days_left"),
        "days_left_class": _days_left_class(
            report.get("days_left"), report.get("deadline_warning_days", DEFAULT_DEADLINE_WARNING_DAYS)
        ),
        "risk_rule": tables.risk_rule(report, catalog),
        "at_risk": [
            {"code": u["code"], "name": u["name"], "line": tables.at_risk_line(u, catalog)}
            for u in tables.at_risk_units(report)
        ],
        "unit_view": report.get("unit"),
        "units": table_view(units, catalog),
        "unit_chart": Markup(charts.unit_coverage_chart(report["units"], catalog)),
        "states": table_view(tables.states_table(report, catalog), catalog),
        "state_chart": Markup(charts.state_chart(totals["states"], catalog)),
        "reallocation": table_view(tables.reallocation_table(report, catalog), catalog),
        "waiting": table_view(tables.waiting_table(report, catalog), catalog),
        "ineligible": table_view(tables.problem_hosts_table(report, catalog, ("ineligible",)), catalog),
        "unmanageable": table_view(tables.problem_hosts_table(report, catalog, ("unmanageable",)), catalog),
        "stragglers": table_view(tables.stragglers_table(report, catalog), catalog),
        "history": table_view(tables.history_table(report, catalog), catalog),
        "history_chart": Markup(charts.history_chart(history, catalog)) if history else None,
        "unit_sections": _unit_sections(report, catalog),
        "console": _console(report, catalog),
    }


def _console(report: Report, catalog: Catalog) -> dict[str, Any] | None:
    """The console's count beside agentroll's, or None without an imported export."""
    if not console.has_console(report):
        return None
    figures = report["console"]
    return {
        "reporting": figures["reporting"],
        "coverage_pct": catalog.percent(float(figures["coverage_pct"])),
        "official": report.get("official") == "console",
        "official_sentence": console.official_sentence(report, catalog),
        "line": console.console_line(report, catalog),
        "units": table_view(console.console_units_table(report, catalog), catalog),
        "hosts": table_view(console.console_hosts_table(report, catalog), catalog),
        "unknown": table_view(console.console_unknown_table(report, catalog), catalog),
    }


def render_html(report: Report, catalog: Catalog) -> str:
    """The whole report as one HTML page."""
    return environment(catalog.lang).get_template("report.html.j2").render(**context(report, catalog))
