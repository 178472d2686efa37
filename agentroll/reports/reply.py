"""The content of the written reply: the PCs that cannot take the agent, the licenses to move or to
return, and the PCs waiting for one.

The district asked for it in writing, so its layout follows a Vietnamese administrative report
(issuer and national motto side by side, title, addressee, body, tables, place and date, signature).
This module only decides what the reply says; ``reply_docx`` and ``reply_html`` lay it out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from agentroll.i18n import Catalog
from agentroll.reports import labels, tables
from agentroll.reports.tables import REPLY_STATES, Report, Table

#: Left blank for the officer to fill in by hand when the inventory does not say (district, reference,
#: signer).
BLANK = "……………"


@dataclass(frozen=True)
class Reply:
    """Every text and table of the written reply, in one language."""

    lang: str
    issuer_parent: str
    issuer: str
    number: str
    nation: str
    motto: str
    place_date: str
    title: str
    recipient: str
    intro: list[str]
    ineligible_heading: str
    ineligible: Table
    none_ineligible: str
    reallocation_heading: str
    reallocation: Table
    no_reallocation: str
    returnable: str | None
    waiting_heading: str
    waiting: Table
    none_waiting: str
    closing: str
    recipients_heading: str
    recipients: list[str]
    signer_title: list[str]
    signer_note: str | None
    signer_name: str | None


def _report_date(report: Report, catalog: Catalog) -> date:
    """The report's date where the reply is signed (local time)."""
    try:
        return catalog.local(str(report["generated_at"])).date()
    except (KeyError, ValueError):
        return catalog.local(datetime.now(UTC)).date()


def _official_console_sentence(report: Report, catalog: Catalog) -> list[str]:
    """The console's count when it is the official figure (the one the district is judged by)."""
    console = report.get("console")
    if not console or report.get("official") != "console":
        return []
    sentence = catalog.gettext(
        "The central monitoring console counts {reporting} agents reporting to it ({pct}); this is "
        "the official figure."
    )
    return [
        sentence.format(reporting=console["reporting"], pct=catalog.percent(float(console["coverage_pct"])))
    ]


def _place_date(report: Report, catalog: Catalog, district: str | None) -> str:
    day = _report_date(report, catalog)
    return catalog.gettext("{place}, {date}").format(place=district or BLANK, date=catalog.long_date(day))


def _pc(host: Mapping[str, Any]) -> str:
    """The PC as the district knows it, with the name Windows gives it when that differs."""
    pc = host["host"]
    if host.get("computer_name"):
        pc = f"{pc} ({host['computer_name']})"
    return pc


def ineligible_table(report: Report, catalog: Catalog) -> Table:
    """No. / unit / PC / user / what falls short, for every ineligible or unmanageable PC."""
    names = tables.unit_names(report)
    rows = [
        [
            number,
            names.get(host["unit"], host["unit"]),
            _pc(host),
            host.get("owner") or "",
            labels.host_reasons(catalog, host) or labels.state(catalog, host["state"]),
        ]
        for number, host in enumerate(tables.hosts_in(report, REPLY_STATES), start=1)
    ]
    headers = labels.columns(catalog, "number", "unit", "host", "owner", "shortfall")
    return Table(headers, rows)


def reallocation_table(report: Report, catalog: Catalog) -> Table:
    """No. / from unit / to unit / licenses: the moves, then the licenses returned to the district."""
    names = tables.unit_names(report)
    moves = [
        (names.get(move["from"], move["from"]), names.get(move["to"], move["to"]), move["licenses"])
        for move in report.get("reallocation") or ()
    ]
    district = catalog.gettext("returned to the district")
    returns = [
        (names.get(entry["unit"], entry["unit"]), district, entry["licenses"])
        for entry in report.get("returnable") or ()
    ]
    rows = [[number, *row] for number, row in enumerate([*moves, *returns], start=1)]
    return Table(labels.columns(catalog, "number", "from", "to", "licenses"), rows)


