"""Each role the way the ansible.windows integration targets test a module: check mode, real run, rerun.

One small fleet, the real ansible-playbook over WinRM; each role through the playbook that uses it:
check mode changes nothing on any PC (the fleet's journal records no mutation) yet says what it
would change, the real run changes what it should, and a rerun reports 0 changed and mutates
nothing. The reboot role's handler is exercised by the agent role (an installer asking for a
reboot) and the hostname role (a rename).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from agentroll import demo_data
from agentroll.sim.testing import running_fleet
from tests.integration.support import District, Pc, agent_software, fleet_spec, write_inventory

pytestmark = [pytest.mark.integration]

UNITS = {"xa": {"code": "XA", "name": "UBND xã Đăk Long", "licenses": 3}}
PCS = [
    Pc("xa-01", "xa", {"computer_name": "mayphuong"}, {"agentroll_owner": "Lê Thị Phương"}),
    Pc("xa-02", "xa", {"computer_name": "XA-PC01", "faults": {"installer_exit_code": 3010}}),
    Pc("xa-03", "xa", {"computer_name": "XA-PC02", **agent_software("stopped", "manual")}),
]
#: role → the playbook that runs it, and whether it changes PCs.
ROLES = {
    "preflight": ("preflight.yml", False),
    "verify": ("verify.yml", False),
    "agent": ("deploy.yml", True),
    "hostname": ("rename.yml", True),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("roles")
    results: dict[str, Any] = {}
    with running_fleet(fleet_spec(PCS), transport="basic") as handle:
        inventory = write_inventory(handle, workdir / "inventory", PCS, UNITS, {"agentroll_reboot_delay": 0})
        district = District(handle, inventory, workdir)
        for role, (playbook, changes) in ROLES.items():
            phases = ("check", "run", "rerun") if changes else ("check", "run")
            for phase in phases:
                marks = district.journal_marks()
                run = district.play(playbook, *(["--check"] if phase == "check" else []))
                results[role, phase] = {"run": run, "mutations": district.mutations_since(marks)}
        results["district"] = district
        yield results


def _changed(run: Any) -> dict[str, int]:
    return {host: counts["changed"] for host, counts in run.recap().items() if counts["changed"]}


@pytest.mark.parametrize("role", ROLES)
def test_check_mode_changes_nothing(runs: dict[str, Any], role: str) -> None:
    check = runs[role, "check"]
    assert check["run"].returncode == 0, check["run"].output[-3000:]
    assert check["mutations"] == [], check["mutations"][:3]


@pytest.mark.parametrize("role", [role for role, (_, changes) in ROLES.items() if changes])
def test_check_mode_says_what_it_would_change(runs: dict[str, Any], role: str) -> None:
    assert _changed(runs[role, "check"]["run"]), runs[role, "check"]["run"].stdout[-3000:]


@pytest.mark.parametrize("role", [role for role, (_, changes) in ROLES.items() if not changes])
def test_read_only_roles_change_nothing_for_real_either(runs: dict[str, Any], role: str) -> None:
    run = runs[role, "run"]
    assert (run["mutations"], _changed(run["run"])) == ([], {})


@pytest.mark.parametrize("role", [role for role, (_, changes) in ROLES.items() if changes])
def test_a_rerun_is_idempotent(runs: dict[str, Any], role: str) -> None:
    rerun = runs[role, "rerun"]
    assert rerun["run"].returncode == 0, rerun["run"].output[-3000:]
    assert (rerun["mutations"], _changed(rerun["run"])) == ([], {})


def test_agent_installs_repairs_the_service_and_reboots_where_the_installer_asks(
    runs: dict[str, Any],
) -> None:
    district: District = runs["district"]
    fleet = district.handle.fleet
    for name in ("xa-01", "xa-02", "xa-03"):
        host = fleet.host(district.address(PCS, name))
        assert host.find_product(demo_data.AGENT_PRODUCT_ID) is not None, name
        service = host.find_service(demo_data.AGENT_SERVICE_NAME)
        assert service is not None and (service.state, service.start_mode) == ("running", "auto"), name
    rebooted = {
        pc.name
        for pc in PCS
        for entry in runs["agent", "run"]["mutations"]
        if entry["address"] == district.address(PCS, pc.name) and entry["kind"] == "reboot_shutdown"
    }
    assert rebooted == {"xa-02"}  # the 3010 install, through the reboot role's one handler
    states = {entry["host"]: entry["state"] for entry in runs["agent", "run"]["run"].report["hosts"]}
    assert states == {"xa-01": "misnamed", "xa-02": "compliant", "xa-03": "compliant"}


def test_hostname_renames_reboots_and_checks_the_new_name(runs: dict[str, Any]) -> None:
    district: District = runs["district"]
    host = district.handle.fleet.host(district.address(PCS, "xa-01"))
    assert host.computer_name == "XA-PHUONGLT"
    kinds = [entry["kind"] for entry in runs["hostname", "run"]["mutations"]]
    assert "reboot_shutdown" in kinds
    states = {entry["host"]: entry["state"] for entry in runs["hostname", "run"]["run"].report["hosts"]}
    assert states == dict.fromkeys(("xa-01", "xa-02", "xa-03"), "compliant")
