"""The model of one simulated Windows PC: its identity, hardware, software, files and faults.

Everything a handler may read or change lives here, so that a state digest taken before and
after an invocation tells the journal whether that invocation changed the machine.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any

from agentroll.sim.clock import Clock, RealClock
from agentroll.sim.journal import Journal
from agentroll.sim.types import ConnectionPolicy

SERVICE_STATES = ("running", "stopped")
START_MODES = ("auto", "manual", "disabled")
PRODUCT_TYPES = ("workstation", "server", "domain_controller")
ARCHITECTURES = ("x64", "x86", "arm64")
#: The probe's queries that the ``failing_queries`` fault breaks, each with the error Windows
#: gives; ``os_product_type`` is the one that does not fail but answers Win32_OperatingSystem
#: without its ProductType (a damaged WMI repository), while setup's own API still knows it.
PROBE_QUERIES: dict[str, str | None] = {
    "computer_system": "Quota violation",
    "disk": "Quota violation",
    "service": "Access denied",
    "products": "Requested registry access is not allowed.",
    "os_product_type": None,
}


@dataclass
class Product:
    """An installed product as Windows Installer lists it."""

    product_id: str
    name: str
    version: str


@dataclass
class Service:
    """A Windows service and how it is configured to start."""

    name: str
    display_name: str
    state: str = "stopped"
    start_mode: str = "manual"
    path: str = ""
    description: str = ""
    username: str = "LocalSystem"
    #: The product that created the service, so uninstalling the product removes it.
    product_id: str | None = None


@dataclass
class Faults:
    """Per-host faults, changeable while the fleet runs (``Fleet.set_faults``)."""

    refuse_connections: bool = False
    drop_connections: bool = False
    reject_credentials: bool = False
    slow_seconds: float = 0.0
    installer_exit_code: int | None = None
    disk_full: bool = False
    service_wont_start: bool = False
    reboot_never_returns: bool = False
    #: The Nth module invocation (1-based, counted over the host's life) fails.
    fail_on_call: int | None = None
    #: Probe queries (``PROBE_QUERIES``) that fail, so the probe warns and reports them unknown.
    failing_queries: tuple[str, ...] = ()
    #: The PC cannot reach the agent's management server (a firewall, a proxy): the probe's check-in
    #: times out, and the agent does not report to the console.
    server_unreachable: bool = False
    #: The agent runs and its PC reaches the server, but the agent does not report (a wrong
    #: registration key, say): its last contact stays the host's ``agent_last_contact``.
    agent_not_reporting: bool = False
    #: The probe answers as a real PC does, without the ``simulated`` marker (the sample agent's
    #: installer is then refused, as on a real district).
    poses_as_real: bool = False

    @classmethod
    def names(cls) -> list[str]:
        """Return the valid fault names."""
        return [f.name for f in fields(cls)]

    def update(self, **faults: Any) -> None:
        """Set the given faults, refusing unknown names and values of the wrong kind."""
        valid = set(self.names())
        for name in faults:
            if name not in valid:
                raise ValueError(f"unknown fault {name!r}; valid faults: {', '.join(sorted(valid))}")
        for name, value in faults.items():
            setattr(self, name, _coerce_fault(name, value))


def _coerce_fault(name: str, value: Any) -> Any:
    """Check one fault value's type and return it in canonical form."""
    if name == "failing_queries":
        if isinstance(value, str) or not isinstance(value, list | tuple):
            raise ValueError(f"fault {name!r} must be a list of query names, got {value!r}")
        unknown = [query for query in value if query not in PROBE_QUERIES]
        if unknown:
            raise ValueError(
                f"fault {name!r} has unknown query {unknown[0]!r}; queries: {', '.join(PROBE_QUERIES)}"
            )
        return tuple(value)
    if name == "slow_seconds":
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValueError(f"fault {name!r} must be a number of seconds >= 0, got {value!r}")
        return float(value)
    if name in ("installer_exit_code", "fail_on_call"):
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"fault {name!r} must be an integer or null, got {value!r}")
        if name == "fail_on_call" and value < 1:
            raise ValueError(f"fault {name!r} counts calls from 1, got {value!r}")
        return value
    if not isinstance(value, bool):
        raise ValueError(f"fault {name!r} must be true or false, got {value!r}")
    return value


