"""The simulated fleet: the fleet file, the hosts, and the one entry point the transport calls.

``Fleet.execute`` is the seam: the transport hands it every WinRS command (command line and the
stdin it received) and sends back the ``CommandResult``. Each host has its own lock: commands to
different hosts run in parallel, commands to one host one at a time, which keeps every host's
state and journal deterministic.
"""

from __future__ import annotations

import base64
import gzip
import ipaddress
import json
import os
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from agentroll.mac import normalize_mac
from agentroll.sim.clock import Clock, RealClock
from agentroll.sim.handlers import run_invocation
from agentroll.sim.host import (
    ARCHITECTURES,
    PRODUCT_TYPES,
    SERVICE_STATES,
    START_MODES,
    Faults,
    PowerSchedule,
    Product,
    Service,
    SimHost,
    default_mac,
)
from agentroll.sim.types import CommandResult, ConnectionPolicy

CAPTURE_ENV = "AGENTROLL_SIM_CAPTURE"

_TOP_KEYS = {"credentials", "tls", "defaults", "hosts", "wake_on_lan_port"}
#: Where the hosts' network cards listen for magic packets unless the fleet file says otherwise:
#: the real Wake-on-LAN port 9 needs root to bind, 9009 does not.
DEFAULT_WAKE_ON_LAN_PORT = 9009
_HOST_KEYS = {
    "os",
    "architecture",
    "ram_mb",
    "system_drive",
    "powershell_version",
    "products",
    "services",
    "boot_seconds",
    "shutdown_delay_seconds",
    "domain",
    "files",
    "reboot_pending",
    "faults",
    "credentials",
    "power",
    "wake_on_lan",
    "agent_last_contact",
}
_HOST_ONLY_KEYS = {"address", "computer_name", "pending_computer_name", "dns_hostname", "mac", "online"}
_ONLINE_KEYS = {"from", "until"}
_OS_KEYS = {"caption", "build", "product_type"}
_DRIVE_KEYS = {"letter", "size_mb", "free_mb"}
_CREDENTIAL_KEYS = {"username", "password"}
_PRODUCT_KEYS = {"id", "name", "version"}
_SERVICE_KEYS = {"name", "display_name", "state", "start_mode", "path", "description"}


class FleetFileError(ValueError):
    """A fleet file is invalid; the message is one line naming the host and key at fault."""


