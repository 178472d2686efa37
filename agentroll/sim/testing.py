"""Helpers for everybody's tests: a running simulated fleet and the real Ansible against it.

``running_fleet`` starts the fleet in the test process (so tests can reach into ``.fleet``) on a
loopback block of its own; ``run_ansible`` runs the real ``ansible``/``ansible-playbook`` of the
project's virtualenv with a clean environment::

    with running_fleet({"credentials": {...}, "hosts": [{"address": "127.20.0.1"}]}) as handle:
        inventory = handle.write_inventory(tmp_path)
        result = run_ansible(["ansible", "all", "-m", "ansible.windows.win_ping"], inventory=inventory)

Address blocks: a fleet gets ``127.(100 + n)``; hosts keep the last two octets of the
addresses in their spec (hosts without an address are numbered). A block is held with a file
lock, so parallel pytest workers and concurrent test sessions never collide.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import itertools
import os
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import yaml

from agentroll.sim.fleet import Fleet
from agentroll.sim.server import FleetServer, connection_vars, host_name

PROJECT_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = PROJECT_ROOT / ".venv" / "bin"
FIRST_BLOCK = 100
LAST_BLOCK = 254
_LOCK_DIR = Path(tempfile.gettempdir()) / f"agentroll-sim-blocks-{os.getuid()}"
DEFAULT_USERNAME = "agentroll"
DEFAULT_PASSWORD = "Sim-Passw0rd!"
_counter = itertools.count()
_held_locks: dict[str, IO[bytes]] = {}

Transport = Literal["basic", "ntlm"]


def _worker_slots() -> tuple[int, int]:
    """Return (index, count) of this pytest-xdist worker, (0, 1) outside xdist."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    index = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0
    return index % max(count, 1), max(count, 1)


