"""What each playbook asks of each kind of PC, and what the coverage callback makes of it.

Four PCs (one fresh, one compliant, one below the requirements, one fresh whose agent service
cannot start), the real ansible-playbook over WinRM. The fleet's journal counts the module calls of
every run: a compliant PC costs site.yml one call (its preflight probe is its verification), a
fresh one four plus the reboot's own commands, and a fifth, the service, only where the last probe
found it stopped.
A play that adds somebody else's ``win_service`` task beside the toolkit's roles changes nothing
the store or the report says about the agent: only tasks marked with ``agentroll_step`` do.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentroll import demo_data
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
    Pc(
        "vp-stalled",
        "vp",
        {"computer_name": "MAYIN", "faults": {"service_wont_start": True}},
        {"agentroll_owner": "Nguyễn Thị Lan"},
    ),
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

    - name: Probe for another service than the agent profile's
      agentroll.toolkit.win_agentroll_probe:
        agent_service_name: Spooler
      register: spooler_probe
      when: inventory_hostname == 'vp-compliant'
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
    ("playbook", "fresh", "compliant", "small", "stalled"),
    [
        ("preflight", [PROBE], [PROBE], [PROBE], [PROBE]),
        # install (its file transfer is no module), the name, the reboot (plain commands, no
        # module), and the last probe; the installer started the service, so no win_service,
        # unless the last probe found it stopped
        (
            "site",
            [PROBE, "win_package", "win_hostname", PROBE],
            [PROBE],
            [PROBE],
            [PROBE, "win_package", "win_hostname", PROBE, "win_service"],
        ),
        ("verify", [PROBE], [PROBE], [PROBE], [PROBE]),
        # The service that would not start is tried again, after a probe of its own.
        ("site again", [PROBE], [PROBE], [PROBE], [PROBE, PROBE, "win_service"]),
    ],
)
def test_module_calls_per_pc(
    runs: dict[str, Any],
    playbook: str,
    fresh: list[str],
    compliant: list[str],
    small: list[str],
    stalled: list[str],
) -> None:
    calls = {"vp-fresh": fresh, "vp-compliant": compliant, "vp-small": small, "vp-stalled": stalled}
    assert runs[playbook]["calls"] == calls


def test_a_pc_whose_service_needs_nothing_leaves_site_yml_before_the_service_task(
    runs: dict[str, Any],
) -> None:
    """It ends its play in Ansible's main loop (meta end_host): no worker is forked to skip the task."""
    sections = re.split(r"\n(?=TASK \[|PLAY )", runs["site"]["run"].stdout)
    service = [
        text
        for text in sections
        if text.startswith("TASK [agentroll.toolkit.agent : Start the agent service")
    ]
    assert service and any("vp-stalled" in text for text in service)
    # Skipping the task would print this under its banner (other tasks' lines may interleave).
    assert not any("skipping: [vp-fresh]" in text for text in service)


def test_a_pc_whose_agent_waits_for_no_reboot_leaves_the_install_before_the_reboot_request(
    runs: dict[str, Any],
) -> None:
    """It leaves the install's import in Ansible's main loop (meta end_role): no worker skips the request."""
    output = runs["site"]["run"].stdout
    assert "TASK [agentroll.toolkit.agent : Install the agent package]" in output
    sections = re.split(r"\n(?=TASK \[|PLAY |RUNNING HANDLER )", output)
    request = [
        text for text in sections if text.startswith("TASK [agentroll.toolkit.agent : Ask for a reboot")
    ]
    # Skipping the task would print this under its banner (other tasks' lines may interleave).
    assert not any("skipping: [vp-fresh]" in text for text in request)


def test_site_makes_the_fresh_pc_compliant_and_a_second_run_changes_nothing(runs: dict[str, Any]) -> None:
    states = {entry["host"]: entry["state"] for entry in runs["site"]["run"].report["hosts"]}
    assert states == {
        "vp-fresh": "compliant",
        "vp-compliant": "compliant",
        "vp-small": "ineligible",
        "vp-stalled": "failed",
    }
    stalled = runs["site"]["run"].host("vp-stalled")
    assert stalled["causes"][0]["step"] == "service" and "cannot be started" in stalled["reasons"][0]
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
    # One agent observation per PC, the probe's: the spooler's "stopped" is nowhere (the agent's own
    # service on vp-stalled cannot start).
    assert sorted(host for host, _ in agents) == ["vp-compliant", "vp-fresh", "vp-small", "vp-stalled"]
    assert all('"stopped"' not in value for host, value in agents if host != "vp-stalled"), agents
    assert all("Spooler" not in value for _, value in agents), agents


def test_the_probe_takes_the_options_its_task_leaves_out_from_the_agent_profile(runs: dict[str, Any]) -> None:
    district: District = runs["district"]
    address = district.address(PCS, "vp-compliant")
    probes = [entry["args"] for entry in district.handle.journal(address) if entry["module"].endswith(PROBE)]
    profile = {
        "agent_product_id": demo_data.AGENT_PRODUCT_ID,
        "agent_service_name": demo_data.AGENT_SERVICE_NAME,
        "agent_server_timeout_ms": 2000,
    }
    assert all(probe.items() >= profile.items() for probe in probes[:-1]), probes[0]
    # The last one, the other tasks' own, names its service; the rest still comes from the profile.
    assert probes[-1]["agent_service_name"] == "Spooler"
    assert probes[-1]["agent_product_id"] == demo_data.AGENT_PRODUCT_ID


def test_another_tasks_failure_is_recorded_under_its_task_name(runs: dict[str, Any]) -> None:
    entry = runs["other tasks"]["run"].host("vp-small")
    assert entry["state"] == "failed"
    assert entry["reasons"][0].startswith("Start a service this PC does not have: "), entry
