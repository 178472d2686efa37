"""The agent's check-in from the PC, through ansible-playbook over WinRM to the simulated fleet, and the
console's export of the same fleet reconciled with it.

The probe (one invocation) tests the TCP connection to the profile's management server from each PC
and reads the agent's last contact; an installed agent whose PC cannot reach the server is
``agent_unhealthy`` with the cause ``server_unreachable``, and the console does not list it. When the
firewall is opened, the next verify finds it compliant and the console's next export lists it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agentroll import demo_data
from agentroll.i18n import timezone
from agentroll.sim.console import write_console_export
from agentroll.sim.testing import PROJECT_ROOT, running_fleet
from tests.integration.support import District, Pc, agent_software, fleet_spec, write_inventory

pytestmark = [pytest.mark.integration]

SERVER = "soc.konplong.example:8443"
PROFILE = {
    "agentroll_agent_server": SERVER,
    "agentroll_agent_server_timeout_ms": 500,
    "agentroll_agent_last_contact_key": "HKLM:\\SOFTWARE\\Agentroll\\Sample",
    "agentroll_agent_last_contact_value": "LastContact",
}
UNITS = {"vp": {"code": "VP", "name": "Văn phòng HĐND và UBND huyện", "licenses": 4}}
PCS = [
    Pc("vp-01", "vp", {"computer_name": "VP-PC01", **agent_software()}),
    Pc(
        "vp-02",
        "vp",
        {
            "computer_name": "VP-PC02",
            **agent_software(),
            "agent_last_contact": "2026-11-20T08:15:00Z",
            "faults": {"server_unreachable": True},
        },
    ),
    Pc("vp-03", "vp", {"computer_name": "VP-PC03", "faults": {"server_unreachable": True}}),
]


def import_console(district: District, export: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *(sys.executable, "-m", "agentroll", "console", "import", str(export)),
            *("-i", str(district.inventory), "--exported-at", "2026-12-04 08:00"),
        ],
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin", **district.env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def report(district: District) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "agentroll", "report", "-i", str(district.inventory), "--format", "json"],
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin", **district.env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("checkin")
    with running_fleet(fleet_spec(PCS)) as handle:
        inventory = write_inventory(handle, workdir / "inventory", PCS, UNITS, extra_vars=PROFILE)
        district = District(handle, inventory, workdir)
        before = district.play("verify.yml")
        export = workdir / "console-before.csv"
        listed = write_console_export(
            handle.fleet,
            export,
            product_id=demo_data.AGENT_PRODUCT_ID,
            service_name=demo_data.AGENT_SERVICE_NAME,
            zone=timezone(None),
            now=datetime(2026, 12, 4, 1, 0, tzinfo=UTC),
        )
        imported = import_console(district, export)
        reconciled = report(district)
        handle.set_faults(district.address(PCS, "vp-02"), server_unreachable=False)
        after = district.play("verify.yml")
        yield {
            "before": before,
            "listed": listed,
            "imported": imported,
            "reconciled": reconciled,
            "after": after,
            "export": export.read_text(encoding="utf-8"),
            "vp02": district.address(PCS, "vp-02"),
        }


def test_an_agent_that_cannot_reach_its_server_is_not_compliant(checked: dict[str, Any]) -> None:
    run = checked["before"]
    vp01, vp02, vp03 = (run.host(name) for name in ("vp-01", "vp-02", "vp-03"))
    assert vp01["state"] == "compliant", run.output[-3000:]
    assert vp01["checkin"]["server"] == SERVER and vp01["checkin"]["reachable"] is True
    assert vp02["state"] == "agent_unhealthy"
    assert vp02["causes"] == [{"code": "server_unreachable", "server": SERVER}]
    assert vp02["reasons"] == [f"cannot reach the management server {SERVER}"]
    assert vp02["next_step"] == {"code": "next_open_server", "server": SERVER}
    assert vp02["checkin"] == {
        "server": SERVER,
        "reachable": False,
        "error": "no answer within 500 ms",
        "last_contact": "2026-11-20T08:15:00Z",
    }
    # No agent: the server's reachability says nothing about a state.
    assert (vp03["state"], vp03["checkin"]["reachable"]) == ("not_installed", False)


def test_the_console_does_not_list_the_agent_that_cannot_reach_it(checked: dict[str, Any]) -> None:
    assert checked["listed"] == 2
    assert checked["imported"].returncode == 0, checked["imported"].stderr
    assert "exported 2026-12-04 01:00 UTC, as given): matched 2 (2 by mac)" in checked["imported"].stderr
    report = checked["reconciled"]
    hosts = {host["host"]: host["console"] for host in report["hosts"]}
    assert hosts["vp-01"]["truth"] == "reporting"
    # The console lists vp-02 with its agent's last contact, two weeks before the export: stale, and why.
    assert (hosts["vp-02"]["truth"], hosts["vp-02"]["cause"]) == (
        "stale",
        {"code": "server_unreachable", "server": SERVER},
    )
    assert hosts["vp-03"]["truth"] == "absent"
    assert (report["console"]["reporting"], report["totals"]["installed"]) == (1, 2)
    assert checked["vp02"] in checked["export"] and "20/11/2026 15:15" in checked["export"]


def test_once_the_server_is_reachable_the_agent_is_compliant(checked: dict[str, Any]) -> None:
    vp02 = checked["after"].host("vp-02")
    assert vp02["state"] == "compliant", checked["after"].output[-3000:]
    assert vp02["checkin"]["reachable"] is True