def allocate_block() -> str:
    """Reserve a loopback block for one fleet and return its prefix, e.g. ``"127.103"``.

    The preferred block comes from the xdist worker number and a per-process counter; if
    another process holds it (its lock file is locked), the next free block is taken.
    """
    _LOCK_DIR.mkdir(parents=True, exist_ok=True)
    index, count = _worker_slots()
    span = LAST_BLOCK - FIRST_BLOCK + 1
    per_worker = max(1, span // count)
    preferred = index * per_worker + next(_counter) % per_worker
    for offset in range(span):
        second = FIRST_BLOCK + (preferred + offset) % span
        prefix = f"127.{second}"
        if prefix in _held_locks:
            continue
        handle = open(_LOCK_DIR / f"{prefix}.lock", "wb")  # noqa: SIM115  (held until release)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        _held_locks[prefix] = handle
        return prefix
    raise RuntimeError("every 127.100-127.254 loopback block is in use")


def release_block(prefix: str) -> None:
    """Give a block back."""
    handle = _held_locks.pop(prefix, None)
    if handle is not None:
        handle.close()


def relocate(spec: Mapping[str, Any], prefix: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Move every host of a fleet spec into the block ``prefix``.

    Returns the new spec and a map from each original address (or ``"#<index>"`` for hosts
    that had none) to its new address.
    """
    moved = copy.deepcopy(dict(spec))
    mapping: dict[str, str] = {}
    hosts = moved.get("hosts") or []
    for index, host in enumerate(hosts):
        original = str(host.get("address") or f"#{index}")
        if host.get("address"):
            third, fourth = str(host["address"]).split(".")[2:4]
        else:
            third, fourth = str(index // 250), str(index % 250 + 1)
        host["address"] = f"{prefix}.{third}.{fourth}"
        mapping[original] = host["address"]
    return moved, mapping


def fleet_spec(
    count: int, *, username: str = DEFAULT_USERNAME, password: str = DEFAULT_PASSWORD, **defaults: Any
) -> dict[str, Any]:
    """Return a fleet spec of ``count`` hosts with fleet-wide credentials and host ``defaults``."""
    return {
        "credentials": {"username": username, "password": password},
        "defaults": defaults,
        "hosts": [{"address": f"127.0.{index // 250}.{index % 250 + 1}"} for index in range(count)],
    }


def load_spec(spec: Mapping[str, Any] | Path | str) -> dict[str, Any]:
    """Return a fleet spec given as a mapping or as the path of a fleet file."""
    if isinstance(spec, Mapping):
        return dict(spec)
    data = yaml.safe_load(Path(spec).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{spec}: a fleet file must be a mapping")
    return data


@dataclass
class FleetHandle:
    """A fleet running in this process, and how Ansible reaches it."""

    fleet: Fleet
    server: FleetServer
    transport: str
    block: str
    address_map: dict[str, str] = field(default_factory=dict)

    @property
    def addresses(self) -> list[str]:
        """Every host address, in fleet order."""
        return self.fleet.addresses()

    @property
    def tls(self) -> bool:
        """Whether the hosts listen with TLS (port 5986)."""
        return self.server.tls

    def address_of(self, original: str) -> str:
        """Return where the spec's host ``original`` (its address, or ``#index``) now listens."""
        return self.address_map[original]

    def connection_vars(self, address: str | None = None) -> dict[str, Any]:
        """Return the connection variables for one host (default: the first one)."""
        username, password = self.fleet.credentials_for(address or self.addresses[0])
        variables = connection_vars(
            transport=self.transport,
            tls=self.tls,
            port=self.server.port,
            username=username,
            password=password,
        )
        if address is not None:
            variables["ansible_host"] = address
        return variables

    def inventory_vars(self) -> dict[str, Any]:
        """Return the group-level connection variables (the first host's credentials)."""
        return self.connection_vars()

    def host_vars(self, address: str) -> dict[str, Any]:
        """Return a host's own variables: its address and MAC, and its credentials if they differ."""
        variables: dict[str, Any] = {"ansible_host": address, "agentroll_mac": self.fleet.host(address).mac}
        common = self.fleet.credentials_for(self.addresses[0])
        username, password = self.fleet.credentials_for(address)
        if (username, password) != common:
            variables.update(ansible_user=username, ansible_password=password)
        return variables

    def inventory(
        self,
        hosts: Mapping[str, str] | None = None,
        units: Mapping[str, Mapping[str, Any]] | None = None,
        extra_vars: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Return an Ansible YAML inventory for the fleet.

        ``hosts`` maps inventory names to addresses (default: every host, named by address).
        ``units`` maps a group name to ``{code, name, licenses, hosts: [inventory names]}``;
        those groups become children of ``units`` with the agentroll unit variables.
        """
        chosen = dict(hosts) if hosts is not None else {host_name(a): a for a in self.addresses}
        all_vars = {
            **self.inventory_vars(),
            "agentroll_wake_port": self.fleet.wake_on_lan_port,
            **(extra_vars or {}),
        }
        inventory: dict[str, Any] = {
            "all": {"vars": all_vars, "hosts": {name: self.host_vars(a) for name, a in chosen.items()}}
        }
        if units:
            children: dict[str, Any] = {}
            for group, unit in units.items():
                group_vars = {
                    "agentroll_unit_code": unit.get("code", group.upper()),
                    "agentroll_unit_name": unit.get("name", group),
                    "agentroll_licenses": int(unit.get("licenses", 0)),
                }
                members = {name: None for name in unit.get("hosts", [])}
                children[group] = {"vars": group_vars, "hosts": members}
            inventory["all"]["children"] = {"units": {"children": children}}
        return inventory

    def write_inventory(
        self,
        directory: Path | str,
        hosts: Mapping[str, str] | None = None,
        units: Mapping[str, Mapping[str, Any]] | None = None,
        extra_vars: Mapping[str, Any] | None = None,
        name: str = "hosts.yml",
    ) -> Path:
        """Write ``inventory(...)`` to ``directory/name`` and return its path."""
        path = Path(directory) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = yaml.safe_dump(self.inventory(hosts, units, extra_vars), sort_keys=False, allow_unicode=True)
        path.write_text(text, encoding="utf-8")
        return path

    def set_faults(self, address: str, **faults: Any) -> None:
        """Change a host's faults and apply them to its listener at once."""
        self.fleet.set_faults(address, **faults)
        self.server.refresh(address)

    def set_power(self, address: str, on: bool) -> None:
        """Switch a host on (it answers once booted) or off, and apply it to its listener at once."""
        self.fleet.set_power(address, on)
        self.server.refresh(address)

    def journal(self, address: str) -> list[dict[str, Any]]:
        """Return the host's journal."""
        return self.fleet.journal(address)


@contextlib.contextmanager
def running_fleet(
    spec: Mapping[str, Any] | Path | str,
    *,
    transport: Transport = "basic",
    tls: bool | None = None,
    block: str | None = None,
    clock: Any = None,
) -> Iterator[FleetHandle]:
    """Run a fleet in this process on its own loopback block for the duration of a ``with``.

    ``tls`` None keeps the spec's ``tls`` setting; True or False overrides it.
    """
    prefix = block or allocate_block()
    try:
        moved, mapping = relocate(load_spec(spec), prefix)
        if tls is not None:
            moved["tls"] = tls
        fleet = Fleet.from_mapping(moved, clock=clock)
        server = FleetServer(fleet).start()
        try:
            yield FleetHandle(fleet, server, transport, prefix, mapping)
        finally:
            server.stop()
    finally:
        if block is None:
            release_block(prefix)


def _callback_installed(cwd: Path) -> bool:
    """Whether the project's coverage callback can be loaded (it is enabled in ansible.cfg)."""
    collection = cwd / "collections" / "ansible_collections" / "agentroll" / "toolkit"
    return (collection / "plugins" / "callback" / "coverage.py").exists()


def ansible_env(cwd: Path = PROJECT_ROOT, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the environment ``run_ansible`` gives Ansible."""
    result = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    result.pop("NTLM_USER_FILE", None)
    result.update(
        ANSIBLE_CONFIG=str(cwd / "ansible.cfg"),
        ANSIBLE_HOST_KEY_CHECKING="False",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="False",
        PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        PYTHONUNBUFFERED="1",
    )
    if not _callback_installed(cwd):
        # An empty list crashes ansible-core 2.21 ("A non-empty plugin name is required"); a
        # stdout-type builtin is a harmless placeholder, skipped because a stdout one is loaded.
        result["ANSIBLE_CALLBACKS_ENABLED"] = "ansible.builtin.minimal"
    if "AGENTROLL_STATE" not in result and "AGENTROLL_STATE" not in (env or {}):
        # A test must never write into the operator's default state database.
        result["AGENTROLL_STATE"] = str(Path(tempfile.mkdtemp(prefix="agentroll-state-")) / "state.db")
    result.update(env or {})
    return result


def run_ansible(
    args: Sequence[str],
    *,
    inventory: Path | str,
    env: Mapping[str, str] | None = None,
    cwd: Path | str = PROJECT_ROOT,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """Run ``ansible``/``ansible-playbook`` (``args[0]``) from the project's virtualenv."""
    program, *rest = args
    executable = VENV_BIN / program if (VENV_BIN / program).exists() else Path(program)
    command = [str(executable), "-i", str(inventory), *rest]
    return subprocess.run(
        command,
        cwd=cwd,
        env=ansible_env(Path(cwd), env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
