"""Simulated installers: a JSON file the simulated win_package knows how to "run".

Format (see README.md)::

    {"agentroll_sim_installer": 1, "product_id": "{GUID}", "name": "...", "version": "1.2.3",
     "service": {"name": "...", "display_name": "...", "start_mode": "auto"}, "exit_code": 0}

The host's ``installer_exit_code`` fault overrides ``exit_code``; its ``disk_full`` fault makes
every install exit 112 (ERROR_DISK_FULL).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from agentroll.sim.host import START_MODES, Product, Service, SimHost

INSTALLER_MARK = "agentroll_sim_installer"
SUCCESS = 0
DISK_FULL = 112
REBOOT_INITIATED = 1641
FATAL_ERROR = 1603
ANOTHER_INSTALL_IN_PROGRESS = 1618
REBOOT_REQUIRED = 3010
#: Exit codes after which the product is installed.
INSTALLED_CODES = frozenset({SUCCESS, REBOOT_REQUIRED, REBOOT_INITIATED})
REBOOT_CODES = frozenset({REBOOT_REQUIRED, REBOOT_INITIATED})
#: How the probe module words the pending reboot an MSI leaves behind (its file renames).
INSTALLER_REBOOT_REASON = "pending file rename operations"

_MESSAGES = {
    SUCCESS: "Product: {name} -- Installation completed successfully.",
    REBOOT_REQUIRED: "Product: {name} -- Installation completed successfully. A restart is required.",
    REBOOT_INITIATED: (
        "Product: {name} -- Installation completed successfully. The installer has initiated a restart."
    ),
    FATAL_ERROR: "Product: {name} -- Fatal error during installation.",
    ANOTHER_INSTALL_IN_PROGRESS: (
        "Another installation is already in progress. "
        "Complete that installation before proceeding with this install."
    ),
    DISK_FULL: "There is not enough space on the disk.",
}


@dataclass(frozen=True)
class InstallerService:
    """The service an installer creates."""

    name: str
    display_name: str
    start_mode: str = "auto"


@dataclass(frozen=True)
class InstallerSpec:
    """What a simulated installer file declares."""

    product_id: str
    name: str
    version: str
    service: InstallerService | None
    exit_code: int = SUCCESS


@dataclass(frozen=True)
class InstallRun:
    """What running an installer did: its exit code, output, and whether a reboot is needed."""

    rc: int
    stdout: str
    stderr: str
    installed: bool
    reboot_required: bool


class InstallerFormatError(ValueError):
    """A file claims to be a simulated installer but is malformed."""


def make_installer(
    product_id: str,
    name: str,
    version: str,
    *,
    service: dict[str, str] | None = None,
    exit_code: int = SUCCESS,
) -> bytes:
    """Return the bytes of a simulated installer file (for fleet files, tests and the demo)."""
    document: dict[str, Any] = {
        INSTALLER_MARK: 1,
        "product_id": product_id,
        "name": name,
        "version": version,
        "exit_code": exit_code,
    }
    if service is not None:
        document["service"] = service
    return json.dumps(document, indent=2).encode()


def parse_installer(data: bytes) -> InstallerSpec | None:
    """Return the installer a file declares, or None when it is not a simulated installer."""
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(document, dict) or document.get(INSTALLER_MARK) != 1:
        return None
    for key in ("product_id", "name", "version"):
        if not isinstance(document.get(key), str) or not document[key]:
            raise InstallerFormatError(f"simulated installer needs a non-empty string {key!r}")
    exit_code = document.get("exit_code", SUCCESS)
    if isinstance(exit_code, bool) or not isinstance(exit_code, int):
        raise InstallerFormatError("simulated installer 'exit_code' must be an integer")
    return InstallerSpec(
        product_id=document["product_id"],
        name=document["name"],
        version=document["version"],
        service=_parse_service(document.get("service")),
        exit_code=exit_code,
    )


def _parse_service(value: Any) -> InstallerService | None:
    """Validate the optional ``service`` block of an installer."""
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        raise InstallerFormatError("simulated installer 'service' needs at least a 'name'")
    start_mode = value.get("start_mode", "auto")
    if start_mode not in START_MODES:
        raise InstallerFormatError(
            f"simulated installer service start_mode must be one of {', '.join(START_MODES)}"
        )
    return InstallerService(value["name"], str(value.get("display_name", value["name"])), start_mode)


def effective_exit_code(host: SimHost, spec: InstallerSpec) -> int:
    """Return the exit code this install ends with on this host, faults included."""
    if host.faults.disk_full:
        return DISK_FULL
    if host.faults.installer_exit_code is not None:
        return host.faults.installer_exit_code
    return spec.exit_code


def run_install(host: SimHost, spec: InstallerSpec) -> InstallRun:
    """Install the product on the host (when the exit code says so) and start its service."""
    rc = effective_exit_code(host, spec)
    message = _MESSAGES.get(rc, "Product: {name} -- Installation failed with exit code {rc}.").format(
        name=spec.name, rc=rc
    )
    if rc not in INSTALLED_CODES:
        return InstallRun(rc, "", message, installed=False, reboot_required=False)
    host.add_product(Product(spec.product_id, spec.name, spec.version))
    if spec.service is not None:
        _create_service(host, spec)
    reboot = rc in REBOOT_CODES
    if reboot:
        host.add_reboot_reason(INSTALLER_REBOOT_REASON)
    return InstallRun(rc, message, "", installed=True, reboot_required=reboot)


def _create_service(host: SimHost, spec: InstallerSpec) -> None:
    """Create the installer's service; it starts unless the host's service_wont_start fault is set."""
    assert spec.service is not None
    starts = spec.service.start_mode == "auto" and not host.faults.service_wont_start
    host.add_service(
        Service(
            name=spec.service.name,
            display_name=spec.service.display_name,
            state="running" if starts else "stopped",
            start_mode=spec.service.start_mode,
            path=f'"{host.system_drive}\\Program Files\\{spec.name}\\{spec.service.name}.exe"',
            description=f"{spec.name} service",
            product_id=spec.product_id,
        )
    )


def run_uninstall(host: SimHost, product_id: str) -> InstallRun:
    """Remove a product and its services."""
    removed = host.remove_product(product_id)
    name = removed.name if removed else product_id
    return InstallRun(SUCCESS, f"Product: {name} -- Removal completed successfully.", "", False, False)
