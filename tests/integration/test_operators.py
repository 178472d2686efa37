"""Two operators run site.yml at once on different units of one district into one PostgreSQL store.

Each operator has their own ``AGENTROLL_OPERATOR`` and report folder and limits the run to their unit
(``--limit snv`` / ``--limit yte``). Nothing is lost (every PC's latest observations are there, from
the run of the operator who ran its unit), both runs are recorded with their operator, and the
district report is the one the same two runs leave when made one after the other on an identical
fleet.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentroll.inventory import load_inventory
from agentroll.report import report_from_store
from agentroll.sim.testing import run_ansible, running_fleet
from agentroll.store import open_store
from agentroll.store.scratch import ScratchPostgres
from tests.integration.support import INSTALL_ARGUMENTS, Pc, fleet_spec, write_inventory

pytestmark = [pytest.mark.integration, pytest.mark.slow]

UNITS = {
    "snv": {"code": "SNV", "name": "Phòng Nội vụ", "licenses": 3},
    "yte": {"code": "YTE", "name": "Trung tâm Y tế huyện", "licenses": 1},
}
PCS = [
    Pc("snv-01", "snv", {"computer_name": "mayphuong"}, {"agentroll_owner": "Nguyễn Thị Phương"}),
    Pc("snv-02", "snv", {"computer_name": "DESKTOP-7F3K2LQ"}),
    Pc("snv-03", "snv", {"computer_name": "SNV-PC02", "ram_mb": 1024}),
    Pc("yte-01", "yte", {"computer_name": "YTE-PC01"}),
    Pc("yte-02", "yte", {"computer_name": "KETOAN"}),
]
PROFILE = {"agentroll_agent_install_arguments": INSTALL_ARGUMENTS, "agentroll_reboot_delay": 0}
#: Who runs which unit.
OPERATORS = {"snv": "Trần Văn An (phòng Nội vụ)", "yte": "Lê Thị Bình (Trung tâm Y tế)"}


def _site(inventory: Path, url: str, unit: str, reports: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "AGENTROLL_STATE": url,
        "AGENTROLL_OPERATOR": OPERATORS[unit],
        "AGENTROLL_REPORT_DIR": str(reports),
    }
    return run_ansible(
        ["ansible-playbook", "playbooks/site.yml", "--limit", unit], inventory=inventory, env=env
    )


def _district(
    workdir: Path, url: str, *, at_once: bool
) -> tuple[list[subprocess.CompletedProcess[str]], Path]:
    """Both operators' runs on a fresh fleet, at once or one after the other (the units' order)."""
    done: dict[str, subprocess.CompletedProcess[str]] = {}
    with running_fleet(fleet_spec(PCS), transport="basic") as handle:
        inventory = write_inventory(handle, workdir / "inventory", PCS, UNITS, extra_vars=PROFILE)

        def run(unit: str) -> None:
            done[unit] = _site(inventory, url, unit, workdir / f"reports-{unit}")

        if at_once:
            threads = [threading.Thread(target=run, args=(unit,)) for unit in OPERATORS]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        else:
            for unit in OPERATORS:
                run(unit)
    return [done[unit] for unit in OPERATORS], inventory


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory, postgres: ScratchPostgres) -> Iterator[dict[str, Any]]:
    result: dict[str, Any] = {}
    for label, at_once in (("at_once", True), ("sequential", False)):
        url = postgres.fresh_store(label)
        runs, inventory = _district(tmp_path_factory.mktemp(label), url, at_once=at_once)
        with open_store(url, readonly=True) as store:
            report = report_from_store(load_inventory(inventory), store)
            result[label] = {
                "runs": runs,
                "report": report,
                "store_runs": store.runs(),
                "views": store.views(),
            }
    yield result


def _decided(report: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    return {
        host["host"]: (host["state"], host["standard_name"], host["computer_name"], host["license"])
        for host in report["hosts"]
    }


def test_both_runs_succeed(district: dict[str, Any]) -> None:
    for done in district["at_once"]["runs"]:
        assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
        assert "agentroll coverage:" not in done.stdout + done.stderr, "no callback warning"


def test_each_run_is_recorded_with_its_operator(district: dict[str, Any]) -> None:
    runs = district["at_once"]["store_runs"]
    assert sorted((run.operator, run.limit, run.status) for run in runs) == sorted(
        (operator, unit, "ok") for unit, operator in OPERATORS.items()
    )
    assert all(run.finished_at is not None for run in runs)
    first, second = runs
    assert second.started_at < first.finished_at, "the two runs overlapped"


def test_nothing_is_lost_every_pc_carries_its_operators_run(district: dict[str, Any]) -> None:
    at_once = district["at_once"]
    operator_of_run = {run.id: run.operator for run in at_once["store_runs"]}
    views = at_once["views"]
    assert set(views) == {pc.name for pc in PCS}
    assert {name: operator_of_run[view.last_run_id] for name, view in views.items()} == {
        pc.name: OPERATORS[pc.unit] for pc in PCS
    }


def test_the_report_is_the_one_sequential_runs_leave(district: dict[str, Any]) -> None:
    at_once, sequential = district["at_once"]["report"], district["sequential"]["report"]
    assert _decided(at_once) == _decided(sequential)
    assert {host: decision[0] for host, decision in _decided(at_once).items()} == {
        "snv-01": "compliant",
        "snv-02": "compliant",
        "snv-03": "ineligible",
        "yte-01": "compliant",
        "yte-02": "not_installed",
    }
    assert at_once["totals"] == sequential["totals"]
    assert at_once["units"] == sequential["units"]
    assert at_once["reallocation"] == sequential["reallocation"]
    assert at_once["stragglers"] == sequential["stragglers"]