def waiting_table(report: Report, catalog: Catalog) -> Table:
    """No. / unit / PC / user, for every PC that could take the agent but waits for a license."""
    names = tables.unit_names(report)
    rows = [
        [number, names.get(host["unit"], host["unit"]), _pc(host), host.get("owner") or ""]
        for number, host in enumerate(tables.waiting_hosts(report), start=1)
    ]
    return Table(labels.columns(catalog, "number", "unit", "host", "owner"), rows)


def _returnable_sentence(report: Report, catalog: Catalog, district: str | None) -> str | None:
    """What happens to the licenses no unit needs, or None when there are none."""
    count = sum(entry["licenses"] for entry in report.get("returnable") or ())
    if not count:
        return None
    return catalog.gettext(
        "{count} licenses that no unit can use now are returned to the People's Committee of {district} "
        "district, to be allocated again to computers that are ready to take the agent."
    ).format(count=count, district=district or BLANK)


def build_reply(report: Report, catalog: Catalog, district: str | None = None) -> Reply:
    """The reply's content for ``report`` in the catalog's language.

    The heading and signature come from the report's ``letter`` (the inventory's ``agentroll_district``
    and ``agentroll_reply_*``); ``district`` overrides the district. What is not set is left as a
    dotted blank to fill in by hand.
    """
    _ = catalog.gettext
    letter = report.get("letter") or {}
    district = district or letter.get("district")
    issuer = letter.get("issuer") or _("IT team")
    reference = letter.get("reference") or _("document No. {blank} of {blank}").format(blank=BLANK)
    totals = report["totals"]
    return Reply(
        lang=catalog.lang,
        issuer_parent=_("PEOPLE'S COMMITTEE OF {district_upper} DISTRICT").format(
            district_upper=(district or BLANK).upper()
        ),
        issuer=issuer.upper(),
        number=_("No.:      /BC-CNTT"),
        nation=_("SOCIALIST REPUBLIC OF VIETNAM"),
        motto=_("Independence - Freedom - Happiness"),
        place_date=_place_date(report, catalog, district),
        title=_("REPORT ON COMPUTERS NOT ELIGIBLE FOR THE MALWARE-MONITORING AGENT"),
        recipient=_("To: the People's Committee of {district} district").format(district=district or BLANK),
        intro=[
            _(
                "In reply to {reference}, the {issuer} reports on the malware-monitoring agent on the "
                "computers of the district's units as follows."
            ).format(reference=reference, issuer=issuer),
            _(
                "Of the {licenses} agent licenses allocated to the units of the district, {installed} are "
                "in use on computers that have the agent ({pct}). The computers below cannot take the "
                "agent, or cannot be managed remotely, for the reasons given, so their licenses can be "
                "moved to units whose computers are waiting for one."
            ).format(
                licenses=totals["licenses"],
                installed=totals["installed"],
                pct=catalog.percent(float(totals["coverage_pct"])),
            ),
            *_official_console_sentence(report, catalog),
        ],
        ineligible_heading=_("1. Computers that cannot take the agent"),
        ineligible=ineligible_table(report, catalog),
        none_ineligible=_("No computer falls short of the agent's requirements."),
        reallocation_heading=_("2. Licenses proposed for reallocation"),
        reallocation=reallocation_table(report, catalog),
        no_reallocation=_("No license needs to move."),
        returnable=_returnable_sentence(report, catalog, district),
        waiting_heading=_("3. Computers waiting for a license"),
        waiting=waiting_table(report, catalog),
        none_waiting=_("No computer is waiting for a license."),
        closing=_("Respectfully submitted for consideration and decision."),
        recipients_heading=_("Recipients:"),
        recipients=[_("As above;"), _("Filed.")],
        signer_title=(letter.get("signer_title") or BLANK).upper().splitlines(),
        signer_note=None if letter.get("signer_name") else _("(signature and full name)"),
        signer_name=letter.get("signer_name"),
    )