class Fleet:
    """A set of simulated hosts, each addressed by its loopback IP address."""

    def __init__(
        self,
        hosts: list[SimHost],
        *,
        tls: bool = False,
        clock: Clock | None = None,
        wake_on_lan_port: int = DEFAULT_WAKE_ON_LAN_PORT,
    ) -> None:
        self.tls = tls
        self.clock: Clock = clock or RealClock()
        #: When the fleet started: the origin of the hosts' ``online`` schedules.
        self.started_at = self.clock.now()
        #: The UDP port every host's network card listens on for its magic packet.
        self.wake_on_lan_port = wake_on_lan_port
        self._hosts: dict[str, SimHost] = {}
        macs: dict[str, str] = {}
        for host in hosts:
            if host.address in self._hosts:
                raise FleetFileError(f"duplicate host address {host.address}")
            if host.mac in macs:
                raise FleetFileError(
                    f"host {host.address}: MAC {host.mac} is already host {macs[host.mac]}'s"
                )
            macs[host.mac] = host.address
            self._hosts[host.address] = host
        self._capture_lock = threading.Lock()
        self._capture_seq = 0

    # --- loading -------------------------------------------------------------------------

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], clock: Clock | None = None) -> Fleet:
        """Load a fleet file (YAML, see agentroll/sim/README.md)."""
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise FleetFileError(f"{path}: not valid YAML: {_one_line(str(error))}") from error
        if not isinstance(data, Mapping):
            raise FleetFileError(f"{path}: a fleet file must be a mapping with a 'hosts' list")
        try:
            return cls.from_mapping(dict(data), clock=clock)
        except FleetFileError as error:
            raise FleetFileError(f"{path}: {error}") from None

    @classmethod
    def from_mapping(cls, data: dict[str, Any], clock: Clock | None = None) -> Fleet:
        """Build a fleet from the parsed content of a fleet file."""
        clock = clock or RealClock()
        _reject_unknown(data, _TOP_KEYS, "fleet file")
        fleet_credentials = _credentials(data.get("credentials") or {}, "credentials")
        defaults = data.get("defaults") or {}
        if not isinstance(defaults, Mapping):
            raise FleetFileError("defaults: must be a mapping")
        _reject_unknown(defaults, _HOST_KEYS, "defaults")
        host_entries = data.get("hosts")
        if not isinstance(host_entries, list) or not host_entries:
            raise FleetFileError("hosts: must be a non-empty list")
        hosts: list[SimHost] = []
        seen: set[str] = set()
        for index, entry in enumerate(host_entries):
            if not isinstance(entry, Mapping):
                raise FleetFileError(f"hosts[{index}]: must be a mapping")
            address = str(entry.get("address") or "")
            label = f"host {address}" if address else f"hosts[{index}]"
            if not address:
                raise FleetFileError(f"{label}: missing key 'address'")
            if not _is_ip_address(address):
                raise FleetFileError(f"{label}: address must be an IP address such as 127.20.0.1")
            if address in seen:
                raise FleetFileError(f"duplicate host address {address}")
            seen.add(address)
            hosts.append(_build_host(dict(entry), dict(defaults), fleet_credentials, clock, label))
        tls = data.get("tls", False)
        if not isinstance(tls, bool):
            raise FleetFileError("tls: must be true or false")
        port = data.get("wake_on_lan_port", DEFAULT_WAKE_ON_LAN_PORT)
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise FleetFileError(f"wake_on_lan_port: must be a UDP port number (1-65535), got {port!r}")
        return cls(hosts, tls=tls, clock=clock, wake_on_lan_port=port)

    # --- the seam ------------------------------------------------------------------------

    def addresses(self) -> list[str]:
        """Return every host address, in fleet-file order."""
        return list(self._hosts)

    def host(self, address: str) -> SimHost:
        """Return the host at ``address``, its reboot settled (KeyError naming it when there is none)."""
        try:
            host = self._hosts[address]
        except KeyError:
            raise KeyError(f"no simulated host at {address}") from None
        # Reboots complete lazily; settle here so that whoever looks sees the current state.
        host.settle()
        return host

    def credentials_for(self, address: str) -> tuple[str, str]:
        """Return the (username, password) the host accepts."""
        host = self.host(address)
        return host.username, host.password

    def connection_policy(self, address: str) -> ConnectionPolicy:
        """Return how the transport must treat this host's connections right now."""
        return self.host(address).connection_policy()

    def set_faults(self, address: str, **faults: Any) -> None:
        """Change a host's faults while the fleet runs (unknown name → ValueError naming it)."""
        host = self.host(address)
        with host.lock:
            host.faults.update(**faults)

    def journal(self, address: str) -> list[dict[str, Any]]:
        """Return the host's journal entries, oldest first."""
        return self.host(address).journal.entries()

    def set_power(self, address: str, on: bool) -> bool:
        """Switch a host on (it boots for ``boot_seconds``) or off; return whether that changed it."""
        host = self.host(address)
        return host.power_on() if on else host.power_off()

    def magic_packet(self, address: str, mac: str) -> str | None:
        """A magic packet for ``mac`` reached the network card at ``address``; what did the card do?

        None when the MAC is not that card's (it ignores the packet), else ``SimHost.magic_packet``.
        """
        host = self.host(address)
        return host.magic_packet() if host.mac == mac else None

    def execute(self, address: str, command_line: str, stdin: bytes) -> CommandResult:
        """Answer one WinRS command the way the simulated Windows host would (thread-safe)."""
        host = self.host(address)
        self._capture(address, command_line, stdin)
        return run_invocation(host, command_line, stdin)

    # --- capture -------------------------------------------------------------------------

    def _capture(self, address: str, command_line: str, stdin: bytes) -> None:
        """Write the command to the capture directory when AGENTROLL_SIM_CAPTURE is set."""
        directory = os.environ.get(CAPTURE_ENV)
        if not directory:
            return
        with self._capture_lock:
            self._capture_seq += 1
            seq = self._capture_seq
        target = Path(directory)
        target.mkdir(parents=True, exist_ok=True)
        name = f"{int(time.time() * 1000)}-{seq:05d}-{address}.json.gz"
        payload = {
            "address": address,
            "command_line": command_line,
            "stdin_b64": base64.b64encode(stdin).decode(),
        }
        with gzip.open(target / name, "wt", encoding="utf-8") as stream:
            json.dump(payload, stream)


