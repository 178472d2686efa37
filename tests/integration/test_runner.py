"""agentroll.runner and ``agentroll rerun`` for real: ansible-runner, ansible-playbook, the simulated fleet.

A small district: four PCs, one switched off. preflight.yml runs through ``run_playbook``; then
``agentroll rerun`` (and its alias ``scripts/rerun-stragglers``) runs site.yml on the stragglers.
"""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from agentroll.runner import PlaybookRun, RunResult, Snapshot, run_playbook
from agentroll.sim.testing import FleetHandle, running_fleet
from tests.integration.support import WINRM_PASSWORD, Pc, fleet_spec, write_inventory

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
AGENTROLL = ROOT / ".venv" / "bin" / "agentroll"
PCS = [
    Pc("vp-01", "vp", {"computer_name": "VP-PC01"}),
    Pc("vp-02", "vp", {"computer_name": "mayphuong"}, {"agentroll_owner": "Nguyễn Thị Phương"}),
    Pc("vp-03", "vp", {"computer_name": "VP-PC03", "faults": {"refuse_connections": True}}),
    Pc("vp-04", "vp", {"computer_name": "VP-PC04", "ram_mb": 1024}),
]
UNITS = {"vp": {"code": "VP", "name": "Văn phòng UBND", "licenses": 4}}
PROFILE = {"agentroll_reboot_delay": 0}


@dataclass
class Small:
    """The running district, where its runs write, and the preflight's result."""

    handle: FleetHandle
    inventory: Path
    work: Path
    preflight: RunResult
    snapshots: list[Snapshot]

    @property
    def env(self) -> dict[str, str]:
        return {
            "AGENTROLL_STATE": str(self.work / "state.sqlite"),
            "AGENTROLL_REPORT_DIR": str(self.work / "reports"),
        }

    def agentroll(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(AGENTROLL), *args],
            cwd=ROOT,
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Small]:
    work = tmp_path_factory.mktemp("runner")
    with running_fleet(fleet_spec(PCS)) as handle:
        inventory = write_inventory(handle, work / "inventory", PCS, UNITS, extra_vars=PROFILE)
        snapshots: list[Snapshot] = []
        env = {"AGENTROLL_STATE": str(work / "state.sqlite"), "AGENTROLL_REPORT_DIR": str(work / "reports")}
        run = PlaybookRun("playbooks/preflight.yml", inventory, env=env, forks=4, hosts=len(PCS))
        result = run_playbook(run, log=work / "logs" / "preflight.log", on_progress=snapshots.append)
        yield Small(handle, inventory, work, result, snapshots)


def test_a_run_returns_its_status_exit_code_and_recap(small: Small) -> None:
    result = small.preflight
    assert (result.status, result.rc, result.completed) == ("failed", 4, True)
    assert result.stats["dark"] == {"vp-03": 1}
    assert set(result.stats["processed"]) == {"vp-01", "vp-02", "vp-03", "vp-04"}
    assert [str(step) for step in result.steps] == ["probe 4/4"]


def test_the_coverage_callback_records_the_run_beside_runners_display(small: Small) -> None:
    with sqlite3.connect(small.work / "state.sqlite") as db:
        runs = db.execute("SELECT playbook, status FROM runs").fetchall()
        hosts = {row[0] for row in db.execute("SELECT DISTINCT host FROM observations")}
    # The callback's own verdict: one PC unreachable makes the run "failed".
    assert [(Path(playbook).name, status) for playbook, status in runs] == [("preflight.yml", "failed")]
    assert hosts == {"vp-01", "vp-02", "vp-03", "vp-04"}
    assert (small.work / "reports" / "coverage.json").is_file()


def test_the_log_holds_ansible_playbooks_output_and_no_secret(small: Small) -> None:
    assert small.preflight.log == small.work / "logs" / "preflight.log"
    log = small.preflight.log.read_text(encoding="utf-8")
    assert "PLAY [Preflight (dry run)]" in log and "PLAY RECAP" in log
    assert "\r" not in log and "\x1b[" not in log
    assert WINRM_PASSWORD not in log


def test_progress_arrives_while_the_run_goes_on(small: Small) -> None:
    assert small.snapshots, "no progress snapshot during a run of several seconds"
    shown = {str(snapshot.current) for snapshot in small.snapshots if snapshot.current is not None}
    assert shown <= {f"probe {done}/4" for done in range(5)}


