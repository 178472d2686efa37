"""Naming filters of agentroll.toolkit: thin adapters over ``agentroll.naming``."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

try:
    from agentroll import naming
except ImportError as import_error:  # the filters say what to install when used; loading must not fail
    AGENTROLL_IMPORT_ERROR: ImportError | None = import_error
else:
    AGENTROLL_IMPORT_ERROR = None


def _text(value: Any, filter_name: str) -> str:
    """The filter's input as text; anything but a string is a playbook mistake worth naming."""
    if not isinstance(value, str):
        raise AnsibleFilterError(f"{filter_name}: expected a string, got {type(value).__name__} {value!r}")
    return str(value)


def agentroll_transliterate(value: Any) -> str:
    """Vietnamese text in ASCII: đ/Đ → d/D, other diacritics dropped, case kept."""
    return naming.transliterate(_text(value, "agentroll_transliterate"))


def agentroll_short_name(value: Any) -> str:
    """SHORT of an owner's full name, e.g. "Phạm Văn Thắng" → "THANGPV"."""
    try:
        return naming.short_name(_text(value, "agentroll_short_name"))
    except naming.NamingError as error:
        raise AnsibleFilterError(f"agentroll_short_name: {error}") from error


def agentroll_valid_name(value: Any) -> bool:
    """Whether the value is a valid standard computer name; non-strings are not."""
    return isinstance(value, str) and naming.is_valid_name(value)


class FilterModule:
    """Registers the naming filters."""

    def filters(self) -> dict[str, Any]:
        found = {
            "agentroll_transliterate": agentroll_transliterate,
            "agentroll_short_name": agentroll_short_name,
            "agentroll_valid_name": agentroll_valid_name,
        }
        if AGENTROLL_IMPORT_ERROR is not None:
            from ansible_collections.agentroll.toolkit.plugins.plugin_utils.python_package import (
                unavailable_filter,
            )

            return {name: unavailable_filter(name, AGENTROLL_IMPORT_ERROR) for name in found}
        return found
