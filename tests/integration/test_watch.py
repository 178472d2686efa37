"""``agentroll watch`` as the operator runs it, over the real ansible-playbook and WinRM, and the lock
that keeps two deployments off one PC (two watches, a watch and a manual run).

A PC switched off is woken by Wake-on-LAN in the first round; a laptop whose card ignores magic
packets is switched on by its user a few seconds later and caught by a later round; one that stays
off is reported "Wake-on-LAN sent, no answer" with its attempts.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agentroll.model import Aspect
from agentroll.sim.testing import VENV_BIN, FleetHandle, running_fleet
from agentroll.sim.wol import subnet_broadcast
from agentroll.store import open_store
from tests.integration.support import District, Pc, fleet_spec, write_inventory

pytestmark = [pytest.mark.integration]

AGENTROLL = str(VENV_BIN / "agentroll")
UNIT = {"tp": {"code": "TP", "name": "Phòng Tư pháp", "licenses": 4}}
#: Named as the standard says already (no owners: TP-PC01, ...): no rename, no reboot to wait for.
PCS = [
    Pc("tp-01", "tp", {"computer_name": "TP-PC01"}),
    Pc("tp-02", "tp", {"computer_name": "TP-PC02", "power": "off"}),
    Pc("tp-03", "tp", {"computer_name": "TP-PC03", "online": {"from": 12}, "wake_on_lan": False}),
    Pc("tp-04", "tp", {"computer_name": "TP-PC04", "power": "off", "wake_on_lan": False}),
]


@contextlib.contextmanager
def district(tmp_path: Path, pcs: list[Pc]) -> Iterator[District]:
    """A fleet of ``pcs`` and its inventory: one unit, magic packets to its /24's broadcast address."""
    with running_fleet(fleet_spec(pcs, boot_seconds=0.5), transport="basic") as handle:
        extra = {
            "agentroll_wake_address": subnet_broadcast(handle.addresses[0]),
            "agentroll_wake_boot_timeout": 4,
        }
        inventory = write_inventory(handle, tmp_path / "inventory", pcs, UNIT, extra_vars=extra)
        yield District(handle, inventory, tmp_path)


