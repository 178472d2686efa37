"""Wake-on-LAN through the real ansible-playbook: playbooks/wake.yml against switched-off simulated PCs.

community.general.wakeonlan sends real UDP magic packets from the controller to each unit's
broadcast address (or a PC's own address); the simulated network cards wake only for their own MAC
and only with Wake-on-LAN enabled, and the woken PCs answer WinRM once booted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentroll.model import Aspect
from agentroll.sim.testing import FleetHandle, running_fleet
from agentroll.sim.wol import subnet_broadcast
from agentroll.store import open_store
from tests.integration.support import District, Pc, fleet_spec, write_inventory

pytestmark = [pytest.mark.integration]

UNIT = {"tp": {"code": "TP", "name": "Phòng Tư pháp", "licenses": 6}}
PCS = [
    Pc("tp-on", "tp", {}),
    Pc("tp-off", "tp", {"power": "off"}),
    Pc("tp-nowol", "tp", {"power": "off", "wake_on_lan": False}),
    Pc("tp-wrongmac", "tp", {"power": "off"}, {"agentroll_mac": "02-00-00-00-00-99"}),
    Pc("tp-nomac", "tp", {"power": "off"}, {"agentroll_mac": ""}),
]


@pytest.fixture
def fleet() -> Iterator[FleetHandle]:
    with running_fleet(fleet_spec(PCS, boot_seconds=0.5), transport="basic") as handle:
        yield handle


def district(handle: FleetHandle, tmp_path: Path, **wake: Any) -> District:
    broadcast = subnet_broadcast(handle.addresses[0])
    extra = {"agentroll_wake_address": broadcast, "agentroll_wake_boot_timeout": 6, **wake}
    inventory = write_inventory(handle, tmp_path / "inventory", PCS, UNIT, extra_vars=extra)
    return District(handle, inventory, tmp_path)


def wakes(handle: FleetHandle, address: str) -> list[str]:
    """What the PC's network card did with each magic packet for its MAC."""
    return [entry["args"]["outcome"] for entry in handle.journal(address) if entry["kind"] == "wake"]


def test_the_pcs_that_do_not_answer_get_a_magic_packet_and_the_woken_ones_answer(
    fleet: FleetHandle, tmp_path: Path
) -> None:
    area = district(fleet, tmp_path)
    run = area.play("wake.yml")
    address = {pc.name: area.address(PCS, pc.name) for pc in PCS}
    assert wakes(fleet, address["tp-on"]) == []  # it answered: nothing sent
    assert wakes(fleet, address["tp-off"]) == ["woke"]
    assert wakes(fleet, address["tp-nowol"]) == ["wake_on_lan_disabled"]
    assert wakes(fleet, address["tp-wrongmac"]) == []  # a packet for another MAC wakes nothing
    assert wakes(fleet, address["tp-nomac"]) == []  # no MAC in the roster: no packet
    assert fleet.server.listening(address["tp-off"])
    assert not any(fleet.server.listening(address[name]) for name in ("tp-nowol", "tp-wrongmac", "tp-nomac"))
    # The woken PC answered the wait (a WinRM module ran on it); the others did not within the bound.
    assert [e["module"] for e in fleet.journal(address["tp-off"]) if e["kind"] == "module"] == [
        "ansible.windows.win_ping"
    ]
    recap = run.recap()
    assert recap["tp-off"]["failed"] == 0 and recap["tp-on"]["failed"] == 0
    assert recap["tp-nowol"]["failed"] == recap["tp-wrongmac"]["failed"] == 1
    assert recap["tp-nomac"]["failed"] == 0
    assert "Wait for each woken PC to answer" in run.stdout

    # Recorded: every packet with its outcome; a woken PC that stays silent is unreachable for it.
    hosts = {entry["host"]: entry for entry in run.report["hosts"]}
    assert hosts["tp-nowol"]["state"] == hosts["tp-wrongmac"]["state"] == "unreachable"
    assert hosts["tp-nowol"]["causes"] == hosts["tp-wrongmac"]["causes"] == [{"code": "wol_no_answer"}]
    assert hosts["tp-nomac"]["causes"] == [{"code": "connection_refused"}]
    with open_store(area.state, readonly=True) as store:
        views = store.views()
    port = fleet.fleet.wake_on_lan_port
    broadcast = subnet_broadcast(address["tp-off"])
    assert views["tp-off"].value(Aspect.WAKE) == {
        "mac": fleet.fleet.host(address["tp-off"]).mac,
        "address": broadcast,
        "port": port,
        "answered": True,
    }
    assert views["tp-off"].value(Aspect.CONTACT) == {"status": "ok", "reason": None}
    assert views["tp-wrongmac"].value(Aspect.WAKE) == {
        "mac": "02-00-00-00-00-99",
        "address": broadcast,
        "port": port,
        "answered": False,
    }
    assert Aspect.WAKE not in views["tp-on"].latest and Aspect.WAKE not in views["tp-nomac"].latest


def test_a_directed_unicast_reaches_the_pc_at_its_own_address(fleet: FleetHandle, tmp_path: Path) -> None:
    area = district(fleet, tmp_path, agentroll_wake_address="{{ ansible_host }}")
    area.play("wake.yml", "--limit", "tp-off")
    assert wakes(fleet, area.address(PCS, "tp-off")) == ["woke"]
    assert fleet.server.listening(area.address(PCS, "tp-off"))


def test_check_mode_sends_nothing_and_waits_for_nothing(fleet: FleetHandle, tmp_path: Path) -> None:
    area = district(fleet, tmp_path)
    run = area.play("wake.yml", "--check")
    assert run.returncode == 0, run.output[-3000:]
    assert all(wakes(fleet, address) == [] for address in fleet.addresses)
    assert not fleet.server.listening(area.address(PCS, "tp-off"))
