"""Human-readable reports rendered from the ``agentroll.coverage/1`` report dict.

``render(report, fmt, lang, tz=...)`` is the one entry point; each format lives in its own module
and is imported only when asked for, so that rendering text never loads openpyxl or python-docx.
A renderer takes the report and an ``agentroll.i18n.Catalog`` (language and local time zone).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

from agentroll.i18n import Catalog, catalog

#: format → (module, function). Every function takes (report, catalog) and returns str or bytes.
_RENDERERS: dict[str, tuple[str, str]] = {
    "text": ("agentroll.reports.text", "render_text"),
    "md": ("agentroll.reports.markdown", "render_markdown"),
    "csv": ("agentroll.reports.delimited", "render_hosts_csv"),
    "units-csv": ("agentroll.reports.delimited", "render_units_csv"),
    "html": ("agentroll.reports.html", "render_html"),
    "xlsx": ("agentroll.reports.xlsx", "render_xlsx"),
    "docx": ("agentroll.reports.reply_docx", "render_reply_docx"),
    "reply-html": ("agentroll.reports.reply_html", "render_reply_html"),
}
#: Every format ``render`` accepts ("json" is the machine format of agentroll.report).
FORMATS: tuple[str, ...] = ("json", *_RENDERERS)
#: Formats that come back as bytes (write them in binary mode).
BINARY_FORMATS = frozenset({"xlsx", "docx"})
#: The usual file extension of each format, for callers that name output files.
EXTENSIONS: dict[str, str] = {
    "json": "json",
    "text": "txt",
    "md": "md",
    "csv": "csv",
    "units-csv": "units.csv",
    "html": "html",
    "xlsx": "xlsx",
    "docx": "docx",
    "reply-html": "reply.html",
}


def _renderer(fmt: str) -> Callable[..., str | bytes]:
    if fmt not in _RENDERERS:
        raise ValueError(f"unknown report format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    module_name, function_name = _RENDERERS[fmt]
    return getattr(import_module(module_name), function_name)


def render(
    report: Mapping[str, Any],
    fmt: str,
    lang: str = "en",
    *,
    district: str | None = None,
    tz: str | None = None,
) -> str | bytes:
    """Render ``report`` in ``fmt`` ("text", "md", "csv", ..., see FORMATS) and language ``lang``.

    ``district`` (e.g. "Kon Plông") fills the issuer and place of the written reply (``docx``,
    ``reply-html``); without it those lines are left as dotted blanks to fill in by hand. Times are
    shown in the time zone ``tz``, else the report's ``timezone``, else ``Asia/Ho_Chi_Minh``; the
    JSON keeps UTC whatever ``tz`` says.
    """
    if fmt == "json":
        # The JSON contract belongs to agentroll.report; imported here only when asked for.
        from agentroll.report import to_json

        return to_json(report)
    texts: Catalog = catalog(lang, tz or report.get("timezone"))
    renderer = _renderer(fmt)
    if fmt in ("docx", "reply-html"):
        return renderer(report, texts, district=district)
    return renderer(report, texts)
