"""``agentroll demo`` as the operator runs it: the real command in a subprocess, its own state and reports.

The demo runs once for the module, on an empty state database named by AGENTROLL_STATE; a database
that already holds runs is refused before the fleet starts (so "before" is always this demo's own
dry run: 62/190 = 32.6 %).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docx
import jsonschema
import openpyxl
import pytest
import yaml

from agentroll.demo.settings import DISTRICT
from agentroll.demo.summary import REPORT_FILES
from agentroll.inventory import load_inventory
from agentroll.model import Aspect
from agentroll.report import SCHEMA_PATH
from agentroll.reports import BINARY_FORMATS, render
from agentroll.store import Store

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
AGENTROLL = ROOT / ".venv" / "bin" / "agentroll"
INVENTORY = ROOT / "inventory" / "demo"
DEMO_TIMEOUT = 20 * 60
INSTALLED = {"installed": True, "version": "1.0.0", "service_state": "running", "start_mode": "auto"}


@dataclass(frozen=True)
class DemoRun:
    """One ``agentroll demo`` and where it wrote."""

    returncode: int
    stdout: str
    stderr: str
    env: dict[str, str]
    reports: Path
    state: Path

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def final_report(self) -> dict[str, Any]:
        return json.loads((self.reports / "coverage.json").read_text(encoding="utf-8"))


def _switched_off_hosts() -> list[str]:
    """Inventory names of the demo PCs that start switched off."""
    fleet = yaml.safe_load((INVENTORY / "fleet.yml").read_text(encoding="utf-8"))
    off = {host["address"] for host in fleet["hosts"] if (host.get("faults") or {}).get("refuse_connections")}
    return [host.name for host in load_inventory(INVENTORY).hosts if host.address in off]


def _seed_earlier_demo(state: Path) -> None:
    """An earlier demo's database: it saw the agent on the PCs that are off this time."""
    with Store(state) as store:
        run = store.start_run("site.yml", inventory=str(INVENTORY))
        for host in _switched_off_hosts():
            store.record(run, host, [(Aspect.AGENT, INSTALLED)])
        store.finish_run(run, "ok")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    """Run ``agentroll demo`` once for every test of this module."""
    work = tmp_path_factory.mktemp("demo")
    state, reports = work / "state.sqlite", work / "reports"
    env = {**os.environ, "AGENTROLL_STATE": str(state), "AGENTROLL_REPORT_DIR": str(reports)}
    done = subprocess.run(
        [str(AGENTROLL), "demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT,
        check=False,
    )
    yield DemoRun(done.returncode, done.stdout, done.stderr, env, reports, state)


def test_demo_succeeds(demo: DemoRun) -> None:
    assert demo.returncode == 0, demo.output[-4000:]
    assert "agentroll demo: done in" in demo.stdout


def test_before_is_the_letter_62_of_190(demo: DemoRun) -> None:
    assert "coverage before: 62/190 = 32.6 %" in demo.stdout
    assert "Coverage before: 62/190 = 32.6 %" in demo.stdout


def test_after_is_174_of_190(demo: DemoRun) -> None:
    assert "Coverage after:  174/190 = 91.6 %  (+112 PCs with the agent)" in demo.stdout


def _fleet_pcs(chosen: Any) -> list[str]:
    """Inventory names of the demo fleet's PCs for which ``chosen(fleet entry)`` is true."""
    fleet = yaml.safe_load((INVENTORY / "fleet.yml").read_text(encoding="utf-8"))
    addresses = {host["address"] for host in fleet["hosts"] if chosen(host)}
    return sorted(host.name for host in load_inventory(INVENTORY).hosts if host.address in addresses)


def test_the_watch_wakes_six_catches_the_laptops_and_the_kit_covers_the_commune(demo: DemoRun) -> None:
    hosts = {entry["host"]: entry for entry in demo.final_report()["hosts"]}
    woken = _fleet_pcs(
        lambda pc: pc.get("power") == "off" and "online" not in pc and pc.get("wake_on_lan", True)
    )
    late = _fleet_pcs(lambda pc: "online" in pc)
    assert (len(woken), len(late)) == (6, 3)
    assert {
        name: hosts[name]["state"]
        for name in woken + late
        if hosts[name]["state"] in ("unreachable", "unknown")
    } == {}
    assert "agentroll receipts import: imported the receipts of 3 PC(s)" in demo.stdout
    # The one card that ignores magic packets is the only PC left unreachable, its attempts counted.
    unreachable = [name for name, entry in hosts.items() if entry["state"] == "unreachable"]
    assert unreachable == ["mangbut-06"]
    assert hosts["mangbut-06"]["attempts"]["count"] >= 1


def test_progress_speaks_in_steps_not_task_names(demo: DemoRun) -> None:
    assert re.search(r"^  preflight: 192/192 hosts in .* · probe 192/192$", demo.stdout, re.M)
    site = next(line for line in demo.stdout.splitlines() if line.startswith("  site: 192/192 hosts in"))
    assert re.search(r" · probe 192/192 · installing \d+/\d+ · renaming \d+/\d+ · rebooting \d+/\d+", site)
    assert "Validating arguments" not in demo.output and "TASK [" not in demo.stdout


def test_a_state_database_with_earlier_runs_is_refused_untouched(tmp_path: Path) -> None:
    state = tmp_path / "earlier.sqlite"
    _seed_earlier_demo(state)
    env = {**os.environ, "AGENTROLL_STATE": str(state), "AGENTROLL_REPORT_DIR": str(tmp_path / "reports")}
    done = subprocess.run(
        [str(AGENTROLL), "demo"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"agentroll demo: error: AGENTROLL_STATE names {state}, which holds 1 run(s) already; the demo "
        "starts from an empty state database: name a new file, or unset AGENTROLL_STATE (the demo then "
        "uses state/demo.sqlite, started afresh)"
    )
    with Store(state) as store:
        assert [run.playbook for run in store.runs()] == ["site.yml"]
    assert not (tmp_path / "reports").exists()


def test_dry_run_summary_and_reallocation_are_shown(demo: DemoRun) -> None:
    assert re.search(r"eligible: \d+ PCs", demo.stdout)
    assert re.search(r"ineligible: \d+ PCs \(", demo.stdout)
    assert re.search(r"unreachable: 13 PCs \(connection refused: 13\)", demo.stdout)
    assert "license reallocation advice:" in demo.stdout


def test_final_coverage_is_higher_and_printed(demo: DemoRun) -> None:
    totals = demo.final_report()["totals"]
    assert totals["coverage_pct"] > 32.6
    assert totals["licenses"] == 190
    expected = f"Coverage after:  {totals['installed']}/190 = {totals['coverage_pct']:.1f} %"
    assert expected in demo.stdout
    # Woken, caught by the watch or covered by the kit: only the card that ignores Wake-on-LAN is left.
    assert totals["states"]["unreachable"] == 1


def test_every_report_file_is_the_final_report_rendered(demo: DemoRun) -> None:
    report = demo.final_report()
    for name, fmt, lang in REPORT_FILES:
        if fmt not in BINARY_FORMATS:
            expected = str(render(report, fmt, lang, district=DISTRICT)).encode("utf-8")
            assert (demo.reports / name).read_bytes() == expected, name
    stragglers = (demo.reports / "stragglers.txt").read_text(encoding="utf-8")
    assert stragglers.split() == report["stragglers"]
    assert not list(demo.reports.glob(".*.tmp")), "a temporary file of an atomic write was left behind"
    assert sorted(path.name for path in (demo.reports / "logs").glob("*.log"))[:2] == [
        "01-preflight.log",
        "02-site.log",
    ]


def test_json_report_follows_the_schema(demo: DemoRun) -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.validate(demo.final_report(), schema)


def test_workbooks_and_reply_open(demo: DemoRun) -> None:
    for name in ("coverage.xlsx", "coverage.vi.xlsx"):
        workbook = openpyxl.load_workbook(demo.reports / name)
        assert len(workbook.sheetnames) >= 2, name
    reply = docx.Document(str(demo.reports / "reply.vi.docx"))
    assert any("Kon Plông" in paragraph.text for paragraph in reply.paragraphs)


def test_agentroll_report_afterwards_shows_the_same_numbers(demo: DemoRun) -> None:
    done = subprocess.run(
        [str(AGENTROLL), "report", "-i", "inventory/demo", "--format", "json"],
        cwd=ROOT,
        env=demo.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["totals"] == demo.final_report()["totals"]


def test_no_secret_is_printed_or_written(demo: DemoRun) -> None:
    fleet = yaml.safe_load((INVENTORY / "fleet.yml").read_text(encoding="utf-8"))
    password = fleet["credentials"]["password"]
    assert password not in demo.output
    for path in demo.reports.rglob("*"):
        if path.is_file():
            assert password.encode() not in path.read_bytes(), path


def test_the_demo_starts_and_ends_with_the_consoles_count(demo: DemoRun) -> None:
    """The letter's export (62 agents listed, 61 reporting: one stale; one PC the roster forgot) before,
    the console's export of the simulated fleet after; both figures printed beside agentroll's."""
    assert (
        "the console before: 61 agents reporting = 32.1 % "
        "(of 62 listed; 1 not in the inventory, 2 PCs with the agent not reporting)" in demo.stdout
    )
    report = demo.final_report()
    console = report["console"]
    assert console["source"] == "console-export-after.csv"
    after = (
        f"The console after:  {console['reporting']} agents reporting = {console['coverage_pct']:.1f} % "
        f"(of {console['entries']} listed; 1 not in the inventory, 2 PCs with the agent not reporting)"
    )
    assert after in demo.stdout
    assert report["official"] == "console"
    assert (
        f"Official figure (the console's): {console['reporting']}/190 = {console['coverage_pct']:.1f} %"
        in demo.stdout
    )
    hosts = {host["host"]: host for host in report["hosts"]}
    # Its PC cannot reach the management server: stale on the console, agent_unhealthy for agentroll.
    stale = hosts["hieu-02"]
    assert (stale["state"], stale["console"]["truth"]) == ("agent_unhealthy", "stale")
    assert stale["console"]["cause"] == {"code": "server_unreachable", "server": "soc.kontum.gov.vn:8443"}
    never = hosts["mangbut-05"]
    assert (never["state"], never["console"]["truth"]) == ("agent_unhealthy", "not_reporting")
    # mayphuong was renamed; the console's export after lists it under its standard name.
    assert hosts["tckh-03"]["console"]["computer_name"] == hosts["tckh-03"]["standard_name"]
    assert [(e["computer_name"], e["unit"], e["hint"]) for e in console["unknown"]] == [
        ("KETOAN-LAPTOP", "TCKH", "add_to_roster")
    ]
    assert console["reporting"] == report["totals"]["installed"] - 2 + 1
