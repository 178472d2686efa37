"""agentroll.toolkit.win_agentroll_probe: everything the toolkit needs, read in one invocation.

Mirrors plugins/modules/win_agentroll_probe.ps1 (docs/architecture.md, "The probe module").
"""

from __future__ import annotations

from typing import Any

from agentroll.sim.decoder import ModuleRun
from agentroll.sim.handlers.base import ModuleResult, ModuleSpec, module_handler
from agentroll.sim.host import Product, SimHost

_MIB = 1024 * 1024


@module_handler(
    "win_agentroll_probe",
    ModuleSpec(options=dict.fromkeys(["agent_product_id", "agent_service_name", "agent_display_name"])),
    namespaces=("agentroll.toolkit", "ansible.legacy"),
)
def win_agentroll_probe(host: SimHost, run: ModuleRun, params: dict[str, Any]) -> ModuleResult:
    """Return identity, OS, hardware, disk, PowerShell, pending reboot and agent state; change nothing."""
    return {
        "changed": False,
        "computer_name": host.computer_name,
        "pending_computer_name": host.pending_computer_name,
        "os_caption": host.os_caption,
        "os_build": host.os_build,
        "product_type": host.product_type,
        "architecture": host.architecture,
        "ram_mb": host.ram_mb,
        "system_drive": host.system_drive,
        "system_size_mb": host.system_size_mb,
        "system_free_mb": host.free_bytes() // _MIB,
        "powershell_version": host.powershell_version,
        "reboot_pending": host.reboot_pending,
        "reboot_pending_reasons": list(host.reboot_reasons),
        "agent": agent_state(
            host, params["agent_product_id"], params["agent_service_name"], params["agent_display_name"]
        ),
    }


def agent_state(
    host: SimHost, product_id: str | None, service_name: str | None, display_name: str | None
) -> dict[str, Any]:
    """Find the agent by product id, then display name; its service by name."""
    product = _find_product(host, product_id, display_name)
    service = host.services.get(service_name.lower()) if service_name else None
    installed = product is not None or (not product_id and not display_name and service is not None)
    state: dict[str, Any] = {
        "installed": installed,
        "product_id": product.product_id if product else None,
        "display_name": product.name if product else None,
        "version": product.version if product else None,
        "service_name": service.name if service else service_name,
        "service_state": None,
        "service_start_mode": None,
    }
    if service is not None:
        state["service_state"] = service.state
        state["service_start_mode"] = service.start_mode
    elif service_name:
        state["service_state"] = "missing"
    return state


def _find_product(host: SimHost, product_id: str | None, display_name: str | None) -> Product | None:
    """Look the product up as the probe does in the uninstall keys."""
    if product_id:
        found = host.find_product(product_id)
        if found is not None:
            return found
    if display_name:
        return next((p for p in host.products.values() if p.name == display_name), None)
    return None
