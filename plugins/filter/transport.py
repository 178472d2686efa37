"""Transport filter of agentroll.toolkit: a thin adapter over ``agentroll.transport``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

try:
    from agentroll import transport
except ImportError as import_error:  # the filter says what to install when used; loading must not fail
    AGENTROLL_IMPORT_ERROR: ImportError | None = import_error
else:
    AGENTROLL_IMPORT_ERROR = None


def agentroll_transport_problems(hostvars: Mapping[str, Any], hosts: Sequence[str]) -> list[str]:
    """One line per insecure WinRM setting among ``hosts``; reads only the connection variables."""
    per_host = {}
    for host in hosts:
        variables = hostvars[host]
        per_host[host] = {name: variables.get(name) for name in transport.VARIABLES}
    return transport.problem_lines(per_host, hosts)


class FilterModule:
    """Registers the transport filter."""

    def filters(self) -> dict[str, Any]:
        found = {"agentroll_transport_problems": agentroll_transport_problems}
        if AGENTROLL_IMPORT_ERROR is not None:
            from ansible_collections.agentroll.toolkit.plugins.plugin_utils.python_package import (
                unavailable_filter,
            )

            return {name: unavailable_filter(name, AGENTROLL_IMPORT_ERROR) for name in found}
        return found
