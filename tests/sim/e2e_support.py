"""The fleet and the playbook run shared by test_modules_e2e.py and capture_golden.py."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from agentroll.sim.testing import FleetHandle, run_ansible

PLAYBOOK = Path(__file__).parent / "playbooks" / "modules_e2e.yml"

#: Three PCs: a healthy Windows 10, a Windows 7 with PowerShell 2.0, one whose installs fail 1603.
E2E_SPEC: dict[str, Any] = {
    "credentials": {"username": "agentroll", "password": "Secr3t!"},
    "defaults": {"boot_seconds": 0.5},
    "hosts": [
        {"address": "127.20.0.1", "computer_name": "MAYPHUONG"},
        {
            "address": "127.20.0.2",
            "computer_name": "KETOAN-PC",
            "powershell_version": "2.0",
            "os": {"caption": "Microsoft Windows 7 Professional", "build": 7601},
        },
        {"address": "127.20.0.3", "computer_name": "PC-BROKEN", "faults": {"installer_exit_code": 1603}},
    ],
}
GROUPS = {"win10": "127.20.0.1", "win7": "127.20.0.2", "broken": "127.20.0.3"}


def write_inventory(handle: FleetHandle, directory: Path) -> Path:
    """Write an inventory with one group per PC of E2E_SPEC (win10, win7, broken)."""
    hosts = {group: handle.address_of(address) for group, address in GROUPS.items()}
    inventory = handle.inventory(
        hosts={f"pc-{g}": a for g, a in hosts.items()}, extra_vars={"fetch_dir": str(directory)}
    )
    inventory["all"]["children"] = {group: {"hosts": {f"pc-{group}": None}} for group in GROUPS}
    path = directory / "hosts.yml"
    path.write_text(yaml.safe_dump(inventory, sort_keys=False), encoding="utf-8")
    return path


def run_modules_playbook(
    handle: FleetHandle, directory: Path, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run playbooks/modules_e2e.yml against the fleet (the coverage callback stays out of it)."""
    inventory = write_inventory(handle, directory)
    quiet = {"ANSIBLE_CALLBACKS_ENABLED": "ansible.builtin.minimal", **(env or {})}
    return run_ansible(["ansible-playbook", str(PLAYBOOK)], inventory=inventory, env=quiet)
