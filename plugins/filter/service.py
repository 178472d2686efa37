"""Agent service filter of agentroll.toolkit: a thin adapter over ``agentroll.plan``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

try:
    from agentroll import plan
except ImportError as import_error:  # the filter says what to install when used; loading must not fail
    AGENTROLL_IMPORT_ERROR: ImportError | None = import_error
else:
    AGENTROLL_IMPORT_ERROR = None


def agentroll_service_needs_repair(probe: Mapping[str, Any]) -> bool:
    """Whether the probe found the agent installed but its service not running automatically."""
    return plan.service_needs_repair(probe)


class FilterModule:
    """Registers the agent service filter."""

    def filters(self) -> dict[str, Any]:
        found = {"agentroll_service_needs_repair": agentroll_service_needs_repair}
        if AGENTROLL_IMPORT_ERROR is not None:
            from ansible_collections.agentroll.toolkit.plugins.plugin_utils.python_package import (
                unavailable_filter,
            )

            return {name: unavailable_filter(name, AGENTROLL_IMPORT_ERROR) for name in found}
        return found
