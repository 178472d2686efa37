"""Shared helpers of the integration tests: district inventories for a simulated fleet, playbook runs
with their own state store and report folder, journal cursors and secret scans."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from agentroll import demo_data
from agentroll.sim.testing import FleetHandle, run_ansible

#: A WinRM password and an install-argument registration key no output may ever show.
WINRM_PASSWORD = "Winrm-Pa55-7f3c9e"
REGISTRATION_KEY = "REGKEY-Secr3t-91ad4b"
INSTALL_ARGUMENTS = f"SERVER=mgmt.example.vn:8443 KEY={REGISTRATION_KEY}"

_RECAP = re.compile(
    r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+"
    r"unreachable=(?P<unreachable>\d+)\s+failed=(?P<failed>\d+)",
    re.M,
)


def agent_software(service_state: str = "running", start_mode: str = "auto") -> dict[str, Any]:
    """A fleet entry's products and services with the toolkit's sample agent installed."""
    return {
        "products": [
            {"id": demo_data.AGENT_PRODUCT_ID, "name": demo_data.AGENT_PRODUCT_NAME, "version": "1.0"}
        ],
        "services": [
            {
                "name": demo_data.AGENT_SERVICE_NAME,
                "display_name": demo_data.AGENT_SERVICE_DISPLAY_NAME,
                "state": service_state,
                "start_mode": start_mode,
            }
        ],
    }


@dataclass(frozen=True)
class Pc:
    """One PC of a test district: inventory name, unit group, fleet entry and host variables."""

    name: str
    unit: str
    fleet: Mapping[str, Any]
    host_vars: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Run:
    """One ansible-playbook run and what it left behind."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    report: dict[str, Any] | None

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def recap(self) -> dict[str, dict[str, int]]:
        """PLAY RECAP counters per host."""
        return {
            m["host"]: {k: int(m[k]) for k in ("ok", "changed", "unreachable", "failed")}
            for m in _RECAP.finditer(self.stdout)
        }

    def host(self, name: str) -> dict[str, Any]:
        assert self.report is not None, self.output[-3000:]
        return next(entry for entry in self.report["hosts"] if entry["host"] == name)


def fleet_spec(pcs: Sequence[Pc], **defaults: Any) -> dict[str, Any]:
    """A fleet file for ``pcs``: host n gets address 127.20.0.n (relocated by running_fleet)."""
    base = {
        "os": {"caption": "Microsoft Windows 10 Pro", "build": 19045, "product_type": "workstation"},
        "boot_seconds": 0.2,
        **defaults,
    }
    hosts = [{"address": f"127.20.0.{index}", **pc.fleet} for index, pc in enumerate(pcs, start=1)]
    return {
        "credentials": {"username": "agentroll", "password": WINRM_PASSWORD},
        "defaults": base,
        "hosts": hosts,
    }


def write_inventory(
    handle: FleetHandle,
    directory: Path,
    pcs: Sequence[Pc],
    units: Mapping[str, Mapping[str, Any]],
    extra_vars: Mapping[str, Any] | None = None,
) -> Path:
    """An inventory directory with units as groups under ``units`` and the agent profile in all."""
    addresses = {pc.name: handle.address_of(f"127.20.0.{index}") for index, pc in enumerate(pcs, start=1)}
    inventory = handle.inventory(hosts=addresses, extra_vars=extra_vars)
    children: dict[str, Any] = {}
    for group, unit in units.items():
        members = {pc.name: dict(pc.host_vars) or None for pc in pcs if pc.unit == group}
        children[group] = {
            "vars": {
                "agentroll_unit_code": unit["code"],
                "agentroll_unit_name": unit["name"],
                "agentroll_licenses": unit["licenses"],
            },
            "hosts": members,
        }
    inventory["all"]["children"] = {"units": {"children": children}}
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "hosts.yml"
    path.write_text(yaml.safe_dump(inventory, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


class District:
    """A running fleet with its inventory, state store and report folder; runs playbooks on it."""

    def __init__(self, handle: FleetHandle, inventory: Path, workdir: Path) -> None:
        self.handle = handle
        self.inventory = inventory
        self.workdir = workdir
        self.state = workdir / "state.sqlite"
        self.reports = workdir / "reports"
        self.runs: list[Run] = []

    @property
    def env(self) -> dict[str, str]:
        return {"AGENTROLL_STATE": str(self.state), "AGENTROLL_REPORT_DIR": str(self.reports)}

    def play(
        self,
        playbook: str | Path,
        *args: str,
        label: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Run:
        """Run a playbook of the project (by file name) or any playbook (by path), ``env`` added to the
        district's; keep a copy of the reports it wrote under ``label``."""
        report_file = self.reports / "coverage.json"
        report_file.unlink(missing_ok=True)
        target = str(playbook) if isinstance(playbook, Path) else f"playbooks/{playbook}"
        started = time.monotonic()
        done: subprocess.CompletedProcess[str] = run_ansible(
            ["ansible-playbook", target, *args],
            inventory=self.inventory,
            env={**self.env, **(env or {})},
        )
        seconds = time.monotonic() - started
        report = json.loads(report_file.read_text(encoding="utf-8")) if report_file.exists() else None
        if label and self.reports.exists():
            shutil.copytree(self.reports, self.workdir / f"reports-{label}", dirs_exist_ok=True)
        run = Run([str(playbook), *args], done.returncode, done.stdout, done.stderr, seconds, report)
        self.runs.append(run)
        return run

    def address(self, pcs: Sequence[Pc], name: str) -> str:
        index = next(i for i, pc in enumerate(pcs, start=1) if pc.name == name)
        return self.handle.address_of(f"127.20.0.{index}")

    def journal_marks(self) -> dict[str, int]:
        """How long each host's journal is now (a cursor for ``mutations_since``)."""
        return {address: len(self.handle.journal(address)) for address in self.handle.addresses}

    def module_calls_since(self, pcs: Sequence[Pc], marks: Mapping[str, int]) -> dict[str, list[str]]:
        """Per PC name, the modules (short names) its host ran after ``marks``, in order."""
        calls = {}
        for pc in pcs:
            address = self.address(pcs, pc.name)
            entries = self.handle.journal(address)[marks.get(address, 0) :]
            calls[pc.name] = [str(e["module"]).rsplit(".", 1)[-1] for e in entries if e["kind"] == "module"]
        return calls

    def mutations_since(self, marks: Mapping[str, int]) -> list[dict[str, Any]]:
        """Every journal entry after ``marks`` that changed a host."""
        found = []
        for address in self.handle.addresses:
            for entry in self.handle.journal(address)[marks.get(address, 0) :]:
                if entry.get("mutated"):
                    found.append({"address": address, **entry})
        return found


def files_text(paths: Iterable[Path]) -> str:
    """Every byte of the given files and directories (recursively), decoded leniently."""
    chunks = []
    for path in paths:
        candidates = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for candidate in candidates:
            chunks.append(candidate.read_bytes().decode("utf-8", errors="replace"))
    return "\n".join(chunks)
