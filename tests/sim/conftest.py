"""Fleets shared by the transport, auth and CLI tests: started once per module."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from agentroll.sim.testing import FleetHandle, fleet_spec, running_fleet


@pytest.fixture(scope="module")
def http_fleet() -> Iterator[FleetHandle]:
    """Four hosts over plain HTTP (port 5985); tests pick the transport in the inventory."""
    with running_fleet(fleet_spec(4), transport="basic", tls=False) as handle:
        yield handle


@pytest.fixture(scope="module")
def tls_fleet() -> Iterator[FleetHandle]:
    """Two hosts over HTTPS (port 5986)."""
    with running_fleet(fleet_spec(2), transport="ntlm", tls=True) as handle:
        yield handle


@pytest.fixture
def inventory_for(tmp_path: Path) -> Callable[..., Path]:
    """Write an inventory for some hosts of a fleet with a given transport and extra variables."""

    def write(handle: FleetHandle, addresses: list[str], transport: str | None = None, **extra: Any) -> Path:
        variables = dict(extra)
        if transport is not None:
            variables["ansible_winrm_transport"] = transport
        hosts = {f"host{index}": address for index, address in enumerate(addresses)}
        return handle.write_inventory(tmp_path, hosts=hosts, extra_vars=variables)

    return write
