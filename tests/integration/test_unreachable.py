"""Why a PC could not be reached, as the report says it: refused, timed out, credentials rejected.

One small fleet over NTLM (message encryption), one preflight run. The time-out needs a listener
that accepts and never answers; the simulator has no such fault (``drop_connections`` hangs up,
which the report calls "connection dropped"), so the test holds such a socket itself.
"""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentroll.sim.testing import PROJECT_ROOT, ansible_env, running_fleet
from tests.integration.support import WINRM_PASSWORD, District, Pc, files_text, fleet_spec, write_inventory

pytestmark = [pytest.mark.integration]

QUICK_TIMEOUTS = {
    "ansible_winrm_connection_timeout": 3,
    "ansible_winrm_read_timeout_sec": 3,
    "ansible_winrm_operation_timeout_sec": 2,
}
UNITS = {"vp": {"code": "VP", "name": "Văn phòng HĐND và UBND huyện", "licenses": 5}}


@pytest.fixture(scope="module")
def preflight(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("unreachable")
    pcs = [
        Pc("vp-01", "vp", {"computer_name": "VP-PC01"}),
        Pc("vp-02", "vp", {"computer_name": "VP-PC02", "faults": {"refuse_connections": True}}),
        Pc("vp-03", "vp", {"computer_name": "VP-PC03"}, {"ansible_password": "not-the-password"}),
        Pc("vp-04", "vp", {"computer_name": "VP-PC04", "faults": {"drop_connections": True}}),
        Pc("vp-05", "vp", {"computer_name": "VP-PC05"}),
    ]
    with running_fleet(fleet_spec(pcs), transport="ntlm") as handle, socket.socket() as silent:
        silent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        silent_address = f"{handle.block}.0.250"
        silent.bind((silent_address, handle.server.port))
        silent.listen(8)  # the kernel completes the handshake; nobody ever answers
        pcs[4] = Pc("vp-05", "vp", pcs[4].fleet, {**QUICK_TIMEOUTS, "ansible_host": silent_address})
        inventory = write_inventory(handle, workdir / "inventory", pcs, UNITS)
        district = District(handle, inventory, workdir)
        run = district.play("preflight.yml")
        # The PC that refused connections is switched on; the operator reruns on the stragglers.
        handle.set_faults(handle.address_of("127.20.0.2"), refuse_connections=False)
        rerun = subprocess.run(
            [
                str(PROJECT_ROOT / "scripts" / "rerun-stragglers"),
                "-i",
                str(inventory),
                "--rounds",
                "1",
                "--limit-file",
                str(workdir / "limit.txt"),
            ],
            cwd=PROJECT_ROOT,
            env=ansible_env(PROJECT_ROOT, district.env),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        yield {"run": run, "district": district, "rerun": rerun}


def _entry(run: Any, host: str) -> dict[str, Any]:
    return run.host(host)


def test_each_unreachable_host_names_its_cause(preflight: dict[str, Any]) -> None:
    run = preflight["run"]
    assert _entry(run, "vp-01")["state"] == "not_installed", run.output[-3000:]
    expected = {
        "vp-02": "connection refused",
        "vp-03": "credentials rejected",
        "vp-04": "connection dropped",
        "vp-05": "timed out",
    }
    for host, cause in expected.items():
        entry = _entry(run, host)
        assert entry["state"] == "unreachable", entry
        assert cause in " ".join(entry["reasons"]), entry
    assert set(run.report["stragglers"]) >= set(expected)


def test_stragglers_file_lists_them_for_limit(preflight: dict[str, Any]) -> None:
    district: District = preflight["district"]
    # Written by the last run (the rerun): the three PCs still out of reach, one a line.
    lines = (district.reports / "stragglers.txt").read_text(encoding="utf-8").splitlines()
    assert sorted(lines) == ["vp-03", "vp-04", "vp-05"]


def test_wrong_and_right_passwords_stay_out_of_everything(preflight: dict[str, Any]) -> None:
    district: District = preflight["district"]
    rerun = preflight["rerun"]
    everything = preflight["run"].output + rerun.stdout + rerun.stderr
    everything += files_text([district.reports, district.state])
    assert WINRM_PASSWORD not in everything
    assert "not-the-password" not in everything


def test_inventory_path_is_what_the_report_covers(preflight: dict[str, Any]) -> None:
    district: District = preflight["district"]
    assert Path(district.inventory).exists()
    assert len(preflight["run"].report["hosts"]) == 5


def test_rerun_stragglers_script_reruns_and_reports_who_is_left(preflight: dict[str, Any]) -> None:
    rerun = preflight["rerun"]
    assert rerun.returncode == 1, rerun.stdout + rerun.stderr[-3000:]
    assert rerun.stdout.splitlines() == ["vp-03", "vp-04", "vp-05"]
    assert "round 1/1 on 5 straggler(s)" in rerun.stderr
    district: District = preflight["district"]
    report = json.loads((district.reports / "coverage.json").read_text(encoding="utf-8"))
    states = {entry["host"]: entry["state"] for entry in report["hosts"]}
    assert states["vp-02"] == "compliant" and states["vp-01"] == "compliant"
    assert len(states) == 5  # the report stays district-wide after the limited rerun
