"""The rename scope through the real site.yml: only workstations that run the agent (or get it in
this run) are renamed and rebooted; a server only when the inventory opts in."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from agentroll.sim.testing import running_fleet
from tests.integration.support import District, Pc, agent_software, fleet_spec, write_inventory

pytestmark = [pytest.mark.integration]

SERVER_2019 = {"caption": "Microsoft Windows Server 2019 Standard", "build": 17763, "product_type": "server"}
UNITS = {"xa": {"code": "XA", "name": "UBND xã Đăk Long", "licenses": 3}}
PCS = [
    Pc("xa-01", "xa", {"computer_name": "mayphuong"}, {"agentroll_owner": "Lê Thị Phương"}),
    Pc("xa-02", "xa", {"computer_name": "KETOAN", "ram_mb": 1024}),
    Pc("xa-03", "xa", {"computer_name": "FILESRV", "os": SERVER_2019, **agent_software()}),
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("rename-scope")
    results: dict[str, Any] = {}
    with running_fleet(fleet_spec(PCS), transport="basic") as handle:
        inventory = write_inventory(handle, workdir / "inventory", PCS, UNITS, {"agentroll_reboot_delay": 0})
        district = District(handle, inventory, workdir)

        def play(label: str, *args: str) -> None:
            marks = district.journal_marks()
            run = district.play("site.yml", *args)
            names = {pc.name: handle.fleet.host(district.address(PCS, pc.name)).computer_name for pc in PCS}
            mutations = district.mutations_since(marks)
            results[label] = {"run": run, "names": names, "mutations": mutations}

        play("check mode", "--check")
        play("default")
        play("servers opted in", "-e", "agentroll_hostname_rename_servers=true")
        results["district"] = district
        yield results


def _mutated(result: dict[str, Any], district: District) -> dict[str, set[str]]:
    """Per PC name, the kinds of change its journal recorded."""
    by_address = {district.address(PCS, pc.name): pc.name for pc in PCS}
    found: dict[str, set[str]] = {}
    for entry in result["mutations"]:
        found.setdefault(by_address[entry["address"]], set()).add(entry["kind"])
    return found


def test_the_dry_run_lists_who_would_be_renamed_and_rebooted(runs: dict[str, Any]) -> None:
    output = runs["check mode"]["run"].stdout
    assert "would rename: xa-01" in output
    assert "would reboot (policy agentroll_reboot; an installer may ask for more): xa-01" in output
    assert "xa-03 [XA]: agent installed, not renamed: a server" in output
    assert runs["check mode"]["mutations"] == []


def test_an_ineligible_pc_and_a_server_keep_their_names_and_are_not_rebooted(runs: dict[str, Any]) -> None:
    result, district = runs["default"], runs["district"]
    assert result["run"].returncode == 0, result["run"].output[-3000:]
    assert result["names"] == {"xa-01": "XA-PHUONGLT", "xa-02": "KETOAN", "xa-03": "FILESRV"}
    mutated = _mutated(result, district)
    assert "reboot_shutdown" in mutated["xa-01"]
    assert set(mutated) == {"xa-01"}
    states = {entry["host"]: entry["state"] for entry in result["run"].report["hosts"]}
    assert states["xa-01"] == "compliant" and states["xa-02"] == "ineligible"


def test_a_server_out_of_the_scope_gets_the_operators_next_step_and_is_no_straggler(
    runs: dict[str, Any],
) -> None:
    report = runs["default"]["run"].report
    server = next(entry for entry in report["hosts"] if entry["host"] == "xa-03")
    assert server["state"] == "misnamed"
    assert {"code": "rename_server", "product_type": "server"} in server["causes"]
    assert server["next_step"] == {"code": "next_rename_server_or_by_hand", "product_type": "server"}
    assert report["stragglers"] == []


def test_the_inventory_opts_servers_into_the_rename(runs: dict[str, Any]) -> None:
    result, district = runs["servers opted in"], runs["district"]
    assert result["run"].returncode == 0, result["run"].output[-3000:]
    assert result["names"] == {"xa-01": "XA-PHUONGLT", "xa-02": "KETOAN", "xa-03": "XA-PC02"}
    assert set(_mutated(result, district)) == {"xa-03"}
    server = next(entry for entry in result["run"].report["hosts"] if entry["host"] == "xa-03")
    assert (server["state"], server["next_step"]) == ("compliant", None)