# --- fleet file helpers -------------------------------------------------------------------


def _is_ip_address(text: str) -> bool:
    """Whether ``text`` is an IP address the transport can listen on."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _one_line(text: str) -> str:
    """Collapse a multi-line message into one line."""
    return " ".join(text.split())


def _reject_unknown(mapping: Mapping[str, Any], allowed: set[str], where: str) -> None:
    """Raise naming the first key of ``mapping`` that is not in ``allowed``."""
    for key in mapping:
        if key not in allowed:
            raise FleetFileError(f"{where}: unknown key {key!r} (allowed: {', '.join(sorted(allowed))})")


def _credentials(value: Any, where: str) -> dict[str, str]:
    """Validate a credentials mapping."""
    if not isinstance(value, Mapping):
        raise FleetFileError(f"{where}: must be a mapping with username and password")
    _reject_unknown(value, _CREDENTIAL_KEYS, where)
    return {k: str(v) for k, v in value.items()}


def _merged(defaults: dict[str, Any], entry: dict[str, Any], key: str) -> Any:
    """Return a host's value for ``key``; mappings are merged over the default one key at a time."""
    default = defaults.get(key)
    value = entry.get(key, default)
    if isinstance(default, Mapping) and isinstance(value, Mapping):
        return {**default, **value}
    return value


def _build_host(
    entry: dict[str, Any],
    defaults: dict[str, Any],
    fleet_credentials: dict[str, str],
    clock: Clock,
    label: str,
) -> SimHost:
    """Build one SimHost from its fleet-file entry merged over the defaults."""
    _reject_unknown(entry, _HOST_KEYS | _HOST_ONLY_KEYS, label)
    credentials = {
        **fleet_credentials,
        **_credentials(entry.get("credentials") or {}, f"{label}: credentials"),
    }
    if "username" not in credentials or "password" not in credentials:
        raise FleetFileError(f"{label}: credentials need a username and a password")
    os_info = _merged(defaults, entry, "os") or {}
    if not isinstance(os_info, Mapping):
        raise FleetFileError(f"{label}: os: must be a mapping")
    _reject_unknown(os_info, _OS_KEYS, f"{label}: os")
    drive = _merged(defaults, entry, "system_drive") or {}
    if not isinstance(drive, Mapping):
        raise FleetFileError(f"{label}: system_drive: must be a mapping")
    _reject_unknown(drive, _DRIVE_KEYS, f"{label}: system_drive")
    host = SimHost(
        address=str(entry["address"]),
        computer_name=str(entry.get("computer_name") or _default_name(str(entry["address"]))),
        username=credentials["username"],
        password=credentials["password"],
        clock=clock,
    )
    _apply_os(host, os_info, label)
    _apply_hardware(host, _merged(defaults, entry, "architecture"), _merged(defaults, entry, "ram_mb"), label)
    _apply_drive(host, drive, label)
    _apply_scalars(host, defaults, entry, label)
    for product in _merged(defaults, entry, "products") or []:
        host.add_product(_product(product, label))
    for service in _merged(defaults, entry, "services") or []:
        host.add_service(_service(service, label))
    _apply_reboot_pending(host, _merged(defaults, entry, "reboot_pending"), label)
    # Booted a day before the fleet starts, so uptime looks like a PC's.
    host.boot_time = clock.now() - 86400.0
    _apply_power(host, defaults, entry, clock.now(), label)
    host.create_standard_directories()
    _apply_files(host, _merged(defaults, entry, "files") or {}, label)
    faults = _merged(defaults, entry, "faults") or {}
    if not isinstance(faults, Mapping):
        raise FleetFileError(f"{label}: faults: must be a mapping")
    try:
        host.faults = Faults()
        host.faults.update(**faults)
    except ValueError as error:
        raise FleetFileError(f"{label}: faults: {error}") from None
    return host


