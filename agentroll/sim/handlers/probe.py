"""agentroll.toolkit.win_agentroll_probe: everything the toolkit needs, read in one invocation.

Mirrors plugins/modules/win_agentroll_probe.ps1 (docs/architecture.md, "The probe module"),
including its warnings when a query fails (the host's ``failing_queries`` fault).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from agentroll.sim.decoder import ModuleRun
from agentroll.sim.handlers.base import ModuleResult, ModuleSpec, module_handler
from agentroll.sim.host import PROBE_QUERIES, Product, SimHost

_MIB = 1024 * 1024


@module_handler(
    "win_agentroll_probe",
    ModuleSpec(
        options={
            **dict.fromkeys(
                [
                    "agent_product_id",
                    "agent_service_name",
                    "agent_display_name",
                    "agent_server",
                    "agent_last_contact_key",
                    "agent_last_contact_value",
                    "agent_last_contact_file",
                ]
            ),
            "agent_server_timeout_ms": 2000,
        }
    ),
    namespaces=("agentroll.toolkit", "ansible.legacy"),
)
def win_agentroll_probe(host: SimHost, run: ModuleRun, params: dict[str, Any]) -> ModuleResult:
    """Return identity, OS, hardware, disk, PowerShell, pending reboot, agent state and the agent's
    check-in; change nothing."""
    product_id, service_name = params["agent_product_id"], params["agent_service_name"]
    result = probe(host, product_id, service_name, params["agent_display_name"])
    warnings = result.setdefault("warnings", [])
    result["checkin"] = checkin(host, params, result["agent"], warnings)
    if not warnings:
        del result["warnings"]
    return result


#: ``host:port`` (``[v6address]:port``), as the module's regular expression reads it.
_SERVER = re.compile(r"\[?(?P<host>[^\[\]]+?)\]?:(?P<port>\d{1,5})")


def checkin(
    host: SimHost, params: dict[str, Any], agent: dict[str, Any], warnings: list[str]
) -> dict[str, Any] | None:
    """The agent's check-in as the module sees it from the PC (null when nothing asks for it).

    The server answers unless the host's ``server_unreachable`` fault is set; the agent's last contact
    is now while it reports (``SimHost.agent_reports``), else the host's ``agent_last_contact``.
    """
    server = params["agent_server"] or None
    registry = bool(params["agent_last_contact_key"] and params["agent_last_contact_value"])
    if not (server or registry or params["agent_last_contact_file"]):
        return None
    reachable = not host.faults.server_unreachable
    result: dict[str, Any] = {"server": server, "reachable": None, "error": None, "last_contact": None}
    address = _SERVER.fullmatch(server) if server else None
    if server and (address is None or int(address["port"]) > 65535):
        # As the module does: nothing to connect to, said once, and the rest of the probe goes on.
        warnings.append(f"the management server is not checked: '{server}' is not host:port")
        result["error"] = f"'{server}' is not host:port"
    elif server:
        result["reachable"] = reachable
        if not reachable:
            result["error"] = f"no answer within {params['agent_server_timeout_ms']} ms"
    if host.agent_reports(agent.get("service_state") == "running"):
        last_contact: datetime | None = datetime.fromtimestamp(host.now(), UTC)
    else:
        last_contact = host.agent_last_contact
    if last_contact is not None:
        result["last_contact"] = last_contact.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return result


def probe(
    host: SimHost, product_id: str | None, service_name: str | None, display_name: str | None
) -> ModuleResult:
    """What the probe module reads on ``host`` (the offline kit's script reads the same)."""
    warnings: list[str] = []
    failing = set(host.faults.failing_queries)
    if "computer_system" in failing:
        warnings.append(
            "the computer name is read from the environment and RAM from Win32_OperatingSystem: "
            f"the Win32_ComputerSystem query failed ({PROBE_QUERIES['computer_system']})"
        )
    size_mb: int | None = host.system_size_mb
    free_mb: int | None = host.free_bytes() // _MIB
    if "disk" in failing:
        drive = host.system_drive
        warnings.append(
            f"the size and free space of {drive} are unknown: "
            f"the Win32_LogicalDisk query (DeviceID='{drive}') failed ({PROBE_QUERIES['disk']})"
        )
        size_mb = free_mb = None
    product_type = host.product_type
    if "os_product_type" in failing:
        warnings.append("the product type is unknown: Win32_OperatingSystem gave ProductType ''")
        product_type = "unknown"
    agent = agent_state(host, product_id, service_name, display_name, warnings)
    result: ModuleResult = {
        "changed": False,
        "computer_name": host.computer_name,
        "pending_computer_name": host.pending_computer_name,
        "os_caption": host.os_caption,
        "os_build": host.os_build,
        "product_type": product_type,
        "architecture": host.architecture,
        "ram_mb": host.ram_mb,
        "system_drive": host.system_drive,
        "system_size_mb": size_mb,
        "system_free_mb": free_mb,
        "powershell_version": host.powershell_version,
        "reboot_pending": host.reboot_pending,
        "reboot_pending_reasons": list(host.reboot_reasons),
        "agent": agent,
    }
    if not host.faults.poses_as_real:
        # A field the real probe module never returns: the agent role installs its sample agent
        # only on PCs that say this (roles/agent/tasks/installer.yml).
        result["simulated"] = True
    if warnings:
        result["warnings"] = warnings
    return result


def agent_state(
    host: SimHost,
    product_id: str | None,
    service_name: str | None,
    display_name: str | None,
    warnings: list[str],
) -> dict[str, Any]:
    """Find the agent by product id, then display name; its service by name.

    A failing product or service query (``failing_queries``) leaves what it would have told null
    and appends the probe's warning to ``warnings``.
    """
    failing = set(host.faults.failing_queries)
    by_product = bool(product_id or display_name)
    product_known = not (by_product and "products" in failing)
    service_known = not (service_name and "service" in failing)
    if not product_known:
        warnings.append(
            "whether the agent is installed is unknown: the uninstall registry keys could not be read "
            f"({PROBE_QUERIES['products']})"
        )
    if not service_known:
        warnings.append(
            "the state and start mode of the agent service are unknown: "
            f"the Win32_Service query (Name='{service_name}') failed ({PROBE_QUERIES['service']})"
        )
    product = _find_product(host, product_id, display_name) if product_known else None
    service = host.services.get(service_name.lower()) if service_name and service_known else None
    installed: bool | None = None
    if by_product:
        installed = product is not None if product_known else None
    elif service_known:
        installed = service is not None
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
    elif service_name and service_known:
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