def agentroll(area: District, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [AGENTROLL, *args],
        env={**os.environ, **area.env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def watch_args(area: District, *, every: str, until: datetime) -> list[str]:
    return ["watch", "-i", str(area.inventory), "--every", every, "--until", until.isoformat()]


def report(area: District) -> dict[str, Any]:
    done = agentroll(area, "report", "-i", str(area.inventory), "--format", "json")
    assert done.returncode == 0, done.stderr
    return {entry["host"]: entry for entry in json.loads(done.stdout)["hosts"]}


def wakes(handle: FleetHandle, address: str) -> list[str]:
    return [entry["args"]["outcome"] for entry in handle.journal(address) if entry["kind"] == "wake"]


def test_the_watch_wakes_catches_the_late_laptop_and_reports_the_silent_pc(tmp_path: Path) -> None:
    with district(tmp_path, PCS) as area:
        done = agentroll(area, *watch_args(area, every="5s", until=datetime.now(UTC) + timedelta(seconds=45)))
        address = {pc.name: area.address(PCS, pc.name) for pc in PCS}
        journals = {name: wakes(area.handle, address[name]) for name in address}
        mac, port = area.handle.fleet.host(address["tp-04"]).mac, area.handle.fleet.wake_on_lan_port
    assert done.returncode == 1, done.stderr[-4000:]
    assert done.stdout == "tp-04\n"
    assert "round 1: 4 straggler(s): tp-01, tp-02, tp-03, tp-04" in done.stderr
    assert "round 1: 3 magic packet(s) sent, 2 answered and deployed to, 2 silent" in done.stderr
    assert "deadline passed; 1 straggler(s) left" in done.stderr

    hosts = report(area)
    assert {name: hosts[name]["state"] for name in hosts} == {
        "tp-01": "compliant",
        "tp-02": "compliant",
        "tp-03": "compliant",
        "tp-04": "unreachable",
    }
    assert hosts["tp-04"]["causes"] == [{"code": "wol_no_answer"}]
    rounds = hosts["tp-04"]["attempts"]["count"]
    assert rounds >= 2 and hosts["tp-04"]["attempts"]["answered"] == 0
    assert hosts["tp-03"]["attempts"]["answered"] == 1 and hosts["tp-03"]["attempts"]["count"] >= 2
    since = hosts["tp-04"]["attempts"]["since"]
    assert hosts["tp-01"]["attempts"] == {"count": 1, "answered": 1, "since": since}

    # The late laptop's card ignored its packets (one a round until it was switched on); the last
    # packet may reach it just after its user switched it on.
    late = journals.pop("tp-03")
    assert 1 <= len(late) <= hosts["tp-03"]["attempts"]["count"]
    assert late[:-1] == ["wake_on_lan_disabled"] * (len(late) - 1)
    assert late[-1] in ("wake_on_lan_disabled", "already_on")
    assert journals == {"tp-01": [], "tp-02": ["woke"], "tp-04": ["wake_on_lan_disabled"] * rounds}
    with open_store(area.state, readonly=True) as store:
        views = store.views()
    assert views["tp-02"].value(Aspect.WAKE)["answered"] is True
    assert views["tp-04"].value(Aspect.WAKE) == {
        "mac": mac,
        "address": subnet_broadcast(address["tp-04"]),
        "port": port,
        "answered": False,
    }


def test_one_watch_per_inventory_and_a_stopped_watch_is_continued(tmp_path: Path) -> None:
    with district(tmp_path, [PCS[3]]) as area:
        until = datetime.now(UTC) + timedelta(minutes=10)
        first = subprocess.Popen(
            [AGENTROLL, *watch_args(area, every="10m", until=until)],
            env={**os.environ, **area.env},
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert first.stderr is not None
            for line in first.stderr:
                if "next round at" in line:
                    break
            second = agentroll(area, *watch_args(area, every="10m", until=until))
            first.send_signal(signal.SIGINT)
            assert first.wait(60) == 130
        finally:
            if first.poll() is None:
                first.kill()
        assert second.returncode == 2
        assert f"is already watched by pid {first.pid} on " in second.stderr
        assert "stopped; run it again to continue this watch" in first.stderr.read()
        again = agentroll(area, *watch_args(area, every="1s", until=datetime.now(UTC) + timedelta(seconds=3)))
    assert again.returncode == 1, again.stderr[-3000:]
    assert "continuing the watch started" in again.stderr and "(1 round(s) so far)" in again.stderr
    assert report(area)["tp-04"]["attempts"]["count"] == 2


HOLD_LEASE = """
import os, sys
from datetime import UTC, datetime
from agentroll.store import open_store
with open_store(sys.argv[1]) as store:
    store.acquire_leases([sys.argv[2]], purpose="site.yml", pid=os.getpid(), now=datetime.now(UTC))
print("held", flush=True)
sys.stdin.read()
"""


def test_a_pc_another_run_is_deploying_to_is_left_alone(tmp_path: Path) -> None:
    pcs = [PCS[0], Pc("tp-05", "tp", {"computer_name": "TP-PC02"})]
    with district(tmp_path, pcs) as area:
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD_LEASE, str(area.state), "tp-01"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout is not None and holder.stdout.readline() == "held\n"
            marks = area.journal_marks()
            run = area.play("site.yml")
            changed = {entry["address"] for entry in area.mutations_since(marks)}
            # Check mode takes no lease and says the same.
            checked = area.play("site.yml", "--check")
        finally:
            holder.communicate("", timeout=30)
        assert changed == {area.address(pcs, "tp-05")}
        assert f"site.yml holds it: pid {holder.pid} on " in run.stdout
        assert f"site.yml holds it: pid {holder.pid} on " in checked.stdout
        # Its holder gone, the lease no longer counts.
        marks = area.journal_marks()
        area.play("site.yml")
        assert {entry["address"] for entry in area.mutations_since(marks)} == {area.address(pcs, "tp-01")}
