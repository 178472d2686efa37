"""The inventory's console variables, from ``units`` or else ``all``, checked into ``ConsoleSettings``.

``agentroll_console_columns``: field → header (or list of headers) of the district's console export;
``agentroll_console_stale_days``: days without a report after which an agent counts as not reporting
(default 7); ``agentroll_console_official``: ``console`` (default: the console's figure is official
when an export has been imported) or ``agentroll``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentroll.console.columns import FIELDS
from agentroll.model import DEFAULT_CONSOLE_STALE_DAYS, ConsoleSettings

VARIABLES = ("agentroll_console_columns", "agentroll_console_stale_days", "agentroll_console_official")
OFFICIAL_CHOICES = ("console", "agentroll")


def console_settings(values: Mapping[str, tuple[str, Any]], errors: list[str]) -> ConsoleSettings:
    """Check the variables (name → (group that sets it, value)); problems go to ``errors``."""
    columns: dict[str, tuple[str, ...]] = {}
    if "agentroll_console_columns" in values:
        group, mapping = values["agentroll_console_columns"]
        where = f"group '{group}': agentroll_console_columns"
        if not isinstance(mapping, Mapping):
            errors.append(f"{where} must map fields ({', '.join(FIELDS)}) to header names")
        else:
            for field, headers in mapping.items():
                spellings = [headers] if isinstance(headers, str) else headers
                if field not in FIELDS:
                    errors.append(f"{where}: unknown field {field!r}; fields: {', '.join(FIELDS)}")
                elif not isinstance(spellings, list) or not all(
                    isinstance(h, str) and h.strip() for h in spellings
                ):
                    errors.append(f"{where}: {field} must be a header name or a list of header names")
                else:
                    columns[field] = tuple(spellings)
    stale_days = DEFAULT_CONSOLE_STALE_DAYS
    if "agentroll_console_stale_days" in values:
        group, value = values["agentroll_console_stale_days"]
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            stale_days = value
        else:
            errors.append(
                f"group '{group}': agentroll_console_stale_days {value!r} "
                "is not a whole number of days (>= 0)"
            )
    official = "console"
    if "agentroll_console_official" in values:
        group, value = values["agentroll_console_official"]
        if value in OFFICIAL_CHOICES:
            official = value
        else:
            errors.append(
                f"group '{group}': agentroll_console_official {value!r} "
                f"is not one of {', '.join(OFFICIAL_CHOICES)}"
            )
    return ConsoleSettings(columns=columns, stale_days=stale_days, official=official)
