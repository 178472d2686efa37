"""The sample agent never reaches a real PC: an imported inventory's agent profile stops every run
until it is filled in, and the sample installer is refused for any PC whose probe does not say it
is simulated. The real ansible-playbook against the simulated fleet."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from agentroll.roster import import_roster
from agentroll.sim.testing import running_fleet
from tests.integration.support import District, Pc, fleet_spec, write_inventory

pytestmark = [pytest.mark.integration]

UNITS = {"xa": {"code": "XA", "name": "UBND xã Đăk Long", "licenses": 3}}
PCS = [
    # Answers the probe as a real PC does (no `simulated` marker).
    Pc("xa-01", "xa", {"computer_name": "XA-PC01", "faults": {"poses_as_real": True}}),
    Pc("xa-02", "xa", {"computer_name": "XA-PC02"}),
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("agent-profile")
    results: dict[str, Any] = {}
    with running_fleet(fleet_spec(PCS), transport="basic") as handle:
        # A district imported from its roster, nothing filled in yet.
        roster = workdir / "roster"
        roster.mkdir()
        (roster / "units.csv").write_text("code,name,licenses\nXA,UBND xã Đăk Long,3\n", encoding="utf-8")
        rows = "".join(f"XA,{address},,,xa-0{n}\n" for n, address in enumerate(handle.addresses, start=1))
        (roster / "pcs.csv").write_text("unit,address,owner,mac,hostname\n" + rows, encoding="utf-8")
        imported = workdir / "imported"
        import_roster(roster / "units.csv", roster / "pcs.csv", imported)
        district = District(handle, imported, workdir / "imported-run")
        marks = district.journal_marks()
        results["imported"] = district.play("preflight.yml")
        results["imported_journal"] = [handle.journal(a)[marks[a] :] for a in handle.addresses]

        inventory = write_inventory(handle, workdir / "sample", PCS, UNITS, {"agentroll_reboot_delay": 0})
        district = District(handle, inventory, workdir / "sample-run")
        marks = district.journal_marks()
        results["real"] = district.play("site.yml")
        results["real_mutations"] = district.mutations_since(marks)
        results["simulated"] = district.play("site.yml", "--limit", "xa-02")
    yield results


def test_an_imported_profile_stops_every_run_until_it_is_filled_in(runs: dict[str, Any]) -> None:
    run = runs["imported"]
    assert run.returncode != 0
    assert (
        "agent profile: fill in agentroll_agent_display_name, agentroll_agent_installer, "
        "agentroll_agent_installer_sha256, agentroll_agent_product_id, agentroll_agent_service_name, "
        "agentroll_agent_server in the inventory's group_vars/all/agent.yml (they still say CHANGE-ME)"
    ) in run.output
    assert runs["imported_journal"] == [[], []]


def test_the_sample_agent_is_refused_for_a_pc_that_is_not_simulated(runs: dict[str, Any]) -> None:
    run = runs["real"]
    assert run.returncode != 0
    assert (
        "the agent profile names the toolkit's sample simulated agent (SHA-256 "
        "844308a6482e6071eb8196b5ebcf371b284981bfad39ed53ea257e7733506db1), and 1 PC(s) to install are not "
        "simulated (xa-01): fill in the district's agent profile"
    ) in " ".join(run.output.split())
    assert runs["real_mutations"] == []


def test_the_sample_agent_installs_on_a_simulated_pc(runs: dict[str, Any]) -> None:
    run = runs["simulated"]
    assert run.returncode == 0, run.output[-3000:]
    assert run.host("xa-02")["state"] == "compliant"