def _default_name(address: str) -> str:
    """Return a NetBIOS-valid name for a host without one, derived from its address."""
    return "PC-" + address.replace(".", "-")[-12:].upper()


def _require_int(value: Any, where: str, minimum: int = 0) -> int:
    """Return ``value`` as an int or raise naming where it came from."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise FleetFileError(f"{where}: must be an integer >= {minimum}, got {value!r}")
    return value


def _apply_os(host: SimHost, os_info: Mapping[str, Any], label: str) -> None:
    """Set the OS caption, build and product type."""
    host.os_caption = str(os_info.get("caption", host.os_caption))
    host.os_build = _require_int(os_info.get("build", host.os_build), f"{label}: os.build", 1)
    product_type = os_info.get("product_type", host.product_type)
    if product_type not in PRODUCT_TYPES:
        raise FleetFileError(f"{label}: os.product_type must be one of {', '.join(PRODUCT_TYPES)}")
    host.product_type = product_type


def _apply_hardware(host: SimHost, architecture: Any, ram_mb: Any, label: str) -> None:
    """Set the architecture and RAM."""
    if architecture is not None:
        if architecture not in ARCHITECTURES:
            raise FleetFileError(f"{label}: architecture must be one of {', '.join(ARCHITECTURES)}")
        host.architecture = architecture
    if ram_mb is not None:
        host.ram_mb = _require_int(ram_mb, f"{label}: ram_mb", 1)


def _apply_drive(host: SimHost, drive: Mapping[str, Any], label: str) -> None:
    """Set the system drive letter, size and free space."""
    letter = str(drive.get("letter", host.system_drive)).upper()
    if not letter.endswith(":"):
        letter += ":"
    if len(letter) != 2 or not letter[0].isalpha():
        raise FleetFileError(f"{label}: system_drive.letter must look like 'C:'")
    host.system_drive = letter
    host.system_size_mb = _require_int(
        drive.get("size_mb", host.system_size_mb), f"{label}: system_drive.size_mb", 1
    )
    host.system_free_mb = _require_int(
        drive.get("free_mb", host.system_free_mb), f"{label}: system_drive.free_mb"
    )
    if host.system_free_mb > host.system_size_mb:
        raise FleetFileError(f"{label}: system_drive.free_mb is larger than size_mb")


def _apply_scalars(host: SimHost, defaults: dict[str, Any], entry: dict[str, Any], label: str) -> None:
    """Set PowerShell version, domain, boot and shutdown times and a pending rename."""
    version = _merged(defaults, entry, "powershell_version")
    if version is not None:
        text = str(version)
        if not all(part.isdigit() for part in text.split(".")):
            raise FleetFileError(f"{label}: powershell_version must look like '5.1.19041.4648'")
        host.powershell_version = text
    domain = _merged(defaults, entry, "domain")
    if domain is not None:
        host.domain = str(domain)
    boot_seconds = _merged(defaults, entry, "boot_seconds")
    if boot_seconds is not None:
        host.boot_seconds = _seconds(boot_seconds, f"{label}: boot_seconds")
    shutdown_delay = _merged(defaults, entry, "shutdown_delay_seconds")
    if shutdown_delay is not None:
        host.shutdown_delay_seconds = _seconds(shutdown_delay, f"{label}: shutdown_delay_seconds")
    last_contact = _merged(defaults, entry, "agent_last_contact")
    if last_contact is not None:
        host.agent_last_contact = _moment(last_contact, f"{label}: agent_last_contact")
    dns_hostname = entry.get("dns_hostname")
    if dns_hostname is not None:
        host.dns_hostname = str(dns_hostname)
    pending = entry.get("pending_computer_name")
    if pending is not None:
        host.pending_computer_name = str(pending)
        host.add_reboot_reason("computer rename")


def _moment(value: Any, label: str) -> datetime:
    """A date and time of the fleet file (YAML may already have parsed it); UTC unless it says."""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise FleetFileError(f"{label}: {value!r} is not a time like 2026-11-20T08:15:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _product(value: Any, label: str) -> Product:
    """Validate one installed product."""
    if not isinstance(value, Mapping):
        raise FleetFileError(f"{label}: products: each product must be a mapping with id, name, version")
    _reject_unknown(value, _PRODUCT_KEYS, f"{label}: products")
    missing = [k for k in ("id", "name") if k not in value]
    if missing:
        raise FleetFileError(f"{label}: products: missing key {missing[0]!r}")
    return Product(
        product_id=str(value["id"]), name=str(value["name"]), version=str(value.get("version", "1.0"))
    )


def _service(value: Any, label: str) -> Service:
    """Validate one service."""
    if not isinstance(value, Mapping):
        raise FleetFileError(f"{label}: services: each service must be a mapping")
    _reject_unknown(value, _SERVICE_KEYS, f"{label}: services")
    if "name" not in value:
        raise FleetFileError(f"{label}: services: missing key 'name'")
    state = value.get("state", "running")
    start_mode = value.get("start_mode", "auto")
    if state not in SERVICE_STATES:
        raise FleetFileError(f"{label}: services: state must be one of {', '.join(SERVICE_STATES)}")
    if start_mode not in START_MODES:
        raise FleetFileError(f"{label}: services: start_mode must be one of {', '.join(START_MODES)}")
    return Service(
        name=str(value["name"]),
        display_name=str(value.get("display_name", value["name"])),
        state=state,
        start_mode=start_mode,
        path=str(value.get("path", "")),
        description=str(value.get("description", "")),
    )


def _apply_files(host: SimHost, files: Any, label: str) -> None:
    """Create the host's initial files: text as UTF-8, a mapping as JSON (e.g. a simulated installer)."""
    if not isinstance(files, Mapping):
        raise FleetFileError(f"{label}: files: must be a mapping of Windows path to content")
    when = host.clock.now()
    for path, content in files.items():
        if isinstance(content, Mapping):
            data = json.dumps(dict(content)).encode()
        elif isinstance(content, str):
            data = content.encode()
        else:
            raise FleetFileError(f"{label}: files: {path}: content must be text or a mapping")
        host.files.write(str(path), data, when)


