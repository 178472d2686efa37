"""win_ping and setup (fact gathering)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agentroll.sim.decoder import ModuleRun
from agentroll.sim.handlers.base import ModuleFailure, ModuleResult, ModuleSpec, module_handler
from agentroll.sim.host import SimHost

_ARCHITECTURE_FACTS = {
    "x64": ("64-bit", "x86_64"),
    "x86": ("32-bit", "i386"),
    "arm64": ("ARM 64-bit Processor", "arm64"),
}
#: The pending-reboot causes setup.ps1 checks itself (file renames, component servicing; also
#: Server Manager, which the model has no cause for); it ignores a rename and Windows Update.
_SETUP_REBOOT_REASONS = frozenset({"pending file rename operations", "component based servicing"})
_DOMAIN_ROLES = {
    "workstation": "Stand-alone workstation",
    "server": "Stand-alone server",
    "domain_controller": "Primary domain controller",
}


@module_handler("win_ping", ModuleSpec(options={"data": "pong"}))
def win_ping(host: SimHost, run: ModuleRun, params: dict[str, Any]) -> ModuleResult:
    """Answer pong; ``data: crash`` raises, as the real module does for testing failures."""
    if params["data"] == "crash":
        raise ModuleFailure("Unhandled exception while executing module: boom")
    return {"changed": False, "ping": params["data"]}


@module_handler(
    "setup",
    ModuleSpec(
        options={"gather_subset": ["all"], "gather_timeout": 10, "fact_path": None, "_measure_subset": False}
    ),
)
def setup(host: SimHost, run: ModuleRun, params: dict[str, Any]) -> ModuleResult:
    """Return the facts ansible.windows.setup gathers that the toolkit and playbooks rely on."""
    subset = params["gather_subset"]
    facts = {"gather_subset": subset if isinstance(subset, list) else [subset], "module_setup": True}
    facts.update(windows_facts(host))
    return {"changed": False, "ansible_facts": facts}


def windows_facts(host: SimHost) -> dict[str, Any]:
    """Build the fact dictionary from the host model (names and shapes as setup.ps1 emits)."""
    now = host.now()
    os_architecture, architecture2 = _ARCHITECTURE_FACTS[host.architecture]
    version = f"{host.os_version}.0"
    # setup.ps1 reads the DNS host name (IPGlobalProperties.HostName) and the NetBIOS name apart.
    dns_name = host.dns_hostname or host.computer_name
    fqdn = dns_name if host.domain == "WORKGROUP" else f"{dns_name}.{host.domain}"
    return {
        "ansible_hostname": dns_name,
        "ansible_netbios_name": host.computer_name.upper(),
        "ansible_nodename": fqdn,
        "ansible_fqdn": fqdn,
        "ansible_domain": "" if host.domain == "WORKGROUP" else host.domain,
        "ansible_windows_domain": host.domain,
        "ansible_windows_domain_member": host.domain != "WORKGROUP",
        "ansible_windows_domain_role": _DOMAIN_ROLES[host.product_type],
        "ansible_os_family": "Windows",
        "ansible_system": "Win32NT",
        "ansible_os_name": host.os_caption,
        "ansible_distribution": host.os_caption,
        "ansible_distribution_version": version,
        "ansible_distribution_major_version": version.split(".")[0],
        "ansible_kernel": version,
        "ansible_os_product_type": host.product_type,
        "ansible_os_installation_type": "Client" if host.product_type == "workstation" else "Server",
        "ansible_architecture": os_architecture,
        "ansible_architecture2": architecture2,
        "ansible_memtotal_mb": host.ram_mb,
        "ansible_memfree_mb": host.ram_mb // 2,
        "ansible_powershell_version": host.powershell_major_minor[0],
        "ansible_lastboot": datetime.fromtimestamp(host.boot_time, UTC).strftime("%Y-%m-%d %H:%M:%SZ"),
        "ansible_uptime_seconds": round(now - host.boot_time),
        "ansible_reboot_pending": any(reason in _SETUP_REBOOT_REASONS for reason in host.reboot_reasons),
        "ansible_ip_addresses": [host.address],
        "ansible_interfaces": [
            {
                "connection_name": "Ethernet",
                "interface_index": 4,
                "interface_name": "Intel(R) Ethernet Connection",
                "macaddress": _mac_address(host.address),
                "default_gateway": None,
                "dns_domain": None,
            }
        ],
        "ansible_processor_count": 1,
        "ansible_processor_cores": 4,
        "ansible_processor_vcpus": 4,
        "ansible_system_vendor": "agentroll simulated PC",
        "ansible_product_name": "Simulated Windows PC",
        "ansible_virtualization_role": "NA",
        "ansible_virtualization_type": "NA",
        "ansible_user_id": host.username,
        "ansible_user_dir": f"{host.system_drive}\\Users\\{host.username}",
        "ansible_env": {
            "COMPUTERNAME": host.computer_name.upper(),
            "SystemDrive": host.system_drive,
            "SystemRoot": f"{host.system_drive}\\Windows",
            "TEMP": f"{host.system_drive}\\Users\\{host.username}\\AppData\\Local\\Temp",
            "USERNAME": host.username,
        },
    }


def _mac_address(address: str) -> str:
    """Return a stable MAC address derived from the host's IP address."""
    octets = [int(part) for part in address.split(".") if part.isdigit()][-4:]
    return "00:15:5D:" + ":".join(f"{o:02X}" for o in octets[-3:])
