"""Translations of the human-readable reports: headings, column names, states and the core's reasons.

Catalogs live in ``agentroll/i18n/<lang>.yml``. English is the reference: a key missing from another
language falls back to English, so a half-translated catalog never breaks a report. The core
writes reasons in English ("RAM 1024 MB < 2048 MB"); a catalog's ``reasons`` rules rephrase them
with the measured and required values carried over, and a reason no rule knows stays English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

CATALOG_DIR = Path(__file__).parent / "i18n"
LANGUAGES = ("en", "vi")
DEFAULT_LANGUAGE = "en"
#: Several reasons of one observation (reboot causes) arrive joined with this separator.
REASON_SEPARATOR = "; "


@dataclass(frozen=True)
class ReasonRule:
    """One English reason pattern and the template that says it in the catalog's language."""

    pattern: re.Pattern[str]
    template: str

    def apply(self, reason: str, translate: Any) -> str | None:
        """Return the translated reason, or None when the pattern does not match it."""
        match = self.pattern.fullmatch(reason)
        if match is None:
            return None
        values = {
            # Groups named reason* hold a nested reason ("install: <reason>").
            name: translate(value) if name.startswith("reason") and value else (value or "")
            for name, value in match.groupdict().items()
        }
        return self.template.format(**values)


class Catalog:
    """The texts of one language, with English as the fallback for every missing key."""

    def __init__(self, lang: str, data: dict[str, Any], fallback: Catalog | None = None) -> None:
        self.lang = lang
        self._data = data
        self._fallback = fallback
        self._rules = tuple(
            ReasonRule(re.compile(rule["match"]), rule["text"]) for rule in data.get("reasons") or ()
        )

    def _lookup(self, section: str, key: str) -> Any:
        value = (self._data.get(section) or {}).get(key)
        if value is None and self._fallback is not None:
            return self._fallback._lookup(section, key)
        if value is None:
            raise KeyError(f"{section}.{key} is missing from the {self.lang} catalog")
        return value

    def text(self, key: str, **values: Any) -> str:
        """A heading or sentence from the ``text`` section, with placeholders filled."""
        return str(self._lookup("text", key)).format(**values)

    def column(self, key: str) -> str:
        """A column name."""
        return str(self._lookup("columns", key))

    def columns(self, *keys: str) -> list[str]:
        """Several column names, in order."""
        return [self.column(key) for key in keys]

    def sheet(self, key: str) -> str:
        """A worksheet name (Excel allows at most 31 characters)."""
        return str(self._lookup("sheets", key))[:31]

    def state(self, state: str) -> str:
        """The display name of a host state key such as ``not_installed``."""
        return str(self._lookup("states", state))

    def license(self, status: str | None) -> str:
        """The display form of a license decision (``granted``/``waiting``), '' when none was made."""
        return str(self._lookup("license", status)) if status else ""

    def reply(self, key: str, **values: Any) -> Any:
        """A piece of the written reply; lists (recipients) come back as lists."""
        value = self._lookup("reply", key)
        return value.format(**values) if isinstance(value, str) else value

    def reason(self, reason: str) -> str:
        """The reason in this language; unknown reasons stay as the core wrote them (English)."""
        for rule in self._rules:
            translated = rule.apply(reason, self.reason)
            if translated is not None:
                return translated
        if REASON_SEPARATOR in reason:
            return REASON_SEPARATOR.join(self.reason(part) for part in reason.split(REASON_SEPARATOR))
        return reason

    def reasons(self, reasons: list[str] | tuple[str, ...]) -> str:
        """Several reasons as one line."""
        return REASON_SEPARATOR.join(self.reason(reason) for reason in reasons)

    def number(self, value: float, decimals: int = 1) -> str:
        """A decimal number with the language's decimal separator (32,6 in Vietnamese)."""
        separator = str(self._data.get("decimal_separator") or ".")
        return f"{value:.{decimals}f}".replace(".", separator)

    def percent(self, value: float, decimals: int = 1) -> str:
        """A percentage as this language writes it: ``32.6 %`` or ``32,6%``."""
        return self.text("percent", value=self.number(value, decimals))

    def yes_no(self, flag: bool) -> str:
        """The words for yes and no."""
        return self.text("yes_word" if flag else "no_word")


def _read(lang: str) -> dict[str, Any]:
    path = CATALOG_DIR / f"{lang}.yml"
    with path.open(encoding="utf-8") as stream:
        return yaml.safe_load(stream) or {}


@cache
def catalog(lang: str = DEFAULT_LANGUAGE) -> Catalog:
    """The catalog of ``lang`` ("en" or "vi"); unknown languages are refused with the valid ones."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; choose one of: {', '.join(LANGUAGES)}")
    english = Catalog(DEFAULT_LANGUAGE, _read(DEFAULT_LANGUAGE))
    if lang == DEFAULT_LANGUAGE:
        return english
    return Catalog(lang, _read(lang), fallback=english)


def translate_reason(reason: str, lang: str) -> str:
    """Convenience for callers outside the reports: one reason in ``lang``."""
    return catalog(lang).reason(reason)