def _apply_reboot_pending(host: SimHost, value: Any, label: str) -> None:
    """Mark a reboot as pending: true, or a list of reasons."""
    if value is None or value is False:
        return
    if value is True:
        host.add_reboot_reason("windows update")
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        for reason in value:
            host.add_reboot_reason(reason)
    else:
        raise FleetFileError(f"{label}: reboot_pending must be true/false or a list of reasons")


def _apply_power(
    host: SimHost, defaults: dict[str, Any], entry: dict[str, Any], start: float, label: str
) -> None:
    """Set the MAC, the power state, Wake-on-LAN and the user's on/off schedule."""
    try:
        host.mac = normalize_mac(str(entry["mac"])) if "mac" in entry else default_mac(host.address)
    except ValueError as error:
        raise FleetFileError(f"{label}: mac: {error}") from None
    power = _merged(defaults, entry, "power")
    if power not in (None, "on", "off"):
        raise FleetFileError(f"{label}: power must be on or off, got {power!r}")
    wake_on_lan = _merged(defaults, entry, "wake_on_lan")
    if wake_on_lan is not None and not isinstance(wake_on_lan, bool):
        raise FleetFileError(f"{label}: wake_on_lan must be true or false")
    host.wake_on_lan = True if wake_on_lan is None else wake_on_lan
    online = entry.get("online")
    if online is not None:
        if not isinstance(online, Mapping) or "from" not in online:
            raise FleetFileError(f"{label}: online: must be a mapping with 'from' (and 'until') in seconds")
        _reject_unknown(online, _ONLINE_KEYS, f"{label}: online")
        on_from = _seconds(online["from"], f"{label}: online.from")
        until = online.get("until")
        off_from = None if until is None else _seconds(until, f"{label}: online.until")
        if off_from is not None and off_from <= on_from:
            raise FleetFileError(f"{label}: online.until must be later than online.from")
        host.schedule = PowerSchedule(
            on_at=start + on_from, off_at=None if off_from is None else start + off_from
        )
        if power is None:
            power = "off"  # switched on by its user later
    host.powered = power != "off"


def _seconds(value: Any, where: str) -> float:
    """A number of seconds >= 0, or raise naming where it came from."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise FleetFileError(f"{where}: must be a number of seconds >= 0, got {value!r}")
    return float(value)
