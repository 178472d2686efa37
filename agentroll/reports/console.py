"""The console's count beside agentroll's, as tables every format lays out (report ``console`` keys).

``console_units_table`` puts each unit's agentroll figure beside the console's; ``console_hosts_table``
lists the PCs on which the two disagree (installed but not reporting, reporting no longer, a name
the console shows that is not the standard one), for the district or one unit (the per-unit view);
``console_unknown_table`` lists the console's entries no inventory PC could be matched to, and why,
and the older entries of a PC the console lists twice. A report without an imported export has none
of these (``console`` is null). The CSV formats carry the console's columns whether or not an export
was imported (``console_host_cells``, ``console_unit_cells``: empty cells without one), so that
a script reading them finds the same header either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentroll.i18n import NP_, Catalog
from agentroll.reports import labels
from agentroll.reports.tables import Report, Table, local_time, unit_label

#: What the console says of an inventory PC (``console.truth``).
TRUTHS: dict[str, str] = {
    "reporting": NP_("console", "reporting"),
    "not_reporting": NP_("console", "installed, not reporting"),
    "stale": NP_("console", "no recent report"),
    "absent": NP_("console", "not on the console"),
}
#: What an unmatched or unsettled console entry is.
ENTRY_KINDS: dict[str, str] = {
    "add_to_roster": NP_("console", "not in the roster: add it"),
    "renamed": NP_("console", "renamed: it was {host}"),
    "ambiguous": NP_("console", "ambiguous: its {key} fits {candidates}"),
    "conflict": NP_("console", "conflict: its MAC or address and its name point at {candidates}"),
    "duplicate": NP_("console", "listed twice: an older entry of {host}"),
}
#: What a console name that is not the standard one means (``console.name_truth``).
NAME_TRUTHS: dict[str, str] = {
    "rename_pending": NP_("console", "rename pending"),
    "console_old_name": NP_("console", "renamed, the console shows the old name"),
}
#: Whose coverage figure is the official one (``official``).
OFFICIAL: dict[str, str] = {
    "console": NP_("official", "the console's"),
    "agentroll": NP_("official", "agentroll's"),
    # A province roll-up whose districts differ.
    "mixed": NP_("official", "each district's own"),
}
#: The keys a match can be made by, in words.
KEYS: dict[str, str] = {
    "mac": NP_("console", "MAC address"),
    "address": NP_("console", "IP address"),
    "name": NP_("console", "name"),
}


#: The units side by side: agentroll's figure, then the console's.
CONSOLE_UNIT_COLUMNS = (
    "code",
    "unit",
    "licenses",
    "installed",
    "coverage",
    "console_reporting",
    "console_coverage",
)
#: The console's columns of the per-PC CSV.
CONSOLE_HOST_COLUMNS = (
    "console_name",
    "matched_by",
    "console_last_seen",
    "console_status",
    "console_cause",
    "console_name_status",
)
#: The console's columns of the per-unit CSV.
CONSOLE_UNIT_CSV_COLUMNS = ("console_reporting", "console_coverage", "official")


def has_console(report: Report) -> bool:
    """An export has been imported: the report carries the console's view."""
    return bool(report.get("console"))


def console_line(report: Report, catalog: Catalog) -> str:
    """Both figures in one sentence, and which one is official."""
    console, totals = report["console"], report["totals"]
    line = catalog.gettext(
        "The console counts {reporting} agents reporting ({console_pct}) in its export of {exported}; "
        "agentroll counts {installed} installed ({pct})."
    ).format(
        reporting=console["reporting"],
        console_pct=catalog.percent(float(console["coverage_pct"])),
        exported=catalog.moment(console["exported_at"]),
        installed=totals["installed"],
        pct=catalog.percent(float(totals["coverage_pct"])),
    )
    return f"{line} {official_sentence(report, catalog)}"


def official_sentence(report: Report, catalog: Catalog) -> str:
    """Which of the two figures is the official one, as a sentence."""
    if report.get("official") == "console":
        return catalog.gettext("The console's figure is the official one.")
    return catalog.gettext("agentroll's figure is the official one.")


def console_units_table(report: Report, catalog: Catalog) -> Table:
    """Per unit: licenses, agentroll's installed and coverage, the console's reporting and coverage."""
    rows = [
        [
            unit["code"],
            unit["name"],
            unit["licenses"],
            unit["installed"],
            float(unit["coverage_pct"]),
            unit.get("console_reporting"),
            float(unit.get("console_coverage_pct") or 0.0),
        ]
        for unit in report["units"]
    ]
    return Table(
        labels.columns(catalog, *CONSOLE_UNIT_COLUMNS),
        rows,
    )


