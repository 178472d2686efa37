"""The words the reports use for keys of the report JSON: columns, sheets, host states, licenses, reasons
and next steps.

Each vocabulary maps a stable key to its English label, marked for extraction with the context it
is translated in (a column "PCs" and a sheet "PCs" are different words in Vietnamese).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from agentroll.i18n import NP_, REASON_SEPARATOR, Catalog
from agentroll.next_steps import next_step
from agentroll.reasons import Reason

COLUMNS: dict[str, str] = {
    "code": NP_("column", "Code"),
    "unit": NP_("column", "Unit"),
    "licenses": NP_("column", "Licenses"),
    "hosts": NP_("column", "PCs"),
    "installed": NP_("column", "Installed"),
    "coverage": NP_("column", "Coverage (%)"),
    "eligible": NP_("column", "Eligible"),
    "unknown": NP_("column", "Not known yet"),
    "usable": NP_("column", "Usable"),
    "unused_licenses": NP_("column", "Licenses to return"),
    "remaining": NP_("column", "Still to finish"),
    "deadline": NP_("column", "Deadline"),
    "days_left": NP_("column", "Days left"),
    "will_miss": NP_("column", "At risk"),
    "state": NP_("column", "State"),
    "count": NP_("column", "PCs"),
    "host": NP_("column", "PC"),
    "owner": NP_("column", "User"),
    "reasons": NP_("column", "Reasons"),
    "next_step": NP_("column", "What to do next"),
    "computer_name": NP_("column", "Computer name"),
    "standard_name": NP_("column", "Standard name"),
    "last_seen": NP_("column", "Last seen"),
    "address": NP_("column", "Address"),
    "license": NP_("column", "License"),
    "knowledge_age_days": NP_("column", "Knowledge age (days)"),
    "from": NP_("column", "From unit"),
    "to": NP_("column", "To unit"),
    "run": NP_("column", "Run"),
    "playbook": NP_("column", "Playbook"),
    "finished_at": NP_("column", "Finished"),
    "shortfall": NP_("column", "What falls short"),
    "number": NP_("column", "No."),
    "console_name": NP_("column", "Name on the console"),
    "console_status": NP_("column", "On the console"),
    "console_last_seen": NP_("column", "Last report to the console"),
    "console_cause": NP_("column", "Likely cause"),
    "console_name_status": NP_("column", "Name on the console vs standard name"),
    "official": NP_("column", "Official figure"),
    "console_reporting": NP_("column", "Reporting to the console"),
    "console_coverage": NP_("column", "Console coverage (%)"),
    "matched_by": NP_("column", "Matched by"),
    "why": NP_("column", "Why"),
    "mac": NP_("column", "MAC address"),
    "what": NP_("column", "What it is"),
}

SHEETS: dict[str, str] = {
    "units": NP_("sheet", "Units"),
    "chart": NP_("sheet", "Chart"),
    "hosts": NP_("sheet", "PCs"),
    "reallocation": NP_("sheet", "Reallocation"),
    "history": NP_("sheet", "History"),
    "console": NP_("sheet", "Console"),
    "console_pcs": NP_("sheet", "Console differences"),
    "console_unknown": NP_("sheet", "Console unknown PCs"),
}

STATES: dict[str, str] = {
    "compliant": NP_("state", "Compliant"),
    "reboot_pending": NP_("state", "Reboot pending"),
    "misnamed": NP_("state", "Misnamed"),
    "agent_unhealthy": NP_("state", "Agent not running"),
    "not_installed": NP_("state", "Not installed"),
    "ineligible": NP_("state", "Ineligible"),
    "unmanageable": NP_("state", "Unmanageable"),
    "unreachable": NP_("state", "Unreachable"),
    "failed": NP_("state", "Failed"),
    "unknown": NP_("state", "Not yet contacted"),
}

LICENSES: dict[str, str] = {
    "granted": NP_("license", "granted"),
    "waiting": NP_("license", "waiting"),
}

#: Excel refuses longer sheet names.
MAX_SHEET_NAME = 31


def column(catalog: Catalog, key: str) -> str:
    """A column name."""
    return catalog.pgettext("column", COLUMNS[key])


def columns(catalog: Catalog, *keys: str) -> list[str]:
    """Several column names, in order."""
    return [column(catalog, key) for key in keys]


def sheet(catalog: Catalog, key: str) -> str:
    """A worksheet name."""
    return catalog.pgettext("sheet", SHEETS[key])[:MAX_SHEET_NAME]


def state(catalog: Catalog, key: str) -> str:
    """The display name of a host state key such as ``not_installed``."""
    return catalog.pgettext("state", STATES[key]) if key in STATES else key


def license_status(catalog: Catalog, status: str | None) -> str:
    """The display form of a license decision (``granted``/``waiting``), '' when none was made."""
    return catalog.pgettext("license", LICENSES[status]) if status in LICENSES else ""


def reasons(catalog: Catalog, values: Iterable[Any]) -> str:
    """Several reasons (JSON forms, or sentences of an older report) as one line."""
    return REASON_SEPARATOR.join(Reason.from_value(value).render(catalog) for value in values)


def host_reasons(catalog: Catalog, host: Mapping[str, Any]) -> str:
    """Why a PC is in its state: its structured ``causes``, else (an older report) its ``reasons``."""
    causes = host.get("causes")
    return reasons(catalog, causes if causes is not None else host.get("reasons") or ())


def host_next_step(catalog: Catalog, host: Mapping[str, Any]) -> str:
    """What to do next about a PC, in words: its ``next_step``, else (an older report) derived from
    its state and causes the way the report derives it."""
    if "next_step" in host:
        value = host["next_step"]
        return Reason.from_value(value).render(catalog) if value else ""
    causes = host.get("causes")
    step = next_step(host["state"], causes if causes is not None else host.get("reasons") or ())
    return step.render(catalog) if step else ""
