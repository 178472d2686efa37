"""What each playbook asks of each kind of PC, and what the coverage callback makes of it.

Three PCs (one fresh, one compliant, one below the requirements), the real ansible-playbook over
WinRM. The fleet's journal counts the module calls of every run: a compliant PC costs site.yml one
call (its preflight probe is its verification), a fresh one five plus the reboot's own commands.
A play that adds somebody else's ``win_service`` task beside the toolkit's roles changes nothing
the store or the report says about the agent: only tasks marked with ``agentroll_step`` do.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentroll.sim.testing import running_fleet
from tests.integration.support import District, Pc, agent_software, fleet_spec, write_inventory

pytestmark = [pytest.mark.integration]

SPOOLER = {"name": "Spooler", "display_name": "Print Spooler", "state": "running", "start_mode": "auto"}
UNITS = {"vp": {"code": "VP", "name": "Văn phòng HĐND và UBND huyện", "licenses": 5}}
COMPLIANT = agent_software()
PCS = [
    Pc(
        "vp-fresh",
        "vp",
        {"computer_name": "MAYKETOAN", "services": [SPOOLER]},
        {"agentroll_owner": "Lê Văn Hải"},
    ),
    Pc(
        "vp-compliant",
        "vp",
        {"computer_name": "VP-THANGPV", **COMPLIANT, "services": [*COMPLIANT["services"], SPOOLER]},
        {"agentroll_owner": "Phạm Văn Thắng"},
    ),
    Pc("vp-small", "vp", {"computer_name": "VP-PC01", "ram_mb": 1024, "services": [SPOOLER]}),
]
PROBE = "win_agentroll_probe"
OTHER_TASKS = """\
- name: The toolkit's preflight beside tasks of somebody else's
  hosts: units
  gather_facts: false
  tasks:
    - name: Probe every PC and plan the run
      ansible.builtin.import_role:
        name: agentroll.toolkit.preflight
        rolespec_validate: false

    - name: Stop the print spooler (not the agent's service)
      ansible.windows.win_service:
        name: Spooler
        state: stopped
        start_mode: disabled

    - name: Start a service this PC does not have
      ansible.windows.win_service:
        name: NoSuchService
        state: started
      when: inventory_hostname == 'vp-small'
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("steps")
    spec = fleet_spec(PCS)
    results: dict[str, Any] = {}
    with running_fleet(spec, transport="basic") as handle:
        extra = {"agentroll_reboot_delay": 0}
        district = District(
            handle, write_inventory(handle, workdir / "inventory", PCS, UNITS, extra), workdir
        )
        other = workdir / "other-tasks.yml"
        other.write_text(OTHER_TASKS, encoding="utf-8")
        playbooks: list[tuple[str, str | Path]] = [
            ("preflight", "preflight.yml"),
            ("site", "site.yml"),
            ("verify", "verify.yml"),
            ("site again", "site.yml"),
            ("other tasks", other),
        ]
        for name, playbook in playbooks:
            marks = district.journal_marks()
            run = district.play(playbook)
            results[name] = {"run": run, "calls": district.module_calls_since(PCS, marks)}
        results["district"] = district
        yield results


@pytest.mark.parametrize(
    ("playbook", "fresh", "compliant", "small"),
    [
        ("preflight", [PROBE], [PROBE], [PROBE]),
        # install (its file transfer is no module), the service, the name, the reboot (plain
        # commands, no module), and the last probe
        ("site", [PROBE, "win_package", "win_service", "win_hostname", PROBE], [PROBE], [PROBE]),
        ("verify", [PROBE], [PROBE], [PROBE]),
        ("site again", [PROBE], [PROBE], [PROBE]),
    ],
)
def test_module_calls_per_pc(
    runs: dict[str, Any], playbook: str, fresh: list[str], compliant: list[str], small: list[str]
) -> None:
    assert runs[playbook]["calls"] == {"vp-fresh": fresh, "vp-compliant": compliant, "vp-small": small}


def test_site_makes_the_fresh_pc_compliant_and_a_second_run_changes_nothing(runs: dict[str, Any]) -> None:
    states = {entry["host"]: entry["state"] for entry in runs["site"]["run"].report["hosts"]}
    assert states == {"vp-fresh": "compliant", "vp-compliant": "compliant", "vp-small": "ineligible"}
    recap = runs["site again"]["run"].recap()
    assert {host: counts["changed"] for host, counts in recap.items()} == dict.fromkeys(states, 0)


def test_another_service_task_says_nothing_about_the_agent(runs: dict[str, Any]) -> None:
    run = runs["other tasks"]["run"]
    district: District = runs["district"]
    spooler = district.handle.fleet.host(district.address(PCS, "vp-compliant")).find_service("Spooler")
    assert spooler is not None and spooler.state == "stopped"  # the task did run
    states = {entry["host"]: entry["state"] for entry in run.report["hosts"]}
    assert states["vp-compliant"] == "compliant" and states["vp-fresh"] == "compliant"
    with sqlite3.connect(district.state) as db:
        last_run = db.execute("SELECT max(id) FROM runs").fetchone()[0]
        agents = db.execute(
            "SELECT host, value_json FROM observations WHERE run_id = ? AND aspect = 'agent' ORDER BY id",
            (last_run,),
        ).fetchall()
    # One agent observation per PC, the probe's: the spooler's "stopped" is nowhere.
    assert sorted(host for host, _ in agents) == ["vp-compliant", "vp-fresh", "vp-small"]
    assert all('"stopped"' not in value for _, value in agents), agents


def test_another_tasks_failure_is_recorded_under_its_task_name(runs: dict[str, Any]) -> None:
    entry = runs["other tasks"]["run"].host("vp-small")
    assert entry["state"] == "failed"
    assert entry["reasons"][0].startswith("Start a service this PC does not have: "), entry
