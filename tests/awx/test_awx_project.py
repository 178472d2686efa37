"""The repository as an AWX project, run by ansible-runner as AWX runs a job, on a simulated district.

Project sync: ``ansible-galaxy collection install -r collections/requirements.yml`` in a plain copy
of the project (no .venv, no bootstrap) resolves agentroll.toolkit from the project itself. A
Galaxy user then runs a playbook by its FQCN from anywhere with only that collections path.

The job: a private data directory laid out as AWX lays it out (``project/``, the inventory as an
executable script, ``requirements_collections/`` from the sync), the machine credential given as
AWX gives it (``-u`` and ``--ask-pass`` answered through runner's expect passwords, never written to
a file), runner's ``awx_display`` stdout callback with the project's ``ansible.cfg`` enabling the
coverage callback beside it. The event stream arrives, the store and the report are written, and
neither the WinRM password nor the agent's registration key shows up in the events, the artifacts,
the store or the reports.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ansible_runner
import pytest

from agentroll.sim.testing import running_fleet
from agentroll.store import Store
from tests.awx.support import (
    GALAXY,
    awx_inventory_script,
    installed_version,
    job_arguments,
    job_directory,
    job_environment,
    plain_copy,
    project_sync,
    run,
    tool,
)
from tests.integration.support import (
    INSTALL_ARGUMENTS,
    REGISTRATION_KEY,
    WINRM_PASSWORD,
    Pc,
    files_text,
    fleet_spec,
    write_inventory,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    # runner's pexpect forks ansible-playbook from this process, where the simulated fleet's server
    # threads run; the child only execs, so Python's generic warning about forkpty does not apply.
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded, use of forkpty:DeprecationWarning"),
]

UNITS = {"vp": {"code": "VP", "name": "Văn phòng HĐND và UBND huyện", "licenses": 2}}
PCS = [
    Pc("vp-01", "vp", {"computer_name": "mayphuong"}, {"agentroll_owner": "Nguyễn Thị Phương"}),
    Pc("vp-02", "vp", {"computer_name": "VP-PC02", "ram_mb": 1024}),
]
PROFILE = {"agentroll_agent_install_arguments": INSTALL_ARGUMENTS, "agentroll_reboot_delay": 0}
JOB_ID = "4711"
SECRETS = (WINRM_PASSWORD, REGISTRATION_KEY, INSTALL_ARGUMENTS)


@pytest.fixture(scope="module")
def awx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("awx")
    project = plain_copy(workdir / "project")
    collections = workdir / "requirements_collections"
    result: dict[str, Any] = {"workdir": workdir, "collections": collections}
    result["sync"] = project_sync(project, collections)
    assert result["sync"].returncode == 0, result["sync"].stdout + result["sync"].stderr

    with running_fleet(fleet_spec(PCS), transport="ntlm") as handle:
        inventory = write_inventory(handle, workdir / "district", PCS, UNITS, extra_vars=PROFILE)
        elsewhere = workdir / "elsewhere"
        elsewhere.mkdir()
        result["fqcn"] = run(
            [tool("ansible-playbook"), "-i", str(inventory), "agentroll.toolkit.preflight"],
            cwd=elsewhere,
            env={
                "ANSIBLE_COLLECTIONS_PATH": str(collections),
                "ANSIBLE_CALLBACKS_ENABLED": "agentroll.toolkit.coverage",
                "AGENTROLL_STATE": str(workdir / "fqcn.sqlite"),
                "AGENTROLL_REPORT_DIR": str(workdir / "fqcn-reports"),
            },
        )
        result["fqcn_report"] = _read_json(workdir / "fqcn-reports" / "coverage.json")
        result.update(_awx_job(workdir, project, collections, inventory))
    yield result


def _read_json(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _awx_job(workdir: Path, project: Path, collections: Path, inventory: Path) -> dict[str, Any]:
    """Run site.yml the way an AWX job does and return what it left behind."""
    private = job_directory(workdir / "job", project, collections)
    script = awx_inventory_script(
        inventory, private / "inventory" / "hosts", drop_vars=("ansible_user", "ansible_password")
    )
    state = workdir / "job.sqlite"
    events: list[dict[str, Any]] = []
    with job_environment():
        runner = ansible_runner.run(
            **job_arguments(
                private,
                ident=JOB_ID,
                playbook="playbooks/site.yml",
                inventory=script,
                username=fleet_spec(PCS)["credentials"]["username"],
                password=WINRM_PASSWORD,
                envvars={"AGENTROLL_STATE": str(state)},
                events=events,
            )
        )
    stdout = runner.stdout.read()
    return {
        "private": private,
        "state": state,
        "status": runner.status,
        "rc": runner.rc,
        "stats": runner.stats,
        "stdout": stdout,
        "events": events,
        "report": _read_json(private / "project" / "reports" / "coverage.json"),
        "command": json.loads((private / "artifacts" / JOB_ID / "command").read_text(encoding="utf-8")),
    }


def test_project_sync_installs_the_toolkit_from_the_project_itself(awx: dict[str, Any]) -> None:
    sync = awx["sync"]
    assert f"agentroll.toolkit:{GALAXY['version']} was installed successfully" in sync.stdout, sync.stdout
    assert installed_version(awx["collections"], "agentroll", "toolkit") == GALAXY["version"]
    installed = awx["collections"] / "ansible_collections" / "agentroll" / "toolkit"
    assert (installed / "plugins" / "callback" / "coverage.py").is_file()
    assert (installed / "roles" / "verify" / "tasks" / "main.yml").is_file()
    # Installed from the project as galaxy.yml's build_ignore shapes it.
    for absent in ("tests", "scripts", "Makefile", "inventory/demo", "collections"):
        assert not (installed / absent).exists(), absent


def test_a_playbook_runs_by_its_fqcn_with_only_the_synced_collections(awx: dict[str, Any]) -> None:
    done = awx["fqcn"]
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    report = awx["fqcn_report"]
    assert report is not None, done.stdout[-3000:]
    states = {entry["host"]: entry["state"] for entry in report["hosts"]}
    assert states == {"vp-01": "not_installed", "vp-02": "ineligible"}


def test_the_job_succeeds_with_the_event_stream_of_every_host(awx: dict[str, Any]) -> None:
    assert (awx["status"], awx["rc"]) == ("successful", 0), awx["stdout"][-3000:]
    events = awx["events"]
    playbook_events = [event["event"] for event in events if event["event"] != "verbose"]
    assert playbook_events[0] == "playbook_on_start"
    assert playbook_events[-1] == "playbook_on_stats"
    assert all(event["runner_ident"] == JOB_ID for event in events)
    ok_hosts = {event["event_data"]["host"] for event in events if event["event"] == "runner_on_ok"}
    assert {"vp-01", "vp-02"} <= ok_hosts
    assert awx["stats"]["failures"] == {} and awx["stats"]["dark"] == {}
    assert awx["command"]["env"]["ANSIBLE_STDOUT_CALLBACK"] == "awx_display"
    assert "--ask-pass" in awx["command"]["command"]


def test_the_coverage_callback_reports_beside_runners_display_callback(awx: dict[str, Any]) -> None:
    report = awx["report"]
    assert report is not None, awx["stdout"][-3000:]
    states = {entry["host"]: entry["state"] for entry in report["hosts"]}
    assert states == {"vp-01": "compliant", "vp-02": "ineligible"}
    assert report["totals"]["installed"] == 1 and report["totals"]["coverage_pct"] == 50.0
    # The table the callback prints is part of the job's output, as an event AWX shows.
    printed = "".join(event.get("stdout", "") for event in awx["events"] if event["event"] == "verbose")
    assert "agentroll: reports in" in printed and "Văn phòng HĐND và UBND huyện" in printed


def test_the_store_holds_the_job_as_one_finished_run(awx: dict[str, Any]) -> None:
    with Store(awx["state"]) as store:
        runs = store.runs()
    assert [(run.playbook, run.status) for run in runs] == [("site.yml", "ok")]
    assert runs[0].finished_at is not None


def test_no_secret_in_events_artifacts_store_or_reports(awx: dict[str, Any]) -> None:
    private: Path = awx["private"]
    places = {
        "events": json.dumps(awx["events"], ensure_ascii=False),
        "stdout": awx["stdout"],
        "artifacts": files_text([private / "artifacts"]),
        "store": files_text(sorted(awx["state"].parent.glob(f"{awx['state'].name}*"))),
        "reports": files_text([private / "project" / "reports"]),
    }
    for place, text in places.items():
        assert text, place
        for secret in SECRETS:
            assert secret not in text, f"{place} holds a secret"
