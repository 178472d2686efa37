"""A run ended by Ctrl-C, SIGTERM or SIGKILL while "Install the agent package" runs loses no result.

Five fresh PCs, the real ansible-playbook (deploy.yml) over WinRM. Once every PC is probed and
planned, two of them turn slow (each command takes seconds), so their installs are still running
when the fast PCs' results have been printed; then the signal lands. Afterwards:

- every install whose result the controller printed is in the store;
- the slow PCs, whose results never arrived, read "interrupted during install; the next run
  checks" and are stragglers (never a silent not_installed);
- Ctrl-C and SIGTERM mark the run interrupted; after SIGKILL Ansible's workers live on and finish
  the installs the controller will never hear of, which is why the next run checks;
- a rerun converges.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from agentroll.inventory import load_inventory
from agentroll.report import report_from_store
from agentroll.sim.testing import PROJECT_ROOT, VENV_BIN, ansible_env, running_fleet
from agentroll.store import Store
from tests.integration.support import District, Pc, fleet_spec, write_inventory

pytestmark = [pytest.mark.integration, pytest.mark.slow]

UNITS = {"vp": {"code": "VP", "name": "Văn phòng HĐND và UBND huyện", "licenses": 5}}
FAST = ("vp-01", "vp-02", "vp-03")
SLOW = ("vp-04", "vp-05")
PCS = [Pc(name, "vp", {"computer_name": f"VP-PC{name[-2:]}"}) for name in (*FAST, *SLOW)]
#: Seconds each command of a slow PC takes: its install (file transfer + win_package) takes twice that.
SLOW_SECONDS = 6.0
INSTALL_TASK = "Install the agent package"
INTERRUPTED = "interrupted during install; the next run checks"
_BANNER = re.compile(r"^TASK \[(?:[\w.]+ : )?(?P<name>.*?)\] \**$")
_RESULT = re.compile(r"^(?P<status>ok|changed): \[(?P<host>[^\]]+)\]")


class Playbook:
    """ansible-playbook in its own process group (as a terminal runs it), its output read as it comes."""

    def __init__(self, district: District, playbook: str) -> None:
        command = [str(VENV_BIN / "ansible-playbook"), "-i", str(district.inventory), f"playbooks/{playbook}"]
        self.process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=ansible_env(PROJECT_ROOT, district.env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def printed(self, task: str) -> set[str]:
        """Hosts whose result of ``task`` the output shows (banners interleave: host_pinned strategy)."""
        hosts, current = set(), ""
        for line in list(self.lines):
            if banner := _BANNER.match(line):
                current = banner["name"]
            elif (result := _RESULT.match(line)) and current == task:
                hosts.add(result["host"])
        return hosts

    def wait(self, timeout: float) -> int:
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=10)
        return code

    @property
    def output(self) -> str:
        return "\n".join(self.lines)


def _until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _started_installs(district: District) -> set[str]:
    """PCs whose install start the store holds (read while the run writes: WAL allows it)."""
    if not district.state.exists():
        return set()
    with sqlite3.connect(district.state) as db:
        rows = db.execute("SELECT host, value_json FROM observations WHERE aspect = 'step'").fetchall()
    return {host for host, value in rows if json.loads(value) == {"step": "install", "status": "started"}}


def _finished_installs(district: District) -> set[str]:
    """PCs whose journal shows win_package done."""
    return {
        pc.name
        for pc in PCS
        if any(
            entry["module"] == "ansible.windows.win_package" and not entry["failed"]
            for entry in district.handle.journal(district.address(PCS, pc.name))
        )
    }


def _interrupt(district: District, how: str) -> dict[str, Any]:
    """Run deploy.yml, turn the slow PCs slow once planned, signal mid-install; what it left behind."""
    run = Playbook(district, "deploy.yml")
    _until(lambda: any("Compute the plan" in line for line in run.lines), 120, "the plan")
    for name in SLOW:
        district.handle.set_faults(district.address(PCS, name), slow_seconds=SLOW_SECONDS)
    _until(lambda: run.printed(INSTALL_TASK) >= set(FAST), 60, "the fast PCs' install results")
    _until(lambda: _started_installs(district) >= set(SLOW), 30, "the slow PCs' installs to start")
    signalled_at = time.monotonic()
    if how == "SIGINT":
        os.killpg(run.process.pid, signal.SIGINT)  # Ctrl-C: the whole foreground process group
        try:
            code = run.wait(timeout=4)
        except subprocess.TimeoutExpired:
            # ansible-core may swallow a SIGINT that lands while it forks a worker: press again.
            os.killpg(run.process.pid, signal.SIGINT)
            code = run.wait(timeout=60)
    elif how == "SIGTERM":
        run.process.send_signal(signal.SIGTERM)
        code = run.wait(timeout=60)
    else:
        # Nothing runs in a killed process. Ansible prints a result a moment (about a millisecond)
        # before the callback stores it; a kill typed after reading a line comes far later.
        time.sleep(0.5)
        run.process.send_signal(signal.SIGKILL)
        code = run.wait(timeout=60)
    left = {
        "how": how,
        "code": code,
        "seconds_to_stop": time.monotonic() - signalled_at,
        "printed": run.printed(INSTALL_TASK),
        "finished_at_stop": _finished_installs(district),
        "output": run.output,
    }
    if how == "SIGKILL":
        # The workers outlive their parent and finish the slow installs nobody will hear of.
        _until(lambda: _finished_installs(district) >= set(SLOW), 60, "the orphaned workers")
    left["finished"] = _finished_installs(district)
    with Store(district.state) as store:
        left["report"] = report_from_store(load_inventory(district.inventory), store)
        left["runs"] = store.runs()
        left["views"] = store.views()
    for name in SLOW:
        district.handle.set_faults(district.address(PCS, name), slow_seconds=0.0)
    left["rerun"] = district.play("deploy.yml")
    return left


@pytest.fixture(scope="module", params=["SIGINT", "SIGTERM", "SIGKILL"])
def interrupted(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    workdir = tmp_path_factory.mktemp(f"interrupted-{request.param}")
    with running_fleet(fleet_spec(PCS), transport="basic") as handle:
        district = District(handle, write_inventory(handle, workdir / "inventory", PCS, UNITS), workdir)
        yield _interrupt(district, request.param)


def _installed_in_store(left: dict[str, Any]) -> set[str]:
    return {host for host, view in left["views"].items() if (view.value("agent") or {}).get("installed")}


def test_the_signal_landed_mid_install(interrupted: dict[str, Any]) -> None:
    assert interrupted["printed"] == set(FAST), interrupted["output"][-3000:]
    assert interrupted["finished_at_stop"] & set(SLOW) == set(), interrupted["output"][-3000:]


def test_every_printed_install_is_in_the_store(interrupted: dict[str, Any]) -> None:
    printed_and_done = interrupted["printed"] & interrupted["finished"]
    assert printed_and_done == set(FAST)
    assert printed_and_done <= _installed_in_store(interrupted)


def test_pcs_in_mid_install_say_so_and_are_stragglers(interrupted: dict[str, Any]) -> None:
    report = interrupted["report"]
    for name in SLOW:
        entry = next(e for e in report["hosts"] if e["host"] == name)
        assert (entry["state"], entry["reasons"]) == ("failed", [INTERRUPTED]), entry
    # The fast PCs count as installed; their services may not have been looked at yet.
    assert set(report["stragglers"]) >= set(SLOW)
    assert report["totals"]["installed"] == len(FAST)


def test_every_signal_leaves_the_run_marked_interrupted(interrupted: dict[str, Any]) -> None:
    last = interrupted["runs"][-1]
    if interrupted["how"] == "SIGKILL":
        # Nothing runs in a killed process: the store sees its process gone and calls it interrupted.
        assert interrupted["code"] == -signal.SIGKILL
        assert last.status == "interrupted"
        return
    # Ctrl-C ends with Ansible's 99 ("User interrupted execution"), or, when ansible-core swallowed
    # it and the run seemed to hang, by the second Ctrl-C the README tells the operator to press.
    expected = {"SIGINT": {99, -signal.SIGINT}, "SIGTERM": {-signal.SIGTERM}}[interrupted["how"]]
    assert interrupted["code"] in expected, (interrupted["code"], interrupted["output"][-3000:])
    assert last.status == "interrupted"


def test_after_sigkill_the_workers_finish_what_the_controller_never_hears_of(
    interrupted: dict[str, Any],
) -> None:
    if interrupted["how"] != "SIGKILL":
        assert interrupted["finished"] == set(FAST)  # Ctrl-C and SIGTERM stop the workers too
        return
    assert interrupted["finished"] == set(FAST) | set(SLOW)
    assert _installed_in_store(interrupted) == set(FAST)


def test_a_rerun_converges(interrupted: dict[str, Any]) -> None:
    rerun = interrupted["rerun"]
    assert rerun.returncode == 0, rerun.output[-3000:]
    states = {entry["host"]: entry["state"] for entry in rerun.report["hosts"]}
    assert states == dict.fromkeys((*FAST, *SLOW), "compliant")
    assert rerun.report["stragglers"] == []
