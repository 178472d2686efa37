"""The demo's simulated fleet: loaded and checked against the inventory, served while the demo runs."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agentroll.demo.settings import DemoError, Settings, check_setup, shown
from agentroll.inventory import InventoryError, host_variables, load_inventory
from agentroll.model import Inventory

#: The connection variables a host needs to reach its simulated PC (the password only compared).
CONNECTION_VARS = (
    "ansible_host",
    "ansible_connection",
    "ansible_winrm_transport",
    "ansible_winrm_scheme",
    "ansible_port",
    "ansible_user",
    "ansible_password",
)


def load_demo(settings: Settings) -> tuple[Inventory, Any]:
    """The checked inventory and fleet, or a ``DemoError`` saying what is wrong with the set-up."""
    from agentroll.sim.fleet import Fleet, FleetFileError

    check_setup(settings)
    try:
        inventory = load_inventory(settings.inventory)
        fleet = Fleet.from_file(settings.fleet_file)
        variables = host_variables(settings.inventory, CONNECTION_VARS)
    except (InventoryError, FleetFileError) as error:
        raise DemoError(str(error).splitlines()[0]) from None
    problems = connection_problems(inventory, variables, fleet)
    if problems:
        raise DemoError(
            f"{shown(settings.inventory)} does not match {shown(settings.fleet_file)}: " + "; ".join(problems)
        )
    return inventory, fleet


def connection_problems(
    inventory: Inventory, variables: Mapping[str, Mapping[str, Any]], fleet: Any
) -> list[str]:
    """What in each PC's connection variables would not reach its simulated PC (no secret in it)."""
    addresses = set(fleet.addresses())
    found: dict[str, list[str]] = {}
    for host in inventory.hosts:
        own = variables.get(host.name, {})
        address = str(own.get("ansible_host") or host.name)
        if address not in addresses:
            found.setdefault("not in the fleet", []).append(host.name)
            continue
        for problem in _mismatches(own, fleet, address):
            found.setdefault(problem, []).append(host.name)
    return [f"{problem} ({_some(hosts)})" for problem, hosts in found.items()]


def _mismatches(variables: Mapping[str, Any], fleet: Any, address: str) -> list[str]:
    """How one PC's connection variables differ from what its simulated PC expects."""
    username, password = fleet.credentials_for(address)
    expected = {
        "ansible_connection": "winrm",
        "ansible_winrm_scheme": "https" if fleet.tls else "http",
        "ansible_port": 5986 if fleet.tls else 5985,
        "ansible_user": username,
    }
    problems = [
        f"{key} is {variables.get(key)!r}, the fleet needs {value!r}"
        for key, value in expected.items()
        if str(variables.get(key)) != str(value)
    ]
    if variables.get("ansible_winrm_transport") not in ("basic", "ntlm"):
        problems.append("ansible_winrm_transport must be basic or ntlm for the simulated fleet")
    if variables.get("ansible_password") != password:
        # The password itself is never printed, only that it differs.
        problems.append("ansible_password differs from the fleet's credentials")
    return problems


def _some(hosts: Sequence[str]) -> str:
    """``1 PC: vp-01`` or ``192 PCs, e.g. vp-01``."""
    return f"1 PC: {hosts[0]}" if len(hosts) == 1 else f"{len(hosts)} PCs, e.g. {hosts[0]}"


@dataclass
class DemoFleet:
    """The fleet running in this process, and the client of its control API."""

    fleet: Any
    control: Any


@contextlib.contextmanager
def running_fleet(fleet: Any) -> Iterator[DemoFleet]:
    """Serve ``fleet`` over WinRM with its control API; always stopped on the way out."""
    from agentroll.sim.control import ControlClient, ControlServer
    from agentroll.sim.server import FleetServer

    server = FleetServer(fleet)
    try:
        server.start()
    except OSError as error:
        raise DemoError(
            f"cannot start the simulated fleet: {error.strerror or error}; "
            "stop the other fleet (agentroll sim stop) or the other demo first"
        ) from None
    control = None
    try:
        control = ControlServer(fleet, server).start()
        yield DemoFleet(fleet, ControlClient(control.url))
    finally:
        if control is not None:
            control.stop()
        server.stop()
