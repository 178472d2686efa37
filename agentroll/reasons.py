"""Why a PC is where it is: structured reasons, kept as data until a report renders them.

A reason is a code plus the values that make it concrete (measured, required, exit code, cause),
e.g. ``Reason("ram", {"measured": 1024, "required": 2048})``. Observations, assessments and the
report JSON carry reasons as plain mappings (``{"code": "ram", "measured": 1024, "required":
2048}``); only a renderer turns them into words, in the reader's language, from the template
registered for the code. A reason recorded by an older agentroll as a bare English string reads
back as the code ``text`` and is shown as it was written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: The code of a reason that is only a sentence (recorded by an older agentroll, or free text).
TEXT = "text"

#: English template of each reason code; ``{name}`` placeholders are filled from the reason's
#: values. Translations are keyed by these templates (see ``agentroll.i18n``).
TEMPLATES: dict[str, str] = {
    TEXT: "{text}",
    "interrupted": "interrupted during {step}; the next run checks",
    "reboot_timeout": "did not come back within {seconds} s of its reboot",
}


@dataclass(frozen=True)
class Reason:
    """One reason: a stable code and the JSON-ready values its template needs."""

    code: str
    values: Mapping[str, Any] = field(default_factory=dict)

    def as_value(self) -> dict[str, Any]:
        """The JSON form stored in observations and reports: ``{"code": ..., **values}``."""
        return {"code": self.code, **self.values}

    @classmethod
    def from_value(cls, value: Any) -> Reason:
        """A reason from its JSON form; a bare string (older stores) becomes a ``text`` reason."""
        if isinstance(value, Reason):
            return value
        if isinstance(value, Mapping) and value.get("code"):
            values = {str(key): item for key, item in value.items() if key != "code"}
            return cls(str(value["code"]), values)
        return cls(TEXT, {"text": str(value)})

    def english(self) -> str:
        """The reason in English; an unknown code or a missing value falls back to readable data."""
        template = TEMPLATES.get(self.code)
        if template is not None:
            try:
                return template.format(**self.values)
            except (KeyError, IndexError, ValueError):
                pass
        details = ", ".join(f"{key} {value}" for key, value in self.values.items())
        return f"{self.code.replace('_', ' ')}: {details}" if details else self.code.replace("_", " ")


def text(sentence: str) -> Reason:
    """A free-text reason (an error message the PC or Ansible gave, already one line)."""
    return Reason(TEXT, {"text": sentence})
