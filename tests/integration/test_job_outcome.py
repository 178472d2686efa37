"""What the exit status (the AWX job status) says when PCs are off or ineligible: strict (the
default) fails the job while a PC cannot be reached; lenient records it, finishes, and leaves the
judgement to ``agentroll report --fail-under``. The real ansible-playbook on the simulated fleet."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from agentroll import cli
from agentroll.sim.testing import running_fleet
from tests.integration.support import District, Pc, fleet_spec, write_inventory

pytestmark = [pytest.mark.integration]

UNITS = {"xa": {"code": "XA", "name": "UBND xã Đăk Long", "licenses": 3}}
PCS = [
    Pc("xa-01", "xa", {"computer_name": "XA-PC01"}),
    Pc("xa-02", "xa", {"computer_name": "XA-PC02", "ram_mb": 1024}),  # ineligible
    Pc("xa-03", "xa", {"computer_name": "XA-PC03", "faults": {"refuse_connections": True}}),  # off
]
#: ansible-playbook's exit status when a host was unreachable.
UNREACHABLE_EXIT = 4


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("job-outcome")
    results: dict[str, Any] = {}
    with running_fleet(fleet_spec(PCS), transport="basic") as handle:
        inventory = write_inventory(handle, workdir / "inventory", PCS, UNITS, {"agentroll_reboot_delay": 0})
        district = District(handle, inventory, workdir)
        results["strict"] = district.play("site.yml")
        results["lenient"] = district.play("site.yml", "-e", "agentroll_job_outcome=lenient")
        results["lenient verify"] = district.play("verify.yml", "-e", "agentroll_job_outcome=lenient")
        results["district"] = district
    yield results


def test_strict_fails_the_job_while_a_pc_is_off(runs: dict[str, Any]) -> None:
    run = runs["strict"]
    assert run.returncode == UNREACHABLE_EXIT
    assert run.recap()["xa-03"]["unreachable"] == 1
    assert run.host("xa-01")["state"] == "compliant"


@pytest.mark.parametrize("label", ["lenient", "lenient verify"])
def test_lenient_records_the_pc_that_is_off_and_succeeds(runs: dict[str, Any], label: str) -> None:
    run = runs[label]
    assert run.returncode == 0, run.output[-3000:]
    states = {entry["host"]: entry["state"] for entry in run.report["hosts"]}
    assert states == {"xa-01": "compliant", "xa-02": "ineligible", "xa-03": "unreachable"}
    assert run.host("xa-03")["causes"] == [{"code": "connection_refused"}]


def test_the_report_judges_the_coverage_for_the_scheduler(
    runs: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    district: District = runs["district"]
    base = ["report", "-i", str(district.inventory), "--state", str(district.state), "--format", "json"]
    assert cli.main([*base, "--fail-under", "30"]) == 0
    assert cli.main([*base, "--fail-under", "50"]) == 1
    assert "coverage of the district 33.3 % is below --fail-under 50 %" in capsys.readouterr().err
