"""Translations and local formats of the human-readable reports, through standard gettext catalogues.

English is the source language: every text is written in English in the code and the templates
(the msgid), marked with ``_``/``gettext``, ``pgettext`` (a context separates texts that read the
same in English but not in Vietnamese, e.g. the column "PCs" and the sheet "PCs") or, where it is
only named and translated later, ``N_``/``NP_``. Babel's extractor collects them (mapping in
``babel.cfg``); a language's translations are ``agentroll/locale/<lang>/LC_MESSAGES/agentroll.po``.

The ``.po`` sources are compiled with Babel in memory the first time a language other than English
is asked for, once per process (about 0.15 s, mostly Babel reading the ``.po``; English costs
nothing): no generated ``.mo`` file can go stale or be missing from a checkout, and an installed
package needs nothing but the ``.po``. A message missing from a
catalogue shows in English, so a half-translated catalogue never breaks a report.

Times in the reports are shown in a local time zone (``DEFAULT_TIMEZONE`` unless the inventory or
the caller names another); the machine's own zone database is used when present, else the
``tzdata`` package.
"""

from __future__ import annotations

import gettext
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "agentroll"
DEFAULT_LANGUAGE = "en"
#: The source language and every language with a catalogue.
LANGUAGES = (DEFAULT_LANGUAGE, *sorted(path.parent.name for path in LOCALE_DIR.glob("*/LC_MESSAGES")))
#: The district's time zone unless ``agentroll_timezone`` or ``--tz`` names another.
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
#: Several reasons of one PC are shown on one line, separated by this.
REASON_SEPARATOR = "; "
#: For English long dates; a language that writes months as numbers leaves them out.
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


def N_(message: str) -> str:
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


def NP_(context: str, message: str) -> str:
    """Mark ``message`` (in ``context``) for extraction; shown later with ``pgettext(context, ...)``."""
    return message


def path_of(lang: str) -> Path:
    """The ``.po`` catalogue of ``lang``."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(lang: str = DEFAULT_LANGUAGE) -> gettext.NullTranslations:
    """The compiled translations of ``lang`` (English: the identity); refuses unknown languages."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; choose one of: {', '.join(LANGUAGES)}")
    if lang == DEFAULT_LANGUAGE:
        return gettext.NullTranslations()
    # Imported here: only a process that renders a translated report pays for Babel.
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with path_of(lang).open("rb") as source:
        messages = read_po(source, locale=lang, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, messages)  # fuzzy entries are left out, as msgfmt does
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def timezone(name: str | None = None) -> ZoneInfo:
    """The IANA time zone ``name`` (default ``DEFAULT_TIMEZONE``); ValueError names an unknown one."""
    name = name or DEFAULT_TIMEZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}; give an IANA name such as {DEFAULT_TIMEZONE!r} or 'UTC'"
        ) from None


@dataclass(frozen=True)
class Catalog:
    """The texts of one language and the local time zone: everything a renderer formats with."""

    lang: str
    messages: gettext.NullTranslations = field(repr=False)
    zone: ZoneInfo

    def gettext(self, message: str) -> str:
        """``message`` (English) in this language."""
        return self.messages.gettext(message) if message else message

    def pgettext(self, context: str, message: str) -> str:
        """``message`` in ``context`` (``column``, ``state``, ``step``, ...) in this language."""
        return self.messages.pgettext(context, message) if message else message

    def number(self, value: float, decimals: int = 1) -> str:
        """A decimal number with the language's decimal separator (32,6 in Vietnamese)."""
        return f"{value:.{decimals}f}".replace(".", self.pgettext("decimal separator", "."))

    def percent(self, value: float, decimals: int = 1) -> str:
        """A percentage as this language writes it: ``32.6 %`` or ``32,6%``."""
        return self.gettext("{value} %").format(value=self.number(value, decimals))

    def yes_no(self, flag: bool) -> str:
        """The words for yes and no."""
        return self.gettext("yes") if flag else self.gettext("no")

    def local(self, moment: datetime | str) -> datetime:
        """A UTC timestamp (``datetime`` or the report's ISO text) in the local zone."""
        if isinstance(moment, str):
            moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(self.zone)

    def date(self, day: date | str) -> str:
        """A date as this language writes it: ``2026-12-15`` in English, ``15/12/2026`` in Vietnamese."""
        if isinstance(day, str):
            day = date.fromisoformat(day)
        if isinstance(day, datetime):
            day = self.local(day).date()
        pattern = self.pgettext("date format", "{year:04d}-{month:02d}-{day:02d}")
        return pattern.format(year=day.year, month=day.month, day=day.day)

    def long_date(self, day: date) -> str:
        """A date in words, as a letter is dated: ``December 5, 2026``, ``ngày 05 tháng 12 năm 2026``."""
        pattern = self.pgettext("long date format", "{month_name} {day}, {year}")
        month_name = MONTH_NAMES[day.month - 1]
        return pattern.format(year=day.year, month=day.month, day=day.day, month_name=month_name)

    def moment(self, moment: datetime | str) -> str:
        """A timestamp as local date and time to the minute, e.g. ``29/11/2026 12:00``."""
        local = self.local(moment)
        return f"{self.date(local.date())} {local:%H:%M}"

    def zone_label(self, moment: datetime | str | None = None) -> str:
        """The zone's offset from UTC at ``moment`` (default now), e.g. ``UTC+07:00``."""
        local = self.local(moment or datetime.now(UTC))
        offset = local.strftime("%z")
        return f"UTC{offset[:3]}:{offset[3:]}"


def catalog(lang: str = DEFAULT_LANGUAGE, tz: str | None = None) -> Catalog:
    """The catalogue of ``lang`` with times in ``tz`` (default ``DEFAULT_TIMEZONE``)."""
    return Catalog(lang, translations(lang), timezone(tz))
