"""Agent profile filter of agentroll.toolkit: a thin adapter over ``agentroll.agent_profile``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

try:
    from agentroll import agent_profile
except ImportError as import_error:  # the filter says what to install when used; loading must not fail
    AGENTROLL_IMPORT_ERROR: ImportError | None = import_error
else:
    AGENTROLL_IMPORT_ERROR = None


def agentroll_profile_unfilled(variables: Mapping[str, Any]) -> list[str]:
    """The agent profile variables that still hold ``roster import``'s placeholder."""
    return agent_profile.unfilled(variables)


class FilterModule:
    """Registers the agent profile filter."""

    def filters(self) -> dict[str, Any]:
        found = {"agentroll_profile_unfilled": agentroll_profile_unfilled}
        if AGENTROLL_IMPORT_ERROR is not None:
            from ansible_collections.agentroll.toolkit.plugins.plugin_utils.python_package import (
                unavailable_filter,
            )

            return {name: unavailable_filter(name, AGENTROLL_IMPORT_ERROR) for name in found}
        return found
