"""Two AWX job slices of one district, run at once into one PostgreSQL store, agree with one job.

AWX's sliced job template hands each slice every ``slice_count``-th PC as its inventory. Names and
license grants are district-wide decisions: each slice's plan reads the whole district inventory
(``AGENTROLL_INVENTORY``, a file of the project) and the other slice's PCs from the shared store, and
grants licenses by a rule that gives the same answer in every slice (PCs with the agent first, then
every PC not known to be ineligible, by host name). Four eligible PCs and three licenses in one unit:
three installs between the two slices, and the PCs without an owner are numbered across the unit,
not per slice. The district report is the one an unsliced job on an identical fleet leaves, and the
store holds one run per slice, each with its AWX job as operator.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ansible_runner
import pytest
import yaml

from agentroll.inventory import load_inventory
from agentroll.report import report_from_store
from agentroll.sim.testing import run_ansible, running_fleet
from agentroll.store import open_store
from agentroll.store.scratch import ScratchPostgres
from tests.awx.support import (
    awx_inventory_script,
    job_arguments,
    job_directory,
    job_environment,
    plain_copy,
    project_sync,
)
from tests.integration.support import INSTALL_ARGUMENTS, WINRM_PASSWORD, Pc, fleet_spec, write_inventory

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    # runner's pexpect forks ansible-playbook from this process, where the simulated fleet's server
    # threads run; the child only execs, so Python's generic warning about forkpty does not apply.
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded, use of forkpty:DeprecationWarning"),
]

UNITS = {
    "vp": {"code": "VP", "name": "Văn phòng HĐND và UBND huyện", "licenses": 3},
    "tckh": {"code": "TCKH", "name": "Phòng Tài chính - Kế hoạch", "licenses": 2},
}
# Sliced by host name: slice 1 gets tckh-01, vp-01, vp-03; slice 2 tckh-02, vp-02, vp-04.
PCS = [
    Pc("tckh-01", "tckh", {"computer_name": "KETOAN-01"}, {"agentroll_owner": "Lê Thị Hoa"}),
    Pc("tckh-02", "tckh", {"computer_name": "TCKH-PC02", "ram_mb": 1024}),
    Pc("vp-01", "vp", {"computer_name": "DESKTOP-1A"}),
    Pc("vp-02", "vp", {"computer_name": "DESKTOP-2B"}),
    Pc("vp-03", "vp", {"computer_name": "mayphuong"}, {"agentroll_owner": "Nguyễn Thị Phương"}),
    Pc("vp-04", "vp", {"computer_name": "DESKTOP-4D"}),
]
PROFILE = {"agentroll_agent_install_arguments": INSTALL_ARGUMENTS, "agentroll_reboot_delay": 0}
CREDENTIAL_VARS = ("ansible_user", "ansible_password")
#: Where the job's project keeps the district inventory (AWX sources the job's inventory from it).
PROJECT_INVENTORY = "inventory/district/hosts.yml"
SLICE_JOBS = {1: "4801", 2: "4802"}
UNSLICED_JOB = "4800"

Job = tuple[threading.Thread, Any, list[dict[str, Any]]]


def _project_inventory(inventory: Path, private: Path) -> Path:
    """The district inventory as the project holds it: no credentials (AWX's machine credential
    gives them)."""
    data = yaml.safe_load(inventory.read_text(encoding="utf-8"))
    for variable in CREDENTIAL_VARS:
        data["all"]["vars"].pop(variable, None)
    target = private / "project" / PROJECT_INVENTORY
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return target


def _start_job(
    workdir: Path,
    project: Path,
    collections: Path,
    inventory: Path,
    *,
    ident: str,
    url: str,
    slice_number: int = 1,
    slice_count: int = 1,
) -> Job:
    """Start site.yml as the AWX job ``ident`` (one slice of the district) without waiting for it."""
    private = job_directory(workdir / f"job-{ident}", project, collections)
    _project_inventory(inventory, private)
    script = awx_inventory_script(
        inventory,
        private / "inventory" / "hosts",
        drop_vars=CREDENTIAL_VARS,
        slice_number=slice_number,
        slice_count=slice_count,
    )
    envvars = {"AGENTROLL_STATE": url}
    if slice_count > 1:
        envvars["AGENTROLL_INVENTORY"] = PROJECT_INVENTORY
    events: list[dict[str, Any]] = []
    thread, runner = ansible_runner.run_async(
        **job_arguments(
            private,
            ident=ident,
            playbook="playbooks/site.yml",
            inventory=script,
            username=fleet_spec(PCS)["credentials"]["username"],
            password=WINRM_PASSWORD,
            envvars=envvars,
            events=events,
        )
    )
    return thread, runner, events


def _finished(job: Job) -> dict[str, Any]:
    thread, runner, events = job
    thread.join(timeout=600)
    played = {event["event_data"]["host"] for event in events if event.get("event") == "runner_on_ok"}
    return {"status": runner.status, "rc": runner.rc, "stdout": runner.stdout.read(), "hosts": played}


@pytest.fixture(scope="module")
def slices(tmp_path_factory: pytest.TempPathFactory, postgres: ScratchPostgres) -> Iterator[dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("awx-slices")
    project = plain_copy(workdir / "project")
    collections = workdir / "requirements_collections"
    sync = project_sync(project, collections)
    assert sync.returncode == 0, sync.stdout + sync.stderr
    result: dict[str, Any] = {"unsliced_url": postgres.fresh_store("unsliced")}
    result["sliced_url"] = postgres.fresh_store("sliced")

    with job_environment():
        with running_fleet(fleet_spec(PCS), transport="ntlm") as handle:
            inventory = write_inventory(handle, workdir / "unsliced", PCS, UNITS, extra_vars=PROFILE)
            job = _start_job(
                workdir, project, collections, inventory, ident=UNSLICED_JOB, url=result["unsliced_url"]
            )
            result["unsliced"] = _finished(job)
        with running_fleet(fleet_spec(PCS), transport="ntlm") as handle:
            inventory = write_inventory(handle, workdir / "sliced", PCS, UNITS, extra_vars=PROFILE)
            started = [
                _start_job(
                    workdir,
                    project,
                    collections,
                    inventory,
                    ident=ident,
                    url=result["sliced_url"],
                    slice_number=number,
                    slice_count=len(SLICE_JOBS),
                )
                for number, ident in SLICE_JOBS.items()
            ]
            result["slices"] = [_finished(job) for job in started]
    result["inventory"] = load_inventory(inventory)
    yield result


def _report(url: str, slices: dict[str, Any]) -> dict[str, Any]:
    with open_store(url, readonly=True) as store:
        return report_from_store(slices["inventory"], store)


def test_each_slice_runs_only_its_share_of_the_district(slices: dict[str, Any]) -> None:
    unsliced = slices["unsliced"]
    assert (unsliced["status"], unsliced["rc"]) == ("successful", 0), unsliced["stdout"][-3000:]
    shares = []
    for job in slices["slices"]:
        assert (job["status"], job["rc"]) == ("successful", 0), job["stdout"][-3000:]
        shares.append(job["hosts"])
    assert shares == [{"tckh-01", "vp-01", "vp-03"}, {"tckh-02", "vp-02", "vp-04"}]


def test_the_sliced_district_report_is_the_unsliced_one(slices: dict[str, Any]) -> None:
    sliced, unsliced = _report(slices["sliced_url"], slices), _report(slices["unsliced_url"], slices)

    def decided(report: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
        return {
            host["host"]: (host["state"], host["standard_name"], host["license"], host["computer_name"])
            for host in report["hosts"]
        }

    assert decided(sliced) == decided(unsliced)
    # Which PCs are renamed is the rename scope's business; the names and grants are the district's.
    assert {host: decision[:3] for host, decision in decided(sliced).items()} == {
        "tckh-01": ("compliant", "TCKH-HOALT", "granted"),
        "tckh-02": ("ineligible", "TCKH-PC01", None),
        "vp-01": ("compliant", "VP-PC01", "granted"),
        "vp-02": ("compliant", "VP-PC02", "granted"),
        "vp-03": ("compliant", "VP-PHUONGNT", "granted"),
        "vp-04": ("not_installed", "VP-PC03", "waiting"),
    }
    assert sliced["totals"] == unsliced["totals"]
    assert sliced["totals"]["installed"] == 4 and sliced["totals"]["licenses"] == 5
    assert sliced["units"] == unsliced["units"]
    assert sliced["reallocation"] == unsliced["reallocation"]


def test_the_store_holds_one_run_per_slice_with_its_job_as_operator(slices: dict[str, Any]) -> None:
    with open_store(slices["sliced_url"], readonly=True) as store:
        runs = store.runs()
    assert sorted((run.operator, run.playbook, run.status) for run in runs) == [
        (f"AWX job {ident}", "site.yml", "ok") for ident in SLICE_JOBS.values()
    ]
    assert all(run.finished_at is not None for run in runs)


PLAN_PLAY = """\
- name: The plan alone
  hosts: all
  gather_facts: false
  tasks:
    - name: Plan
      agentroll.toolkit.plan:
        probes: {}
        requirements:
          os: {windows10: 17763}
          architectures: [x64]
          min_ram_mb: 2048
          min_system_free_mb: 2048
          min_powershell: "5.1"
      run_once: true
"""


@pytest.mark.parametrize(
    ("district_inventory", "message"),
    [
        (None, "no inventory file or directory among this run's sources: set AGENTROLL_INVENTORY"),
        ("missing/hosts.yml", "inventory 'missing/hosts.yml' does not exist"),
    ],
)
def test_the_plan_says_in_one_line_which_district_inventory_it_lacks(
    tmp_path: Path, district_inventory: str | None, message: str
) -> None:
    playbook = tmp_path / "plan.yml"
    playbook.write_text(PLAN_PLAY, encoding="utf-8")
    env = {"AGENTROLL_STATE": str(tmp_path / "state.sqlite")}
    if district_inventory is not None:
        env["AGENTROLL_INVENTORY"] = district_inventory
    done = run_ansible(["ansible-playbook", str(playbook), "-c", "local"], inventory="localhost,", env=env)
    assert done.returncode == 2, done.stdout[-3000:]
    assert f'"msg": "{message}"' in done.stdout, done.stdout[-3000:]
