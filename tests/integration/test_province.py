"""A small province through the real path: one inventory per district, one PostgreSQL store, a roll-up.

Three districts of ``agentroll.sim.province`` (their first two units each, 24 PCs a district) on one
simulated fleet; each district's team runs its dry run (preflight.yml) at the same time, into the
same store. ``agentroll report`` with one ``-i`` per district then gives each district's figures and
the province's total, the same figures as each district's own report.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentroll.sim.province import build_province, fleet_document, write_province
from agentroll.sim.testing import PROJECT_ROOT, ansible_env, run_ansible, running_fleet
from agentroll.store import open_store
from agentroll.store.scratch import ScratchPostgres

pytestmark = [pytest.mark.integration, pytest.mark.slow]

AGENTROLL = str(PROJECT_ROOT / ".venv" / "bin" / "agentroll")
DISTRICTS = build_province(districts=3, units=2)


def _agentroll(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [AGENTROLL, *args, "--state", url],
        env=ansible_env(PROJECT_ROOT),
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory, postgres: ScratchPostgres) -> Iterator[dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("province")
    url = postgres.fresh_store("province")
    runs: dict[str, subprocess.CompletedProcess[str]] = {}
    with running_fleet(fleet_document(DISTRICTS), transport="ntlm") as handle:
        inventories = write_province(workdir, DISTRICTS, handle.inventory_vars(), handle.address_of)

        def dry_run(inventory: Path) -> None:
            env = {
                "AGENTROLL_STATE": url,
                "AGENTROLL_OPERATOR": f"IT {inventory.name}",
                "AGENTROLL_REPORT_DIR": str(workdir / f"reports-{inventory.name}"),
            }
            runs[inventory.name] = run_ansible(
                ["ansible-playbook", "playbooks/preflight.yml"], inventory=inventory, env=env
            )

        threads = [threading.Thread(target=dry_run, args=(inventory,)) for inventory in inventories]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    sources = [str(inventory) for inventory in inventories]
    yield {
        "url": url,
        "runs": runs,
        "inventories": inventories,
        "rollup": _agentroll("report", *(f"-i{source}" for source in sources), "--format", "json", url=url),
        "table": _agentroll("report", *(f"-i{source}" for source in sources), url=url),
        "districts": [_agentroll("report", "-i", source, "--format", "json", url=url) for source in sources],
    }


def test_every_district_dry_run_succeeds_into_the_one_store(province: dict[str, Any]) -> None:
    assert set(province["runs"]) == {district.slug for district in DISTRICTS}
    for done in province["runs"].values():
        # A dry run ends 0 unless a PC is unreachable (4); the switched-off demo PCs make it 4.
        assert done.returncode in (0, 4), (done.stdout + done.stderr)[-3000:]
        assert "agentroll coverage:" not in done.stdout + done.stderr, "no callback warning"
    with open_store(province["url"], readonly=True) as store:
        runs = store.runs()
        views = store.views()
    assert sorted(run.operator for run in runs) == sorted(f"IT {district.slug}" for district in DISTRICTS)
    assert set(views) == {host.name for district in DISTRICTS for host in district.hosts}


def test_the_rollup_gives_each_districts_own_figures_and_the_province_total(province: dict[str, Any]) -> None:
    assert province["rollup"].returncode == 0, province["rollup"].stderr
    rollup = json.loads(province["rollup"].stdout)
    own = []
    for done in province["districts"]:
        assert done.returncode == 0, done.stderr
        own.append(json.loads(done.stdout))

    assert [part["district"] for part in rollup["districts"]] == [district.name for district in DISTRICTS]
    assert [part["totals"] for part in rollup["districts"]] == [report["totals"] for report in own]
    totals = rollup["totals"]
    assert totals["hosts"] == sum(len(district.hosts) for district in DISTRICTS) == 72
    for key in ("licenses", "installed", "eligible", "unknown", "remaining"):
        assert totals[key] == sum(report["totals"][key] for report in own), key
    assert sum(totals["states"].values()) == 72 and totals["states"]["unknown"] == 0
    # Every unit, host and move is there once, marked with its district.
    assert [(unit["district"], unit["code"]) for unit in rollup["units"]] == [
        (district.name, code) for district in DISTRICTS for code in ("VP", "NV")
    ]
    assert {host["host"]: host["district"] for host in rollup["hosts"]} == {
        host.name: district.name for district in DISTRICTS for host in district.hosts
    }
    assert rollup["stragglers"] == sorted(host for report in own for host in report["stragglers"])


def test_the_rollup_table_has_a_line_per_district_and_the_total(province: dict[str, Any]) -> None:
    done = province["table"]
    assert done.returncode == 0, done.stderr
    rollup = json.loads(province["rollup"].stdout)
    lines = {line.split("  ")[0].strip(): line.split() for line in done.stdout.splitlines()[2:]}
    assert list(lines) == [district.name for district in DISTRICTS] + ["total"]
    total = rollup["totals"]
    assert lines["total"][1:5] == [
        str(total["licenses"]),
        str(total["hosts"]),
        str(total["installed"]),
        f"{total['coverage_pct']:.1f}",
    ]