def normalize_path(path: str) -> str:
    """Return the case-insensitive key of a Windows path: lower case, backslashes, no ``.``/``..``."""
    return canonical_path(path).lower()


def canonical_path(path: str) -> str:
    """Return a path with backslashes, single separators, ``.``/``..`` resolved, no trailing slash."""
    parts = path.replace("/", "\\").strip().split("\\")
    kept: list[str] = []
    for index, part in enumerate(parts):
        if (part == "" and index > 0) or part == ".":
            continue
        if part == ".." and len(kept) > 1:
            kept.pop()
            continue
        kept.append(part)
    joined = "\\".join(kept)
    return joined + "\\" if len(joined) == 2 and joined.endswith(":") else joined


def parent_path(path: str) -> str | None:
    """Return the parent directory of a Windows path, or None for a drive root."""
    trimmed = canonical_path(path).rstrip("\\")
    if "\\" not in trimmed:
        return None
    parent = trimmed.rsplit("\\", 1)[0]
    return parent + "\\" if len(parent) == 2 and parent.endswith(":") else parent


@dataclass
class FileEntry:
    """A file or directory on the simulated disk; ``path`` keeps the case it was created with."""

    path: str
    data: bytes | None  # None for a directory
    modified: float
    #: Computed once at write time: the state digest is taken twice per command.
    sha1: str = field(init=False)

    def __post_init__(self) -> None:
        self.sha1 = "dir" if self.data is None else hashlib.sha1(self.data).hexdigest()

    @property
    def is_dir(self) -> bool:
        """Whether this entry is a directory."""
        return self.data is None


class FileSystem:
    """Files by case-insensitive Windows path; parents are created implicitly like ``New-Item -Force``."""

    def __init__(self) -> None:
        self._entries: dict[str, FileEntry] = {}

    def get(self, path: str) -> FileEntry | None:
        """Return the entry at ``path`` or None."""
        return self._entries.get(normalize_path(path))

    def exists(self, path: str) -> bool:
        """Whether a file or directory exists at ``path``."""
        return self.get(path) is not None or _is_drive_root(path)

    def is_dir(self, path: str) -> bool:
        """Whether ``path`` is an existing directory (drive roots always are)."""
        entry = self.get(path)
        return _is_drive_root(path) or (entry is not None and entry.is_dir)

    def read(self, path: str) -> bytes | None:
        """Return a file's bytes, or None when there is no such file."""
        entry = self.get(path)
        return entry.data if entry is not None and not entry.is_dir else None

    def write(self, path: str, data: bytes, when: float) -> None:
        """Create or replace a file, creating its parent directories."""
        parent = parent_path(path)
        if parent is not None:
            self.make_dirs(parent, when)
        self._entries[normalize_path(path)] = FileEntry(canonical_path(path), bytes(data), when)

    def make_dirs(self, path: str, when: float) -> None:
        """Create a directory and its parents; existing directories are left alone."""
        if _is_drive_root(path):
            return
        parent = parent_path(path)
        if parent is not None:
            self.make_dirs(parent, when)
        key = normalize_path(path)
        if key not in self._entries:
            self._entries[key] = FileEntry(canonical_path(path), None, when)

    def touch(self, path: str, when: float) -> None:
        """Update a file's modification time, creating it empty when missing."""
        entry = self.get(path)
        if entry is None:
            self.write(path, b"", when)
        else:
            entry.modified = when

    def remove(self, path: str) -> bool:
        """Remove a file or a directory tree; return whether anything existed."""
        key = normalize_path(path)
        doomed = [k for k in self._entries if k == key or k.startswith(key + "\\")]
        for k in doomed:
            del self._entries[k]
        return bool(doomed)

    def children(self, path: str) -> list[FileEntry]:
        """Return every entry below the directory ``path`` (recursively)."""
        prefix = normalize_path(path).rstrip("\\") + "\\"
        return [e for k, e in self._entries.items() if k.startswith(prefix)]

    def used_bytes(self) -> int:
        """Return the total size of all files."""
        return sum(len(e.data) for e in self._entries.values() if e.data is not None)

    def snapshot(self) -> dict[str, str]:
        """Return a digestible view: path → sha1 of content and modification time, or 'dir'."""
        return {k: f"{e.sha1}@{e.modified}" for k, e in sorted(self._entries.items())}


