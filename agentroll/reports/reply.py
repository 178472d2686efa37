"""The content of the written reply: the PCs that cannot take the agent and the licenses to move.

The district asked for it in writing, so its layout follows a Vietnamese administrative report
(issuer and national motto side by side, title, addressee, body, tables, place and date, signature).
This module only decides what the reply says; ``reply_docx`` and ``reply_html`` lay it out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from agentroll.i18n import Catalog
from agentroll.reports import tables
from agentroll.reports.tables import REPLY_STATES, Report, Table

#: Left blank for the officer to fill in by hand when the district is not known.
BLANK = "……………"
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


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


def _report_date(report: Report) -> date:
    try:
        return datetime.fromisoformat(str(report["generated_at"]).replace("Z", "+00:00")).date()
    except (KeyError, ValueError):
        return date.today()


def _place_date(report: Report, catalog: Catalog, district: str | None) -> str:
    day = _report_date(report)
    return catalog.reply(
        "place_date",
        place=district or BLANK,
        day=day.day,
        month=day.month,
        year=day.year,
        month_name=MONTH_NAMES[day.month - 1],
    )


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
                catalog.reasons(host.get("reasons") or ()) or catalog.state(host["state"]),
            ]
        )
    headers = catalog.columns("number", "unit", "host", "owner", "shortfall")
    return Table(headers, rows)


def reallocation_table(report: Report, catalog: Catalog) -> Table:
    """No. / from unit / to unit / licenses."""
    names = tables.unit_names(report)
    rows = [
        [number, names.get(move["from"], move["from"]), names.get(move["to"], move["to"]), move["licenses"]]
        for number, move in enumerate(report.get("reallocation") or (), start=1)
    ]
    return Table(catalog.columns("number", "from", "to", "licenses"), rows)


def build_reply(report: Report, catalog: Catalog, district: str | None = None) -> Reply:
    """The reply's content for ``report`` in the catalog's language."""
    totals = report["totals"]
    return Reply(
        lang=catalog.lang,
        issuer_parent=catalog.reply("issuer_parent", district_upper=(district or BLANK).upper()),
        issuer=catalog.reply("issuer"),
        number=catalog.reply("number"),
        nation=catalog.reply("nation"),
        motto=catalog.reply("motto"),
        place_date=_place_date(report, catalog, district),
        title=catalog.reply("title"),
        recipient=catalog.reply("recipient", district=district or BLANK),
        intro=catalog.reply(
            "intro",
            licenses=totals["licenses"],
            installed=totals["installed"],
            pct=catalog.percent(float(totals["coverage_pct"])),
        ),
        ineligible_heading=catalog.reply("ineligible_heading"),
        ineligible=ineligible_table(report, catalog),
        none_ineligible=catalog.reply("none_ineligible"),
        reallocation_heading=catalog.reply("reallocation_heading"),
        reallocation=reallocation_table(report, catalog),
        no_reallocation=catalog.text("no_reallocation"),
        closing=catalog.reply("closing"),
        recipients_heading=catalog.reply("recipients"),
        recipients=[str(item) for item in catalog.reply("recipients_list")],
        signer_title=catalog.reply("signer_title"),
        signer_note=catalog.reply("signer_note"),
    )
