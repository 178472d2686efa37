"""The self-test filter of agentroll.toolkit: a thin adapter over ``agentroll.selftest``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError

try:
    from agentroll import selftest
except ImportError as import_error:  # the filter says what to install when used; loading must not fail
    AGENTROLL_IMPORT_ERROR: ImportError | None = import_error
else:
    AGENTROLL_IMPORT_ERROR = None


def agentroll_selftest(probe: Any, facts: Any, service: Any = None) -> dict[str, Any]:
    """Compare a probe result with setup's facts and win_service_info's result.

    Returns ``{"disagreements": int, "lines": [str, ...]}`` (``agentroll.selftest.render``).
    """
    if not isinstance(probe, Mapping) or "computer_name" not in probe:
        raise AnsibleFilterError("agentroll_selftest: the input must be the registered result of the probe")
    if not isinstance(facts, Mapping):
        raise AnsibleFilterError("agentroll_selftest: the first argument must be setup's ansible_facts")
    checks = selftest.compare(probe, facts, service if isinstance(service, Mapping) else None)
    return {"disagreements": len(selftest.disagreements(checks)), "lines": selftest.render(checks)}


class FilterModule:
    """Registers the self-test filter."""

    def filters(self) -> dict[str, Any]:
        if AGENTROLL_IMPORT_ERROR is not None:
            from ansible_collections.agentroll.toolkit.plugins.plugin_utils.python_package import (
                unavailable_filter,
            )

            return {"agentroll_selftest": unavailable_filter("agentroll_selftest", AGENTROLL_IMPORT_ERROR)}
        return {"agentroll_selftest": agentroll_selftest}