def _why(console: Mapping[str, Any], catalog: Catalog) -> str:
    causes = [console[key] for key in ("cause", "name_cause") if console.get(key)]
    return labels.reasons(catalog, causes)


def disagrees(host: Mapping[str, Any]) -> bool:
    """The console and agentroll disagree about this PC (or the console shows another name)."""
    console = host.get("console") or {}
    return console.get("truth") in ("not_reporting", "stale") or bool(console.get("name_truth"))


def console_hosts_table(report: Report, catalog: Catalog, code: str | None = None) -> Table:
    """The PCs (of one unit, or all) on which the console and agentroll disagree."""
    rows = [
        [
            host["host"],
            host["unit"],
            host["console"]["computer_name"],
            host["standard_name"],
            catalog.pgettext("console", TRUTHS[host["console"]["truth"]]),
            local_time(host["console"]["last_seen"], catalog),
            _why(host["console"], catalog),
        ]
        for host in report["hosts"]
        if (code is None or host["unit"] == code) and disagrees(host)
    ]
    return Table(
        labels.columns(
            catalog, "host", "unit", "console_name", "standard_name", "console_status", "last_seen", "why"
        ),
        rows,
    )


def _entry_kind(entry: Mapping[str, Any], kind: str, catalog: Catalog) -> str:
    template = catalog.pgettext("console", ENTRY_KINDS[kind])
    key = entry.get("key")
    return template.format(
        host=entry.get("host") or "",
        key=catalog.pgettext("console", KEYS[key]) if key in KEYS else "",
        candidates=", ".join(entry.get("candidates") or ()),
    )


def console_unknown_table(report: Report, catalog: Catalog) -> Table:
    """Console entries with no inventory PC: unknown (add or renamed), ambiguous, conflicting; and
    the older entries of a PC listed twice (its latest report stands for it)."""
    console = report["console"]
    listed = [
        *((entry, entry["hint"]) for entry in console.get("unknown") or ()),
        *((entry, "ambiguous") for entry in console.get("ambiguous") or ()),
        *((entry, "conflict") for entry in console.get("conflicts") or ()),
        *((entry, "duplicate") for entry in console.get("duplicates") or ()),
    ]
    unit_of = {host["host"]: host["unit"] for host in report["hosts"]}
    rows = [
        [
            entry["computer_name"],
            entry.get("address"),
            entry.get("mac"),
            _entry_unit(report, entry, unit_of),
            local_time(entry.get("last_seen"), catalog),
            _entry_kind(entry, kind, catalog),
        ]
        for entry, kind in listed
    ]
    return Table(labels.columns(catalog, "console_name", "address", "mac", "unit", "last_seen", "what"), rows)


def _entry_unit(report: Report, entry: Mapping[str, Any], unit_of: Mapping[str, str]) -> str | None:
    """The unit an entry belongs to: its group's, else (a duplicate) its PC's, else its group as written."""
    unit = entry.get("unit") or unit_of.get(entry.get("host") or "")
    return unit_label(report, unit) if unit else entry.get("group")


def console_host_cells(host: Mapping[str, Any], catalog: Catalog) -> list[Any]:
    """A PC's cells under ``CONSOLE_HOST_COLUMNS``; all empty without an export."""
    console = host.get("console")
    if not console:
        return [None] * len(CONSOLE_HOST_COLUMNS)
    key, name_truth = console.get("matched_by"), console.get("name_truth")
    return [
        console.get("computer_name"),
        catalog.pgettext("console", KEYS[key]) if key in KEYS else None,
        local_time(console.get("last_seen"), catalog),
        catalog.pgettext("console", TRUTHS[console["truth"]]),
        labels.reasons(catalog, [console["cause"]] if console.get("cause") else ()),
        catalog.pgettext("console", NAME_TRUTHS[name_truth]) if name_truth in NAME_TRUTHS else None,
    ]


def console_unit_cells(report: Report, unit: Mapping[str, Any], catalog: Catalog) -> list[Any]:
    """A unit's cells under ``CONSOLE_UNIT_CSV_COLUMNS``: the console's count (empty without an export)
    and whose figure is official (agentroll's without an export)."""
    official = catalog.pgettext("official", OFFICIAL[report.get("official") or "agentroll"])
    if not has_console(report):
        return [None, None, official]
    return [unit.get("console_reporting"), float(unit.get("console_coverage_pct") or 0.0), official]