def test_the_private_data_directory_is_removed(small: Small) -> None:
    # ansible-runner's env/envvars of a run names the run's state database: this module's is unique.
    leftovers = Path(tempfile.gettempdir()).glob("agentroll-run-*")
    assert not [path for path in leftovers if str(small.work) in _envvars(path)]


def _envvars(path: Path) -> str:
    try:
        return (path / "env" / "envvars").read_text(encoding="utf-8")
    except OSError:
        return ""


def test_ctrl_c_stops_ansible_playbook_and_is_raised(small: Small) -> None:
    stopped: list[int] = []

    def interrupt(snapshot: Snapshot) -> None:
        if snapshot.current is not None:
            raise KeyboardInterrupt

    threads_before = threading.active_count()
    run = PlaybookRun("playbooks/verify.yml", small.inventory, env=small.env, forks=1, hosts=len(PCS))
    with pytest.raises(KeyboardInterrupt):
        run_playbook(
            run, on_progress=interrupt, on_event=lambda event: stopped.append(int(event.get("pid") or 0))
        )
    pid = next(pid for pid in stopped if pid)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert threading.active_count() == threads_before


def test_a_playbook_that_does_not_exist_is_a_failed_run_saying_so(small: Small) -> None:
    output = io.StringIO()
    result = run_playbook(PlaybookRun("playbooks/nothing.yml", small.inventory, env=small.env), echo=output)
    assert (result.completed, result.stats, result.steps) == (False, {}, ())
    assert result.rc not in (0, 2, 4)
    assert "nothing.yml" in output.getvalue() and "could not be found" in output.getvalue()


def test_agentroll_rerun_passes_extra_arguments_and_exits_1_while_stragglers_remain(small: Small) -> None:
    done = small.agentroll("rerun", "-i", str(small.inventory), "--rounds", "1", "--", "--list-hosts")
    assert done.returncode == 1, done.stderr[-3000:]
    assert done.stdout.split() == ["vp-01", "vp-02", "vp-03"]  # 2 without the agent yet, 1 switched off
    assert "agentroll rerun: round 1/1 on 3 straggler(s): vp-01, vp-02, vp-03" in done.stderr
    assert "hosts (3):" in done.stderr  # ansible-playbook --list-hosts, limited to the stragglers


def test_sigterm_to_agentroll_rerun_stops_its_ansible_playbook_too(small: Small) -> None:
    slow = small.handle.address_of("127.20.0.1")
    small.handle.set_faults(slow, slow_seconds=60)
    rerun = subprocess.Popen(
        [str(AGENTROLL), "rerun", "-i", str(small.inventory), "--rounds", "1"],
        cwd=ROOT,
        env={**os.environ, **small.env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert rerun.stderr is not None
        seen = ""
        while "TASK [" not in seen:  # ansible-playbook is under way
            line = rerun.stderr.readline()
            assert line, seen[-3000:]
            seen += line
        rerun.terminate()
        _, rest = rerun.communicate(timeout=60)
    finally:
        small.handle.set_faults(slow, slow_seconds=0)
        if rerun.poll() is None:
            rerun.kill()
    assert rerun.returncode == 143, (seen + rest)[-3000:]
    assert rest.endswith("agentroll: terminated\n")
    assert not _processes_naming(small.inventory)


def _processes_naming(path: Path) -> list[int]:
    """Processes whose command line names ``path`` (an ansible-playbook left behind would)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(path).encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_agentroll_rerun_converges_once_the_pc_is_back_and_its_alias_agrees(small: Small) -> None:
    small.handle.set_faults(small.handle.address_of("127.20.0.3"), refuse_connections=False)
    done = small.agentroll("rerun", "-i", str(small.inventory), "--rounds", "2", "--", "--forks", "4")
    assert (done.returncode, done.stdout) == (0, ""), done.stderr[-3000:]
    assert "agentroll rerun: no straggler left after 1 round(s)" in done.stderr
    alias = subprocess.run(
        [str(ROOT / "scripts" / "rerun-stragglers"), "-i", str(small.inventory)],
        cwd=ROOT,
        env={**os.environ, **small.env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert (alias.returncode, alias.stdout) == (0, ""), alias.stderr[-3000:]
    assert "no straggler left after 0 round(s)" in alias.stderr
