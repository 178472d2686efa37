"""The agent's check-in from the PC, through ansible-playbook over WinRM to the simulated fleet, and the
console's export of the same fleet reconciled with it.

The probe (one invocation) tests the TCP connection to the profile's management server from each PC
and reads the agent's last contact; an installed agent whose PC cannot reach the server is
``agent_unhealthy`` with the cause ``server_unreachable``, and the console does not list it. When the
firewall is opened, the next verify finds it compliant and the console's next export lists it. An
agent whose server answers but which has not reached it for longer than the stale days, by its own
last contact, is ``agent_unhealthy`` too (``agent_silent``); an export older than that probe still
lists it as reporting, and the reconciliation says the agent's word decided it is stale.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
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
#: vp-04's agent last reached its server twenty days before the tests run (the probe reads it then).
SILENT_SINCE = datetime.now(UTC).replace(microsecond=0) - timedelta(days=20)
#: An export of the day after: the console still counts vp-04 as reporting.
EARLY_EXPORT_AT = SILENT_SINCE + timedelta(days=1)
#: The console's later export, two days after the tests run: after the probe, whose time is the real
#: clock's, so it follows the clock too (on the minute, as ``--exported-at`` gives it).
LATER_EXPORT_AT = (SILENT_SINCE + timedelta(days=22)).replace(second=0)
#: vp-02's agent last reached its server two weeks before that export (it cannot reach it since).
VP02_LAST_CONTACT = LATER_EXPORT_AT - timedelta(days=13, hours=16, minutes=45)
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
            "agent_last_contact": VP02_LAST_CONTACT.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "faults": {"server_unreachable": True},
        },
    ),
    Pc("vp-03", "vp", {"computer_name": "VP-PC03", "faults": {"server_unreachable": True}}),
    Pc(
        "vp-04",
        "vp",
        {
            "computer_name": "VP-PC04",
            **agent_software(),
            "agent_last_contact": SILENT_SINCE.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "faults": {"agent_not_reporting": True},
        },
    ),
]


def import_console(district: District, export: Path, exported_at: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *(sys.executable, "-m", "agentroll", "console", "import", str(export)),
            *("-i", str(district.inventory), "--exported-at", exported_at),
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
        early = workdir / "console-early.csv"
        write_console_export(
            handle.fleet,
            early,
            product_id=demo_data.AGENT_PRODUCT_ID,
            service_name=demo_data.AGENT_SERVICE_NAME,
            zone=timezone(None),
            now=EARLY_EXPORT_AT,
        )
        local_export_time = EARLY_EXPORT_AT.astimezone(timezone(None)).strftime("%Y-%m-%d %H:%M")
        early_imported = import_console(district, early, local_export_time)
        early_reconciled = report(district)
        export = workdir / "console-before.csv"
        listed = write_console_export(
            handle.fleet,
            export,
            product_id=demo_data.AGENT_PRODUCT_ID,
            service_name=demo_data.AGENT_SERVICE_NAME,
            zone=timezone(None),
            now=LATER_EXPORT_AT,
        )
        imported = import_console(
            district, export, LATER_EXPORT_AT.astimezone(timezone(None)).strftime("%Y-%m-%d %H:%M")
        )
        reconciled = report(district)
        handle.set_faults(district.address(PCS, "vp-02"), server_unreachable=False)
        after = district.play("verify.yml")
        yield {
            "before": before,
            "listed": listed,
            "imported": imported,
            "reconciled": reconciled,
            "early_imported": early_imported,
            "early_reconciled": early_reconciled,
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
        "last_contact": VP02_LAST_CONTACT.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    # No agent: the server's reachability says nothing about a state.
    assert (vp03["state"], vp03["checkin"]["reachable"]) == ("not_installed", False)


def test_the_console_does_not_list_the_agent_that_cannot_reach_it(checked: dict[str, Any]) -> None:
    assert checked["listed"] == 3
    assert checked["imported"].returncode == 0, checked["imported"].stderr
    exported = f"exported {LATER_EXPORT_AT:%Y-%m-%d %H:%M} UTC, as given): matched 3 (3 by mac)"
    assert exported in checked["imported"].stderr
    report = checked["reconciled"]
    hosts = {host["host"]: host["console"] for host in report["hosts"]}
    assert hosts["vp-01"]["truth"] == "reporting"
    # The console lists vp-02 with its agent's last contact, two weeks before the export: stale, and why.
    assert (hosts["vp-02"]["truth"], hosts["vp-02"]["cause"]) == (
        "stale",
        {"code": "server_unreachable", "server": SERVER},
    )
    assert hosts["vp-03"]["truth"] == "absent"
    assert (report["console"]["reporting"], report["totals"]["installed"]) == (1, 3)
    vp02_seen = VP02_LAST_CONTACT.astimezone(timezone(None)).strftime("%d/%m/%Y %H:%M")
    assert checked["vp02"] in checked["export"] and vp02_seen in checked["export"]


def test_once_the_server_is_reachable_the_agent_is_compliant(checked: dict[str, Any]) -> None:
    vp02 = checked["after"].host("vp-02")
    assert vp02["state"] == "compliant", checked["after"].output[-3000:]
    assert vp02["checkin"]["reachable"] is True


def test_an_agent_silent_by_its_own_account_is_not_compliant(checked: dict[str, Any]) -> None:
    vp04 = checked["before"].host("vp-04")
    assert (vp04["checkin"]["reachable"], vp04["checkin"]["last_contact"]) == (
        True,
        SILENT_SINCE.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    assert (vp04["state"], vp04["causes"], vp04["next_step"]) == (
        "agent_unhealthy",
        [{"code": "agent_silent", "days": 20}],
        {"code": "next_check_registration"},
    )


def test_the_agents_word_after_an_older_export_decides_it_is_stale(checked: dict[str, Any]) -> None:
    assert checked["early_imported"].returncode == 0, checked["early_imported"].stderr
    early = {host["host"]: host["console"] for host in checked["early_reconciled"]["hosts"]}
    assert (early["vp-01"]["truth"], early["vp-01"]["decided_by"]) == ("reporting", "console")
    assert (early["vp-04"]["truth"], early["vp-04"]["decided_by"], early["vp-04"]["cause"]) == (
        "stale",
        "agent",
        {"code": "agent_silent", "days": 20},
    )
    # The later export (after the probe) lists vp-04 with its old last contact: the console decides.
    later = next(host for host in checked["reconciled"]["hosts"] if host["host"] == "vp-04")["console"]
    assert (later["truth"], later["decided_by"], later["cause"]["code"]) == (
        "stale",
        "console",
        "console_stale",
    )
