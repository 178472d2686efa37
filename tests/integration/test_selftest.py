"""The probe on PCs where a query fails or Windows disagrees with itself, through the real
ansible-playbook over WinRM: playbooks/selftest.yml (the probe beside ansible.windows.setup and
win_service_info) and the warnings and unknown values of a preflight run reaching the report.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from agentroll.model import Aspect
from agentroll.sim.testing import running_fleet
from agentroll.store import Store
from tests.integration.support import District, Pc, Run, fleet_spec, write_inventory

pytestmark = [pytest.mark.integration]

PRODUCT = "{6D1C2F5A-7B3E-4C1A-9E55-A6E0C0FFEE01}"
AGENT = {"agentroll_agent_product_id": PRODUCT, "agentroll_agent_service_name": "AgentrollSample"}
INSTALLED = {
    "products": [{"id": PRODUCT, "name": "agentroll sample agent", "version": "1.0.0"}],
    "services": [{"name": "AgentrollSample", "display_name": "agentroll sample agent", "start_mode": "auto"}],
}
UNITS = {"vp": {"code": "VP", "name": "Văn phòng HĐND và UBND huyện", "licenses": 5}}
PCS = [
    Pc("healthy", "vp", {"computer_name": "VP-THANGPV", **INSTALLED}),
    Pc("long-name", "vp", {"computer_name": "PHONG-KE-TOAN-M", "dns_hostname": "phong-ke-toan-may-01"}),
    Pc(
        "no-product-type",
        "vp",
        {"computer_name": "VP-PC03", "faults": {"failing_queries": ["os_product_type"]}},
    ),
    Pc("no-disk", "vp", {"computer_name": "VP-PC04", "faults": {"failing_queries": ["disk"]}}),
    Pc(
        "no-service",
        "vp",
        {"computer_name": "VP-PC05", **INSTALLED, "faults": {"failing_queries": ["service"]}},
    ),
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("selftest")
    with running_fleet(fleet_spec(PCS), transport="ntlm") as handle:
        inventory = write_inventory(handle, workdir / "inventory", PCS, UNITS, extra_vars=AGENT)
        district = District(handle, inventory, workdir)
        marks = district.journal_marks()
        selftest = district.play("selftest.yml")
        mutations = district.mutations_since(marks)
        with Store(district.state) as store:
            after_selftest = store.views()
        preflight = district.play("preflight.yml")
        with Store(district.state) as store:
            views = store.views()
        yield {
            "selftest": selftest,
            "mutations": mutations,
            "after_selftest": after_selftest,
            "preflight": preflight,
            "views": views,
        }


def host_block(run: Run, host: str) -> str:
    """What the self-test printed for one host (its debug message)."""
    marker = f"ok: [{host}] => "
    start = run.stdout.index(marker, run.stdout.index("TASK [Print every check"))
    return run.stdout[start : run.stdout.index("\n}", start)]


def test_a_healthy_pc_has_no_disagreement(runs: dict[str, Any]) -> None:
    run = runs["selftest"]
    assert run.recap()["healthy"]["failed"] == 0, run.output[-4000:]
    block = host_block(run, "healthy")
    assert "self-test: 0 disagreement(s), 13 agreement(s), 1 not compared" in block
    assert "agrees  agent service running: probe 'running', ansible.windows.win_service_info" in block
    assert "DIFFERS" not in block


def test_a_pc_whose_dns_name_is_not_its_netbios_name_disagrees(runs: dict[str, Any]) -> None:
    run = runs["selftest"]
    assert run.recap()["long-name"]["failed"] == 1
    assert (
        "DIFFERS computer name (DNS host name): probe 'PHONG-KE-TOAN-M', "
        "ansible.windows.setup ansible_hostname 'phong-ke-toan-may-01'"
    ) in host_block(run, "long-name")


def test_a_product_type_wmi_does_not_give_is_unknown_and_disagrees_with_setup(runs: dict[str, Any]) -> None:
    run = runs["selftest"]
    assert run.recap()["no-product-type"]["failed"] == 1
    assert "the product type is unknown: Win32_OperatingSystem gave ProductType ''" in run.output
    assert (
        "DIFFERS product type: probe 'unknown', ansible.windows.setup ansible_os_product_type 'workstation'"
        in host_block(run, "no-product-type")
    )


def test_the_self_test_changes_nothing(runs: dict[str, Any]) -> None:
    assert runs["mutations"] == []


def test_a_disagreement_is_not_recorded_as_a_failure_of_the_pc(runs: dict[str, Any]) -> None:
    assert runs["selftest"].recap()["long-name"]["failed"] == 1
    assert all(Aspect.FAILURE not in view.latest for view in runs["after_selftest"].values())


def test_a_failing_disk_query_is_a_warning_and_free_space_unknown_in_the_report(runs: dict[str, Any]) -> None:
    run = runs["preflight"]
    assert (
        "the size and free space of C: are unknown: the Win32_LogicalDisk query (DeviceID='C:') "
        "failed (Quota violation)"
    ) in " ".join(run.output.split())
    entry = run.host("no-disk")
    assert entry["state"] == "ineligible", entry
    assert [reason for reason in entry["reasons"] if "free space" in reason and "unknown" in reason], entry
    facts = runs["views"]["no-disk"].value(Aspect.FACTS)
    assert (facts["system_size_mb"], facts["system_free_mb"]) == (None, None)


def test_an_unknown_product_type_is_recorded_as_unknown(runs: dict[str, Any]) -> None:
    assert runs["views"]["no-product-type"].value(Aspect.FACTS)["product_type"] == "unknown"
    assert runs["views"]["healthy"].value(Aspect.FACTS)["product_type"] == "workstation"


def test_a_failing_service_query_is_a_warning_and_no_service_state(runs: dict[str, Any]) -> None:
    run = runs["preflight"]
    assert (
        "the state and start mode of the agent service are unknown: the Win32_Service query "
        "(Name='AgentrollSample') failed (Access denied)"
    ) in " ".join(run.output.split())
    agent = runs["views"]["no-service"].value(Aspect.AGENT)
    assert agent["installed"] is True and agent["service_state"] is None and agent["start_mode"] is None
