"""A simulated fleet in a process of its own, for the benchmarks that run Ansible against it.

The fleet answers every WinRM call of a run; in the benchmark's own process it would take CPU from
the same interpreter that follows ansible-runner's events, and its threads would compete with the
measurement in ways that grow with the fleet. Run apart (``agentroll sim up``), its CPU is read from
``/proc`` and printed beside the controller's, and its journal is read over its control API.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from agentroll.sim.control import ControlClient, ControlError, read_runtime
from agentroll.sim.server import connection_vars
from agentroll.sim.testing import DEFAULT_PASSWORD, DEFAULT_USERNAME, allocate_block, release_block, relocate

#: How the benchmarks reach the fleet: what a district uses (NTLM with message encryption).
TRANSPORT = "ntlm"
#: The bench's PCs: eligible Windows 10 workstations; a reboot keeps one off the network this long.
HOST_DEFAULTS: dict[str, Any] = {
    "os": {"caption": "Microsoft Windows 10 Pro", "build": 19045, "product_type": "workstation"},
    "ram_mb": 8192,
    "boot_seconds": 0.2,
}
PC_PER_UNIT = 100


@dataclass
class SeparateFleet:
    """A fleet running in its own process: where it listens, its journal, its CPU."""

    process: subprocess.Popen[bytes]
    control: ControlClient
    addresses: list[str]
    port: int
    scheme: str

    def cpu_seconds(self) -> float:
        """User + system CPU the fleet's process has used so far (Linux ``/proc``)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def module_calls(self, addresses: Sequence[str] | None = None) -> dict[str, list[str]]:
        """Per address, the modules (short names) it has run so far, in order."""
        return {
            address: [
                str(entry["module"]).rsplit(".", 1)[-1]
                for entry in self.control.journal(address)
                if entry.get("kind") == "module"
            ]
            for address in (addresses if addresses is not None else self.addresses)
        }

    def other_calls(self, addresses: Sequence[str]) -> int:
        """Journal entries that are not module calls (a reboot's commands, file transfer), all hosts."""
        return sum(
            1
            for address in addresses
            for entry in self.control.journal(address)
            if entry.get("kind") != "module"
        )

    def reboot_waits(self, addresses: Sequence[str]) -> list[float]:
        """Per reboot (all hosts), the seconds from its shutdown command to its test command.

        What a reboot's own wait costs a PC: the simulated boot, and Ansible polling the boot time
        with a back-off (``win_reboot`` retries after 1, 2, 4 ... seconds) until it changed.
        """
        waits = []
        for address in addresses:
            shutdown_at: float | None = None
            for entry in self.control.journal(address):
                if entry.get("kind") == "reboot_shutdown":
                    shutdown_at = float(entry["time"])
                elif shutdown_at is not None and entry.get("kind") != "reboot_boot_time":
                    waits.append(float(entry["time"]) - shutdown_at)
                    shutdown_at = None
        return waits

    def write_inventory(
        self, path: Path, count: int, extra_vars: Mapping[str, Any] | None = None
    ) -> tuple[Path, list[str]]:
        """An inventory of the first ``count`` PCs in units of 100; returns it and their addresses."""
        chosen = self.addresses[:count]
        names = {f"pc-{index:05d}": address for index, address in enumerate(chosen)}
        units: dict[str, Any] = {}
        for index, name in enumerate(names):
            group = f"u{index // PC_PER_UNIT:03d}"
            unit = units.setdefault(
                group,
                {
                    "vars": {
                        "agentroll_unit_code": group.upper(),
                        "agentroll_unit_name": f"Unit {group}",
                        "agentroll_licenses": PC_PER_UNIT,
                    },
                    "hosts": {},
                },
            )
            unit["hosts"][name] = None
        all_vars = {
            **connection_vars(
                transport=TRANSPORT,
                tls=self.scheme == "https",
                port=self.port,
                username=DEFAULT_USERNAME,
                password=DEFAULT_PASSWORD,
            ),
            **(extra_vars or {}),
        }
        inventory = {
            "all": {
                "vars": all_vars,
                "hosts": {name: {"ansible_host": address} for name, address in names.items()},
                "children": {"units": {"children": units}},
            }
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(inventory, sort_keys=False), encoding="utf-8")
        return path, chosen


@contextmanager
def separate_fleet(count: int, work: Path, **defaults: Any) -> Iterator[SeparateFleet]:
    """``count`` fresh PCs (``HOST_DEFAULTS`` and ``defaults``) served by a process of their own."""
    block = allocate_block()
    try:
        spec = {
            "credentials": {"username": DEFAULT_USERNAME, "password": DEFAULT_PASSWORD},
            "defaults": {**HOST_DEFAULTS, **defaults},
            "hosts": [{"address": f"127.0.{index // 250}.{index % 250 + 1}"} for index in range(count)],
        }
        moved, _ = relocate(spec, block)
        work.mkdir(parents=True, exist_ok=True)
        fleet_file = work / "fleet.yml"
        fleet_file.write_text(yaml.safe_dump(moved, sort_keys=False), encoding="utf-8")
        runtime = work / "fleet-runtime.json"
        runtime.unlink(missing_ok=True)
        command = [
            sys.executable,
            "-m",
            "agentroll.sim.cli",
            "up",
            str(fleet_file),
            "--runtime-file",
            str(runtime),
        ]
        with open(work / "fleet.log", "ab") as log:
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            info = _wait_until_ready(process, runtime, work / "fleet.log", timeout=60 + count / 50)
            addresses = [host["address"] for host in moved["hosts"]]
            yield SeparateFleet(process, ControlClient(info.control_url), addresses, info.port, info.scheme)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    finally:
        release_block(block)


def _wait_until_ready(process: subprocess.Popen[bytes], runtime: Path, log: Path, timeout: float) -> Any:
    """The fleet's runtime information, once its control API answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            last = (log.read_text(encoding="utf-8", errors="replace").strip().splitlines() or [""])[-1]
            raise RuntimeError(f"the simulated fleet exited with status {process.returncode} ({log}): {last}")
        info = read_runtime(runtime)
        if info is not None and info.pid == process.pid:
            try:
                ControlClient(info.control_url, timeout=2).health()
                return info
            except ControlError:
                pass
        time.sleep(0.1)
    raise RuntimeError(f"the simulated fleet did not answer within {timeout:.0f} s ({log})")
