"""The content of the written reply: the PCs that cannot take the agent and the licenses to move.

The district asked for it in writing, so its layout follows a Vietnamese administrative report
(issuer and national motto side by side, title, addressee, body, tables, place and date, signature).
This module only decides what the reply says; ``reply_docx`` and ``reply_html`` lay it out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from agentroll.i18n import Catalog
from agentroll.reports import labels, tables
from agentroll.reports.tables import REPLY_STATES, Report, Table

#: Left blank for the officer to fill in by hand when the district is not known.
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
    intro: str
    ineligible_heading: str
    ineligible: Table
    none_ineligible: str
    reallocation_heading: str
    reallocation: Table
    no_reallocation: str
    closing: str
    recipients_heading: str
    recipients: list[str]
    signer_title: str
    signer_note: str


def _report_date(report: Report, catalog: Catalog) -> date:
    """The report's date where the reply is signed (local time)."""
    try:
        return catalog.local(str(report["generated_at"])).date()
    except (KeyError, ValueError):
        return catalog.local(datetime.now(UTC)).date()


def _place_date(report: Report, catalog: Catalog, district: str | None) -> str:
    day = _report_date(report, catalog)
    return catalog.gettext("{place}, {date}").format(place=district or BLANK, date=catalog.long_date(day))


def ineligible_table(report: Report, catalog: Catalog) -> Table:
    """No. / unit / PC / user / what falls short, for every ineligible or unmanageable PC."""
    names = tables.unit_names(report)
    rows = []
    for number, host in enumerate(tables.hosts_in(report, REPLY_STATES), start=1):
        pc = host["host"]
        if host.get("computer_name"):
            pc = f"{pc} ({host['computer_name']})"
        rows.append(
            [
                number,
                names.get(host["unit"], host["unit"]),
                pc,
                host.get("owner") or "",
                labels.host_reasons(catalog, host) or labels.state(catalog, host["state"]),
            ]
        )
    headers = labels.columns(catalog, "number", "unit", "host", "owner", "shortfall")
    return Table(headers, rows)


def reallocation_table(report: Report, catalog: Catalog) -> Table:
    """No. / from unit / to unit / licenses."""
    names = tables.unit_names(report)
    rows = [
        [number, names.get(move["from"], move["from"]), names.get(move["to"], move["to"]), move["licenses"]]
        for number, move in enumerate(report.get("reallocation") or (), start=1)
    ]
    return Table(labels.columns(catalog, "number", "from", "to", "licenses"), rows)


def build_reply(report: Report, catalog: Catalog, district: str | None = None) -> Reply:
    """The reply's content for ``report`` in the catalog's language."""
    _ = catalog.gettext
    totals = report["totals"]
    return Reply(
        lang=catalog.lang,
        issuer_parent=_("PEOPLE'S COMMITTEE OF {district_upper} DISTRICT").format(
            district_upper=(district or BLANK).upper()
        ),
        issuer=_("IT TEAM"),
        number=_("No.:      /BC-CNTT"),
        nation=_("SOCIALIST REPUBLIC OF VIETNAM"),
        motto=_("Independence - Freedom - Happiness"),
        place_date=_place_date(report, catalog, district),
        title=_("REPORT ON COMPUTERS NOT ELIGIBLE FOR THE MALWARE-MONITORING AGENT"),
        recipient=_("To: the People's Committee of {district} district").format(district=district or BLANK),
        intro=_(
            "Following the allocation of {licenses} agent licenses to the units of the district, the IT "
            "team checked every licensed computer. {installed} computers have the agent ({pct}). The "
            "computers below cannot take the agent, or cannot be managed remotely, for the reasons "
            "given, so their licenses can be moved to other units."
        ).format(
            licenses=totals["licenses"],
            installed=totals["installed"],
            pct=catalog.percent(float(totals["coverage_pct"])),
        ),
        ineligible_heading=_("1. Computers that cannot take the agent"),
        ineligible=ineligible_table(report, catalog),
        none_ineligible=_("No computer falls short of the agent's requirements."),
        reallocation_heading=_("2. Licenses proposed for reallocation"),
        reallocation=reallocation_table(report, catalog),
        no_reallocation=_("No license needs to move."),
        closing=_("The IT team respectfully reports for consideration and decision."),
        recipients_heading=_("Recipients:"),
        recipients=[_("As above;"), _("Filed.")],
        signer_title=_("REPORTING OFFICER"),
        signer_note=_("(signature and full name)"),
    )