def _is_drive_root(path: str) -> bool:
    """Whether ``path`` is a drive root such as ``C:`` or ``C:\\``."""
    trimmed = canonical_path(path).rstrip("\\")
    return len(trimmed) == 2 and trimmed[1] == ":" and trimmed[0].isalpha()


@dataclass
class PowerSchedule:
    """When a PC's user switches it on and off, as absolute host-clock times (``off_at`` None: never)."""

    on_at: float
    off_at: float | None = None
    switched_on: bool = False
    switched_off: bool = False


def default_mac(address: str) -> str:
    """A locally administered MAC derived from an IPv4 address: 127.20.3.5 → ``02-00-7F-14-03-05``."""
    octets = [int(part) for part in address.split(".")]
    return "-".join(f"{octet:02X}" for octet in (2, 0, *octets))


@dataclass
class SimHost:
    """One simulated PC. Handlers change it only while holding ``lock``."""

    address: str
    computer_name: str
    username: str
    password: str
    os_caption: str = "Microsoft Windows 10 Pro"
    os_build: int = 19045
    product_type: str = "workstation"
    architecture: str = "x64"
    ram_mb: int = 8192
    system_drive: str = "C:"
    system_size_mb: int = 256000
    system_free_mb: int = 120000
    powershell_version: str = "5.1.19041.4648"
    domain: str = "WORKGROUP"
    #: The DNS host name when it is not the NetBIOS computer name (longer than 15 characters, or
    #: set apart by hand); a rename through win_hostname sets both again.
    dns_hostname: str | None = None
    boot_seconds: float = 1.0
    #: When set, how long after ``shutdown.exe /r /t N`` the host goes down, whatever N says
    #: (win_reboot never asks for less than 2 s: 0 here leaves a reboot nothing to wait for).
    shutdown_delay_seconds: float | None = None
    pending_computer_name: str | None = None
    products: dict[str, Product] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)
    files: FileSystem = field(default_factory=FileSystem)
    reboot_reasons: list[str] = field(default_factory=list)
    boot_time: float = 0.0
    faults: Faults = field(default_factory=Faults)
    call_count: int = 0
    #: While a reboot is under way: when the host goes down and when it is back.
    reboot_down_at: float | None = None
    reboot_up_at: float | None = None
    #: Power: a PC that is off refuses connections; its network card still listens for its magic
    #: packet when ``wake_on_lan`` is enabled (see ``agentroll.sim.wol``).
    powered: bool = True
    mac: str = ""
    wake_on_lan: bool = True
    #: When the agent last reached its management server (the value the agent keeps on the PC), while
    #: it does not report now (``agent_reports``); None: it never did.
    agent_last_contact: datetime | None = None
    #: Switched on by its user at ``PowerSchedule.on_at`` and off at ``off_at`` (fleet-start offsets).
    schedule: PowerSchedule | None = None
    clock: Clock = field(default_factory=RealClock)
    journal: Journal = field(default_factory=Journal)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    # --- identity and time -------------------------------------------------------------------

    @property
    def os_version(self) -> str:
        """Return the NT version string Windows reports for this build (10.0.x / 6.x)."""
        return f"{_nt_version(self.os_build)}.{self.os_build}"

    @property
    def powershell_major_minor(self) -> tuple[int, int]:
        """Return the PowerShell (major, minor) version."""
        parts = [*self.powershell_version.split("."), "0", "0"][:2]
        return int(parts[0]), int(parts[1])

    @property
    def ansible_can_manage(self) -> bool:
        """Whether ansible-core's bootstrap accepts this host (it requires PowerShell 5.1)."""
        return self.powershell_major_minor >= (5, 1)

    @property
    def reboot_pending(self) -> bool:
        """Whether Windows would report a pending reboot."""
        return bool(self.reboot_reasons)

    def now(self) -> float:
        """Return the host's current wall time."""
        return self.clock.now()

    def agent_reports(self, service_running: bool) -> bool:
        """Whether the agent reports to its management server now: its service runs, the server is
        reachable from the PC and nothing keeps the agent from reporting (the probe and the console
        export agree on it)."""
        faults = self.faults
        return service_running and not faults.server_unreachable and not faults.agent_not_reporting

    def add_reboot_reason(self, reason: str) -> None:
        """Record why a reboot is pending, once per reason."""
        if reason not in self.reboot_reasons:
            self.reboot_reasons.append(reason)

    # --- reboot lifecycle --------------------------------------------------------------------

    def schedule_reboot(self, delay_seconds: float) -> None:
        """Start a reboot: the host goes down after ``delay_seconds`` (``shutdown_delay_seconds`` when
        set) and is back ``boot_seconds`` later."""
        now = self.now()
        if self.shutdown_delay_seconds is not None:
            delay_seconds = self.shutdown_delay_seconds
        self.reboot_down_at = now + max(delay_seconds, 0.0)
        self.reboot_up_at = self.reboot_down_at + self.boot_seconds

    def settle(self) -> None:
        """Apply what time has brought: the user's power schedule, a reboot or boot that is over.

        The model advances lazily, on every look.
        """
        with self.lock:
            self._follow_schedule()
            if self.reboot_up_at is None or self.faults.reboot_never_returns:
                return
            if self.now() >= self.reboot_up_at:
                self._complete_reboot(self.reboot_up_at)

    def is_down(self) -> bool:
        """Whether the host is off the network: switched off, or in a reboot (or one that never returned)."""
        with self.lock:
            self.settle()
            if not self.powered:
                return True
            if self.reboot_down_at is None:
                return False
            return self.now() >= self.reboot_down_at

    # --- power ---------------------------------------------------------------------------------

    def power_on(self, at: float | None = None) -> bool:
        """Switch the PC on at ``at`` (default now): it boots and answers ``boot_seconds`` later.

        Returns False when it was on already.
        """
        with self.lock:
            if self.powered:
                return False
            when = self.now() if at is None else at
            self.powered = True
            # A cold boot ends like a restart: the same completion applies (new boot time, the
            # pending rename, auto services started).
            self.reboot_down_at = when
            self.reboot_up_at = when + self.boot_seconds
            return True

    def power_off(self) -> bool:
        """Switch the PC off at once (a reboot under way is forgotten); False when it was off already."""
        with self.lock:
            if not self.powered:
                return False
            self.powered = False
            self.reboot_down_at = None
            self.reboot_up_at = None
            return True

    def magic_packet(self) -> str:
        """Receive a magic packet addressed to this PC's MAC; return what its network card did.

        ``woke`` (it boots), ``already_on`` or ``wake_on_lan_disabled`` (the card ignores it).
        """
        with self.lock:
            self.settle()
            if self.powered:
                outcome = "already_on"
            elif not self.wake_on_lan:
                outcome = "wake_on_lan_disabled"
            else:
                self.power_on()
                outcome = "woke"
            self.journal.record(
                time=self.now(),
                kind="wake",
                module=None,
                args={"mac": self.mac, "outcome": outcome},
                no_log=False,
                changed=outcome == "woke",
                failed=False,
                rc=0,
                duration_ms=0.0,
                mutated=outcome == "woke",
            )
            return outcome

    def _follow_schedule(self) -> None:
        """Switch on or off when the user's schedule says so (each switch happens once)."""
        schedule = self.schedule
        if schedule is None:
            return
        now = self.now()
        if not schedule.switched_on and now >= schedule.on_at:
            schedule.switched_on = True
            self.power_on(at=schedule.on_at)
        if schedule.off_at is not None and not schedule.switched_off and now >= schedule.off_at:
            schedule.switched_off = True
            self.power_off()

    def _complete_reboot(self, booted_at: float) -> None:
        """Apply what a restart does: new boot time, pending rename, cleared flag, auto services."""
        self.boot_time = booted_at
        self.reboot_down_at = None
        self.reboot_up_at = None
        if self.pending_computer_name:
            self.computer_name = self.pending_computer_name
            self.dns_hostname = None
        self.pending_computer_name = None
        self.reboot_reasons = []
        for service in self.services.values():
            wants_start = service.start_mode == "auto"
            service.state = "running" if wants_start and not self.faults.service_wont_start else "stopped"

    def connection_policy(self) -> ConnectionPolicy:
        """Return how the transport must treat this host's connections now."""
        with self.lock:
            return ConnectionPolicy(
                refuse=self.faults.refuse_connections or self.is_down(),
                drop=self.faults.drop_connections,
                reject_credentials=self.faults.reject_credentials,
                slow_seconds=self.faults.slow_seconds,
            )

    def create_standard_directories(self) -> None:
        """Create the directories every Windows install has (Temp folders, Program Files, ...)."""
        drive = self.system_drive
        profile = f"{drive}\\Users\\{self.username}"
        for path in (
            f"{drive}\\Windows\\System32",
            f"{drive}\\Windows\\Temp",
            f"{drive}\\Program Files",
            f"{drive}\\Program Files (x86)",
            f"{drive}\\ProgramData",
            f"{profile}\\AppData\\Local\\Temp",
            f"{profile}\\Desktop",
        ):
            self.files.make_dirs(path, self.boot_time)

    # --- software ------------------------------------------------------------------------

    def find_product(self, product_id: str) -> Product | None:
        """Return the installed product with this id (GUIDs compare case-insensitively)."""
        return self.products.get(_product_key(product_id))

    def add_product(self, product: Product) -> None:
        """Record a product as installed."""
        self.products[_product_key(product.product_id)] = product

    def remove_product(self, product_id: str) -> Product | None:
        """Uninstall a product and the services it created; return what was removed."""
        removed = self.products.pop(_product_key(product_id), None)
        if removed is not None:
            for key in [k for k, s in self.services.items() if s.product_id == removed.product_id]:
                del self.services[key]
        return removed

    def find_service(self, name: str) -> Service | None:
        """Return a service by name or display name, case-insensitively, like ``Get-Service``."""
        service = self.services.get(name.lower())
        if service is not None:
            return service
        return next((s for s in self.services.values() if s.display_name.lower() == name.lower()), None)

    def add_service(self, service: Service) -> None:
        """Create or replace a service."""
        self.services[service.name.lower()] = service

    def free_bytes(self) -> int:
        """Return free space on the system drive (zero with the disk_full fault)."""
        if self.faults.disk_full:
            return 0
        return max(self.system_free_mb * 1024 * 1024 - self.files.used_bytes(), 0)

    # --- digest ------------------------------------------------------------------------

    def digest(self) -> str:
        """Return a hash of all mutable state, so the journal can tell if an invocation changed it."""
        state = {
            "computer_name": self.computer_name,
            "dns_hostname": self.dns_hostname,
            "pending_computer_name": self.pending_computer_name,
            "products": {k: asdict(p) for k, p in sorted(self.products.items())},
            "services": {k: asdict(s) for k, s in sorted(self.services.items())},
            "files": self.files.snapshot(),
            "reboot_reasons": self.reboot_reasons,
            "boot_time": self.boot_time,
            "reboot_down_at": self.reboot_down_at,
            "powered": self.powered,
        }
        return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()


def _product_key(product_id: str) -> str:
    """Return the lookup key of a product id (case and braces do not matter to MSI)."""
    return product_id.strip().strip("{}").lower()


def _nt_version(build: int) -> str:
    """Return the NT major.minor of a Windows build number."""
    if build >= 10240:
        return "10.0"
    if build >= 9600:
        return "6.3"
    if build >= 9200:
        return "6.2"
    if build >= 7600:
        return "6.1"
    return "6.0"
