"""The real ansible-playbook, winrm connection and pywinrm against the simulated fleet.

One module-scoped fleet and one playbook run (playbooks/modules_e2e.yml) exercise every
handler family; the playbook asserts on the module results itself, and these tests then read
the hosts' journals and final state.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from e2e_support import E2E_SPEC, GROUPS, run_modules_playbook

from agentroll.sim.testing import FleetHandle, running_fleet

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PRODUCT = "{6F1A2B3C-0000-4000-8000-00000000A6E7}"


@dataclass
class Played:
    """The running fleet, the playbook's completed process and its working directory."""

    handle: FleetHandle
    result: subprocess.CompletedProcess[str]
    directory: Path


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Played]:
    """Run the playbook once against a fresh E2E fleet; keep the fleet for inspection."""
    directory = tmp_path_factory.mktemp("modules_e2e")
    with running_fleet(E2E_SPEC) as handle:
        yield Played(handle, run_modules_playbook(handle, directory), directory)


def journal(handle: FleetHandle, group: str) -> list[dict[str, Any]]:
    """Return the journal of the PC standing for one inventory group."""
    return handle.journal(handle.address_of(GROUPS[group]))


def test_playbook_passes_its_own_assertions(
    played: Played,
) -> None:
    """Every play's assert task passed; only the expected failures were ignored."""
    result = played.result
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    recap = result.stdout[result.stdout.rindex("PLAY RECAP") :]
    for group in GROUPS:
        line = next(line for line in recap.splitlines() if line.startswith(f"pc-{group} "))
        assert "failed=0" in line and "unreachable=0" in line


def test_healthy_pc_ends_renamed_with_the_agent_running(
    played: Played,
) -> None:
    """After install, rename and reboot the model holds what the playbook did."""
    handle = played.handle
    host = handle.fleet.host(handle.address_of(GROUPS["win10"]))
    assert host.computer_name == "SNV-THANGPV" and host.pending_computer_name is None
    assert host.find_product(PRODUCT) is not None
    assert host.find_service("SnvAgent").state == "running"
    assert not host.reboot_pending


def test_healthy_pc_journal(played: Played) -> None:
    """The journal shows each kind of command, and check-mode runs did not mutate anything."""
    handle = played.handle
    entries = journal(handle, "win10")
    kinds = {entry["kind"] for entry in entries}
    assert {
        "module",
        "mkdtemp",
        "put_file",
        "remove",
        "fetch_file",
        "raw",
        "reboot_boot_time",
        "reboot_shutdown",
        "reboot_test",
    } <= kinds
    modules = {entry["module"] for entry in entries if entry["kind"] == "module"}
    assert {
        "ansible.windows.setup",
        "ansible.windows.win_ping",
        "agentroll.toolkit.win_agentroll_probe",
        "ansible.windows.win_hostname",
        "ansible.windows.win_file",
        "ansible.windows.win_copy",
        "ansible.windows.win_stat",
        "ansible.windows.win_package",
        "ansible.windows.win_service_info",
        "ansible.windows.win_service",
        "ansible.windows.win_command",
        "ansible.windows.win_shell",
    } <= modules
    renames = [e for e in entries if e["module"] == "ansible.windows.win_hostname"]
    assert [e["mutated"] for e in renames] == [False, True]
    probes = [e for e in entries if e["module"] == "agentroll.toolkit.win_agentroll_probe"]
    assert probes and not any(e["mutated"] or e["changed"] for e in probes)
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))


def test_windows7_is_reachable_but_unmanageable(
    played: Played,
) -> None:
    """The module run failed (not unreachable) and raw answered."""
    handle, result = played.handle, played.result
    assert "Ansible requires PowerShell v5.1" in result.stdout
    entries = journal(handle, "win7")
    assert [(e["kind"], e["failed"]) for e in entries] == [("module", True), ("raw", False)]


def test_failing_installer(played: Played) -> None:
    """The 1603 fault failed win_package and installed nothing."""
    handle = played.handle
    entries = journal(handle, "broken")
    package = [e for e in entries if e["module"] == "ansible.windows.win_package"]
    assert len(package) == 1 and package[0]["failed"] and package[0]["rc"] == 1
    assert handle.fleet.host(handle.address_of(GROUPS["broken"])).find_product(PRODUCT) is None


def test_fetched_file_matches(played: Played) -> None:
    """fetch brought back the bytes win_copy put there."""
    handle = played.handle
    host = handle.fleet.host(handle.address_of(GROUPS["win10"]))
    data = host.files.read("C:\\agentroll\\agent.msi")
    assert data is not None and b"agentroll_sim_installer" in data
    assert (played.directory / "agent.msi").read_bytes() == data
