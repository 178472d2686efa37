"""The written reply as a printable HTML page (A4, self-contained), same content as the DOCX."""

from __future__ import annotations

from agentroll.i18n import Catalog
from agentroll.reports.html import environment
from agentroll.reports.reply import build_reply
from agentroll.reports.tables import Report


def render_reply_html(report: Report, catalog: Catalog, district: str | None = None) -> str:
    """The written reply as one HTML page, ready to print."""
    reply = build_reply(report, catalog, district)
    return environment(catalog.lang).get_template("reply.html.j2").render(reply=reply)
