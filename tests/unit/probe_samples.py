"""Sample probe results and agent requirements shared by the core's unit tests."""

from __future__ import annotations

from typing import Any

from agentroll.eligibility import Requirements

#: The requirements of a typical agent profile (Windows 10/11, x64, 2 GB RAM and free space, PS 5.1).
REQUIREMENTS_PROFILE: dict[str, Any] = {
    "os": {"windows10": 17763, "windows11": 22000},
    "architectures": ["x64"],
    "min_ram_mb": 2048,
    "min_system_free_mb": 2048,
    "min_powershell": "5.1",
}
REQUIREMENTS = Requirements.from_mapping(REQUIREMENTS_PROFILE)

#: What the probe measures on a capable Windows 10 PC (the ``facts`` observation, less os_family).
CAPABLE_PC: dict[str, Any] = {
    "os_caption": "Microsoft Windows 10 Pro",
    "os_build": 19045,
    "product_type": "workstation",
    "architecture": "x64",
    "ram_mb": 8192,
    "system_drive": "C:",
    "system_size_mb": 256000,
    "system_free_mb": 120000,
    "powershell_version": "5.1.19041.4648",
}


def probe_result(computer_name: str, agent: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A probe module result of a capable Windows 10 PC; keywords override any key."""
    result: dict[str, Any] = {
        "changed": False,
        "computer_name": computer_name,
        "pending_computer_name": None,
        **CAPABLE_PC,
        "reboot_pending": False,
        "reboot_pending_reasons": [],
        "agent": agent,
    }
    result.update(changes)
    return result
