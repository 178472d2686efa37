"""What an agent profile must not carry to a real PC: one rule for the agent role and ``agentroll bundle``.

``agentroll roster import`` writes a profile of ``CHANGE-ME`` placeholders that the district fills in;
a profile still holding one installs nothing (the role's ``profile.yml`` through the filter
``agentroll_profile_unfilled``, the offline kit through ``agentroll.bundle``). The toolkit's sample
agent (``roles/agent/files/sim-agent.msi``, whatever its file is called) is recognised by its SHA-256:
it is for the simulated fleet only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: The marker of a value the user must fill in.
PLACEHOLDER = "CHANGE-ME"
#: The profile variables ``roster import`` writes as placeholders, in the order they are named.
FILLED_IN_VARIABLES = (
    "agentroll_agent_display_name",
    "agentroll_agent_installer",
    "agentroll_agent_installer_sha256",
    "agentroll_agent_product_id",
    "agentroll_agent_service_name",
    "agentroll_agent_server",
)
#: The SHA-256 of the sample simulated agent; ``roles/agent/vars/main.yml`` holds the same value.
SAMPLE_AGENT_SHA256 = "844308a6482e6071eb8196b5ebcf371b284981bfad39ed53ea257e7733506db1"


def unfilled(variables: Mapping[str, Any]) -> list[str]:
    """The profile variables among ``variables`` that still hold the placeholder."""
    return [name for name in FILLED_IN_VARIABLES if variables.get(name) == PLACEHOLDER]


def is_sample_agent(sha256: str) -> bool:
    """Whether an installer with this SHA-256 is the toolkit's sample simulated agent."""
    return sha256.strip().lower() == SAMPLE_AGENT_SHA256
