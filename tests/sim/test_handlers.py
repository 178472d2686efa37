"""Every handler through Fleet.execute, with payloads shaped like the golden captures."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from payloads import (
    encoded_command,
    fetch_payload,
    golden,
    module_payload,
    put_file_payload,
    reboot_command,
    reboot_wrapped,
)

from agentroll.sim.clock import FakeClock
from agentroll.sim.fleet import Fleet
from agentroll.sim.handlers import BOOTSTRAP_TOO_OLD, registered_modules
from agentroll.sim.handlers.base import filetime
from agentroll.sim.host import Product
from agentroll.sim.installer import make_installer
from agentroll.sim.types import CommandResult

PC = "127.9.0.1"
WIN7 = "127.9.0.2"
PRODUCT = "{6F1A2B3C-0000-4000-8000-00000000A6E7}"
INSTALLER_PATH = "C:\\Windows\\Temp\\agent.msi"
BOOT_TIME = (
    "(Get-CimInstance -ClassName Win32_OperatingSystem -Property LastBootUpTime).LastBootUpTime.ToFileTime()"
)


def installer(exit_code: int = 0, start_mode: str = "auto") -> bytes:
    """Return a simulated agent installer."""
    service = {"name": "SnvAgent", "display_name": "SNV Monitoring Agent", "start_mode": start_mode}
    return make_installer(PRODUCT, "SNV Monitoring Agent", "7.4.1", service=service, exit_code=exit_code)


@pytest.fixture
def clock() -> FakeClock:
    """A clock the tests move by hand."""
    return FakeClock()


@pytest.fixture
def fleet(clock: FakeClock) -> Fleet:
    """A Windows 10 PC with the agent's installer on disk, and a Windows 7 PC with PowerShell 2.0."""
    return Fleet.from_mapping(
        {
            "credentials": {"username": "agentroll", "password": "pw"},
            "defaults": {"boot_seconds": 30},
            "hosts": [
                {
                    "address": PC,
                    "computer_name": "MAYPHUONG",
                    "services": [{"name": "WinRM", "display_name": "Windows Remote Management"}],
                },
                {
                    "address": WIN7,
                    "computer_name": "KETOAN-PC",
                    "powershell_version": "2.0",
                    "os": {"caption": "Microsoft Windows 7 Professional", "build": 7601},
                },
            ],
        },
        clock=clock,
    )


@pytest.fixture
def pc(fleet: Fleet) -> Fleet:
    """The fleet with the installer copied onto the Windows 10 PC."""
    fleet.host(PC).files.write(INSTALLER_PATH, installer(), 0.0)
    return fleet


def run(
    fleet: Fleet, module: str, args: dict[str, Any] | None = None, *, address: str = PC, **flags: Any
) -> dict[str, Any]:
    """Run a module and return its parsed result, checking rc agrees with ``failed``."""
    answer = fleet.execute(address, *module_payload(module, args, **flags))
    result = json.loads(answer.stdout)
    assert answer.rc == (1 if result.get("failed") else 0)
    return result


def last_entry(fleet: Fleet, address: str = PC) -> dict[str, Any]:
    """Return the host's last journal entry."""
    return fleet.journal(address)[-1]


# --- ping, setup, unknown modules ------------------------------------------------------------


def test_win_ping_on_the_golden_payload(fleet: Fleet) -> None:
    """The untrimmed real capture gets pong back."""
    answer = fleet.execute(PC, *golden("module-win_ping.full"))
    assert answer.rc == 0
    assert json.loads(answer.stdout) == {"changed": False, "ping": "pong"}


def test_win_ping_crash(fleet: Fleet) -> None:
    """data=crash fails, as the real module does."""
    assert run(fleet, "ansible.windows.win_ping", {"data": "crash"})["failed"]


def test_setup_returns_the_facts_that_matter(fleet: Fleet) -> None:
    """setup's facts carry the host model under their real names."""
    facts = run(fleet, "ansible.windows.setup")["ansible_facts"]
    assert facts["ansible_hostname"] == "MAYPHUONG"
    assert facts["ansible_os_family"] == "Windows"
    assert facts["ansible_os_name"] == facts["ansible_distribution"] == "Microsoft Windows 10 Pro"
    assert facts["ansible_distribution_version"] == facts["ansible_kernel"] == "10.0.19045.0"
    assert facts["ansible_architecture"] == "64-bit"
    assert facts["ansible_memtotal_mb"] == 8192
    assert facts["ansible_powershell_version"] == 5
    assert facts["ansible_os_product_type"] == "workstation"
    assert facts["ansible_system"] == "Win32NT"
    assert facts["ansible_lastboot"].endswith("Z")
    assert facts["ansible_reboot_pending"] is False


def test_a_module_without_a_handler_fails_loudly(fleet: Fleet) -> None:
    """Nothing succeeds by default: an unknown module fails naming it."""
    result = run(fleet, "ansible.windows.win_feature", {"name": "x"})
    assert result["failed"] and "ansible.windows.win_feature is not simulated" in result["msg"]


def test_unsupported_option_fails_like_ansible_basic(fleet: Fleet) -> None:
    """A misspelt option fails the way Ansible.Basic words it."""
    result = run(fleet, "ansible.windows.win_hostname", {"nmae": "X"})
    assert result["failed"]
    assert result["msg"].startswith("Unsupported parameters for (win_hostname) module: nmae.")


def test_unknown_command_fails_loudly(fleet: Fleet) -> None:
    """A payload the decoder does not understand is an error with rc 1 and a reason."""
    answer = fleet.execute(PC, "cmd.exe /c dir", b"")
    assert answer.rc == 1 and b"unsupported command" in answer.stderr
    assert last_entry(fleet)["kind"] == "unknown"


def test_registered_modules_cover_the_families() -> None:
    """Each family answers under ansible.windows.* and the builtin/legacy aliases."""
    names = set(registered_modules())
    for short in (
        "win_ping",
        "setup",
        "win_hostname",
        "win_package",
        "win_copy",
        "win_stat",
        "win_file",
        "win_service",
        "win_service_info",
        "win_command",
        "win_shell",
    ):
        assert {f"ansible.windows.{short}", f"ansible.builtin.{short}", f"ansible.legacy.{short}"} <= names
    assert "agentroll.toolkit.win_agentroll_probe" in names


# --- win_hostname ---------------------------------------------------------------------------


def test_rename_is_pending_until_reboot(fleet: Fleet) -> None:
    """A rename reports old_name and reboot_required; the name in effect stays until reboot."""
    result = run(fleet, "ansible.windows.win_hostname", {"name": "SNV-THANGPV"})
    assert result == {"changed": True, "old_name": "MAYPHUONG", "reboot_required": True}
    host = fleet.host(PC)
    assert host.computer_name == "MAYPHUONG" and host.pending_computer_name == "SNV-THANGPV"
    assert "computer rename" in host.reboot_reasons
    assert last_entry(fleet)["mutated"] is True


def test_rename_in_check_mode_changes_nothing(fleet: Fleet) -> None:
    """Check mode reports the change and leaves the host alone (journal: mutated false)."""
    result = run(fleet, "ansible.windows.win_hostname", {"name": "SNV-THANGPV"}, check_mode=True)
    assert result["changed"] and result["reboot_required"]
    assert fleet.host(PC).pending_computer_name is None
    assert last_entry(fleet)["mutated"] is False


def test_same_name_any_case_is_no_change_and_bad_names_fail(fleet: Fleet) -> None:
    """Windows names are case-insensitive; invalid NetBIOS names fail with Rename-Computer's error."""
    assert run(fleet, "ansible.windows.win_hostname", {"name": "mayphuong"})["changed"] is False
    bad = run(fleet, "ansible.windows.win_hostname", {"name": "bad name!"})
    assert bad["failed"] and "Failed to rename computer to 'bad name!'" in bad["msg"]


def test_rename_diff(fleet: Fleet) -> None:
    """With --diff the before/after names are returned."""
    result = run(fleet, "ansible.windows.win_hostname", {"name": "NEW"}, diff=True)
    assert result["diff"] == {"before": "MAYPHUONG", "after": "NEW"}


# --- win_package and the installer --------------------------------------------------------


def test_install_creates_product_and_starts_service(pc: Fleet) -> None:
    """Exit 0: installed, service created and running, no reboot."""
    result = run(pc, "ansible.windows.win_package", {"path": INSTALLER_PATH})
    assert result["changed"] and result["rc"] == 0 and result["reboot_required"] is False
    assert result["checksum"] == hashlib.sha1(installer()).hexdigest().upper()
    host = pc.host(PC)
    assert host.find_product(PRODUCT).version == "7.4.1"
    service = host.find_service("SnvAgent")
    assert (service.state, service.start_mode) == ("running", "auto")


def test_install_again_is_no_change(pc: Fleet) -> None:
    """A product already installed is not reinstalled (by path or by product_id)."""
    run(pc, "ansible.windows.win_package", {"path": INSTALLER_PATH})
    assert run(pc, "ansible.windows.win_package", {"path": INSTALLER_PATH})["changed"] is False
    again = run(pc, "ansible.windows.win_package", {"path": INSTALLER_PATH, "product_id": PRODUCT.lower()})
    assert again["changed"] is False and last_entry(pc)["mutated"] is False


def test_install_3010_requires_a_reboot(pc: Fleet) -> None:
    """3010 is expected by default: installed, reboot_required, pending reboot recorded."""
    pc.host(PC).files.write(INSTALLER_PATH, installer(exit_code=3010), 0.0)
    result = run(pc, "ansible.windows.win_package", {"path": INSTALLER_PATH})
    assert result["changed"] and result["rc"] == 3010 and result["reboot_required"]
    assert result["failed"] is False
    assert pc.host(PC).reboot_pending


def test_install_1641_needs_to_be_expected(pc: Fleet) -> None:
    """1641 is not in the default expected codes (the task fails though the MSI did install);
    when expected, the host has a reboot pending, but only 3010 sets reboot_required (as the real module)."""
    pc.host(PC).files.write(INSTALLER_PATH, installer(exit_code=1641), 0.0)
    failed = run(pc, "ansible.windows.win_package", {"path": INSTALLER_PATH})
    assert failed["failed"] and failed["rc"] == 1641
    assert pc.host(PC).find_product(PRODUCT) is not None
    pc.host(PC).remove_product(PRODUCT)
    result = run(
        pc, "ansible.windows.win_package", {"path": INSTALLER_PATH, "expected_return_code": [0, 3010, 1641]}
    )
    assert result["changed"] and result["rc"] == 1641 and result["reboot_required"] is False
    assert pc.host(PC).reboot_pending


@pytest.mark.parametrize("exit_code", [1603, 1618])
def test_failing_installer_codes(pc: Fleet, exit_code: int) -> None:
    """1603/1618 fail with the real module's message and rc in the result; nothing is installed."""
    pc.host(PC).files.write(INSTALLER_PATH, installer(exit_code=exit_code), 0.0)
    result = run(pc, "ansible.windows.win_package", {"path": INSTALLER_PATH})
    assert result["failed"] and result["rc"] == exit_code
    assert result["msg"].startswith("unexpected rc from 'msiexec.exe /i")
    assert result["stderr"]
    assert pc.host(PC).find_product(PRODUCT) is None
    assert last_entry(pc)["mutated"] is False


def test_installer_exit_code_fault_overrides_the_file(pc: Fleet) -> None:
    """The host's installer_exit_code fault wins over the installer's own code."""
    pc.set_faults(PC, installer_exit_code=1603)
    assert run(pc, "ansible.windows.win_package", {"path": INSTALLER_PATH})["rc"] == 1603
    pc.set_faults(PC, installer_exit_code=None)
    assert run(pc, "ansible.windows.win_package", {"path": INSTALLER_PATH})["rc"] == 0


def test_disk_full_fails_with_112(pc: Fleet) -> None:
    """disk_full: installs exit 112 (ERROR_DISK_FULL) and fail; the probe sees no free space."""
    pc.set_faults(PC, disk_full=True)
    result = run(pc, "ansible.windows.win_package", {"path": INSTALLER_PATH})
    assert result["failed"] and result["rc"] == 112
    assert "not enough space" in result["stderr"]
    assert run(pc, "agentroll.toolkit.win_agentroll_probe")["system_free_mb"] == 0


def test_service_wont_start_leaves_the_agent_stopped(pc: Fleet) -> None:
    """The install succeeds but its service does not start."""
    pc.set_faults(PC, service_wont_start=True)
    assert run(pc, "ansible.windows.win_package", {"path": INSTALLER_PATH})["changed"]
    assert pc.host(PC).find_service("SnvAgent").state == "stopped"


def test_install_in_check_mode_changes_nothing(pc: Fleet) -> None:
    """Check mode reports the install, installs nothing."""
    result = run(pc, "ansible.windows.win_package", {"path": INSTALLER_PATH}, check_mode=True)
    assert result["changed"] and pc.host(PC).find_product(PRODUCT) is None
    assert last_entry(pc)["mutated"] is False


def test_uninstall(pc: Fleet) -> None:
    """state=absent by product_id removes the product and its service."""
    run(pc, "ansible.windows.win_package", {"path": INSTALLER_PATH})
    result = run(pc, "ansible.windows.win_package", {"product_id": PRODUCT, "state": "absent"})
    assert result["changed"]
    assert pc.host(PC).find_product(PRODUCT) is None and pc.host(PC).find_service("SnvAgent") is None
    assert (
        run(pc, "ansible.windows.win_package", {"product_id": PRODUCT, "state": "absent"})["changed"] is False
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"path": "C:\\missing.msi"}, "the file at the path 'C:\\missing.msi' cannot be reached"),
        ({"path": "C:\\Windows\\Temp\\readme.txt"}, "is not a simulated installer"),
        ({"state": "present"}, "state is present but all of the following are missing: path"),
        ({"path": "https://example.invalid/agent.msi"}, "downloading installers is not simulated"),
    ],
)
def test_win_package_errors(pc: Fleet, args: dict[str, Any], message: str) -> None:
    """Missing files, non-installers, missing options and URLs fail with a clear message."""
    pc.host(PC).files.write("C:\\Windows\\Temp\\readme.txt", b"hello", 0.0)
    result = run(pc, "ansible.windows.win_package", args)
    assert result["failed"] and message in result["msg"]


# --- files ---------------------------------------------------------------------------------


def test_win_copy_flow_query_put_single(fleet: Fleet) -> None:
    """query → mkdtemp → put_file (sha1) → single → clean-up, as the action plugin drives it."""
    data = b"agent config\r\n"
    checksum = hashlib.sha1(data).hexdigest()
    files = [{"src": "/tmp/x/agent.conf", "dest": "agent.conf", "checksum": checksum}]
    query = {
        "dest": "C:\\agentroll",
        "_copy_mode": "query",
        "force": True,
        "files": files,
        "directories": [],
        "symlinks": [],
    }
    assert run(fleet, "ansible.windows.win_copy", query)["files"] == files
    made = fleet.execute(PC, *golden("maketempdir"))
    temp = made.stdout.decode().strip()
    assert temp.startswith("C:\\Users\\agentroll\\AppData\\Local\\Temp\\ansible-tmp-")
    put = fleet.execute(PC, *put_file_payload(temp + "\\source", data))
    assert json.loads(put.stdout) == {"sha1": checksum}
    fleet.execute(
        PC, *module_payload("ansible.windows.win_file", {"path": "C:\\agentroll", "state": "directory"})
    )
    single = {
        "dest": "C:\\agentroll\\agent.conf",
        "src": temp + "\\source",
        "_copy_mode": "single",
        "_original_basename": "agent.conf",
        "backup": False,
    }
    assert run(fleet, "ansible.windows.win_copy", single) == {"changed": True}
    assert fleet.host(PC).files.read("c:\\AGENTROLL\\agent.conf") == data
    cleanup = fleet.execute(PC, encoded_command(f"Remove-Item {temp}\\. -Force -Recurse"), b"")
    assert cleanup.rc == 0 and not fleet.host(PC).files.exists(temp)
    assert run(fleet, "ansible.windows.win_copy", query)["files"] == []


def test_win_copy_single_into_a_missing_directory_fails(fleet: Fleet) -> None:
    """Like Windows: the destination's parent must exist when dest names the file."""
    fleet.host(PC).files.write("C:\\tmp\\source", b"x", 0.0)
    single = {
        "dest": "C:\\nowhere\\a.txt",
        "src": "C:\\tmp\\source",
        "_copy_mode": "single",
        "_original_basename": "a.txt",
    }
    result = run(fleet, "ansible.windows.win_copy", single)
    assert result["failed"] and "Destination directory 'C:\\nowhere' does not exist" in result["msg"]


def test_put_file_into_a_missing_directory_fails(fleet: Fleet) -> None:
    """[File]::Create cannot create parent folders."""
    answer = fleet.execute(PC, *put_file_payload("C:\\nowhere\\x", b"x"))
    assert answer.rc == 1 and b"Could not find a part of the path" in answer.stderr


def test_fetch_file_chunks_directories_and_missing(fleet: Fleet) -> None:
    """fetch_file returns base64 per chunk, [DIR] for folders, rc 1 for missing files."""
    data = bytes(range(256)) * 10
    fleet.host(PC).files.write("C:\\logs\\agent.log", data, 0.0)
    first = fleet.execute(PC, *fetch_payload("C:\\logs\\agent.log", 0, 1000))
    second = fleet.execute(PC, *fetch_payload("C:\\logs\\agent.log", 1000, 5000))
    assert base64.b64decode(first.stdout) + base64.b64decode(second.stdout) == data
    assert fleet.execute(PC, *fetch_payload("C:\\logs")).stdout.strip() == b"[DIR]"
    missing = fleet.execute(PC, *fetch_payload("C:\\nope"))
    assert missing.rc == 1 and b"does not exist" in missing.stderr


def test_win_stat(fleet: Fleet) -> None:
    """exists, sha1 by default, sha256 on request, directories."""
    fleet.host(PC).files.write("C:\\agentroll\\a.txt", b"abc", 5.0)
    assert run(fleet, "ansible.windows.win_stat", {"path": "C:\\missing"})["stat"] == {"exists": False}
    stat = run(fleet, "ansible.windows.win_stat", {"path": "c:\\agentroll\\A.TXT"})["stat"]
    assert stat["exists"] and stat["isreg"] and not stat["isdir"]
    assert stat["checksum"] == hashlib.sha1(b"abc").hexdigest()
    assert stat["size"] == 3 and stat["extension"] == ".txt" and stat["lastwritetime"] == 5.0
    sha256 = run(
        fleet, "ansible.windows.win_stat", {"path": "C:\\agentroll\\a.txt", "checksum_algorithm": "sha256"}
    )
    assert sha256["stat"]["checksum"] == hashlib.sha256(b"abc").hexdigest()
    folder = run(fleet, "ansible.windows.win_stat", {"path": "C:\\agentroll"})["stat"]
    assert folder["isdir"] and "checksum" not in folder


def test_win_file_directory_touch_absent_and_check_mode(fleet: Fleet) -> None:
    """directory/touch/absent change the disk, except in check mode."""
    host = fleet.host(PC)
    assert run(fleet, "ansible.windows.win_file", {"path": "C:\\d", "state": "directory"}, check_mode=True)[
        "changed"
    ]
    assert not host.files.exists("C:\\d")
    assert run(fleet, "ansible.windows.win_file", {"path": "C:\\d", "state": "directory"})["changed"]
    assert run(fleet, "ansible.windows.win_file", {"path": "C:\\d", "state": "directory"})["changed"] is False
    assert run(fleet, "ansible.windows.win_file", {"path": "C:\\d\\f.txt", "state": "touch"})["changed"]
    assert host.files.read("C:\\d\\f.txt") == b""
    assert run(fleet, "ansible.windows.win_file", {"path": "C:\\d", "state": "absent"})["changed"]
    assert not host.files.exists("C:\\d\\f.txt")
    assert run(fleet, "ansible.windows.win_file", {"path": "C:\\d", "state": "absent"})["changed"] is False
    assert run(fleet, "ansible.windows.win_file", {"path": "C:\\x.txt", "state": "file"})["failed"]


# --- services ------------------------------------------------------------------------------


def test_win_service_stop_start_restart_and_start_mode(pc: Fleet) -> None:
    """State and start mode changes return the documented keys."""
    run(pc, "ansible.windows.win_package", {"path": INSTALLER_PATH})
    stopped = run(pc, "ansible.windows.win_service", {"name": "SnvAgent", "state": "stopped"})
    assert stopped["changed"] and stopped["state"] == "stopped"
    for key in (
        "exists",
        "name",
        "display_name",
        "state",
        "start_mode",
        "path",
        "description",
        "username",
        "desktop_interact",
        "dependencies",
        "depended_by",
        "can_pause_and_continue",
    ):
        assert key in stopped
    started = run(
        pc, "ansible.windows.win_service", {"name": "snvagent", "state": "started", "start_mode": "manual"}
    )
    assert started["changed"] and (started["state"], started["start_mode"]) == ("running", "manual")
    assert (
        run(pc, "ansible.windows.win_service", {"name": "SnvAgent", "state": "started"})["changed"] is False
    )
    assert run(pc, "ansible.windows.win_service", {"name": "SnvAgent", "state": "restarted"})["changed"]


def test_win_service_check_mode_changes_nothing(pc: Fleet) -> None:
    """Check mode reports what would change."""
    run(pc, "ansible.windows.win_package", {"path": INSTALLER_PATH})
    result = run(pc, "ansible.windows.win_service", {"name": "SnvAgent", "state": "stopped"}, check_mode=True)
    assert result["changed"] and result["state"] == "stopped"
    assert pc.host(PC).find_service("SnvAgent").state == "running"
    assert last_entry(pc)["mutated"] is False


def test_service_wont_start_fault(pc: Fleet) -> None:
    """Starting fails with Start-Service's message and the service stays stopped."""
    run(pc, "ansible.windows.win_package", {"path": INSTALLER_PATH})
    run(pc, "ansible.windows.win_service", {"name": "SnvAgent", "state": "stopped"})
    pc.set_faults(PC, service_wont_start=True)
    result = run(pc, "ansible.windows.win_service", {"name": "SnvAgent", "state": "started"})
    assert result["failed"]
    assert "Service 'SNV Monitoring Agent (SnvAgent)' cannot be started" in result["msg"]
    assert pc.host(PC).find_service("SnvAgent").state == "stopped"


def test_missing_service(fleet: Fleet) -> None:
    """Without path a missing service fails; absent is a no-op; with path it is created."""
    failed = run(fleet, "ansible.windows.win_service", {"name": "Nope", "state": "started"})
    assert failed["failed"] and "Service 'Nope' is not installed" in failed["msg"]
    assert run(fleet, "ansible.windows.win_service", {"name": "Nope", "state": "absent"}) == {
        "changed": False,
        "exists": False,
    }
    created = run(
        fleet, "ansible.windows.win_service", {"name": "Mine", "path": "C:\\mine.exe", "state": "started"}
    )
    assert created["changed"] and fleet.host(PC).find_service("Mine").state == "running"


def test_win_service_info(fleet: Fleet) -> None:
    """One service by name, all services without, exists false for none."""
    one = run(fleet, "ansible.windows.win_service_info", {"name": "winrm"})
    assert one["exists"] and one["services"][0]["name"] == "WinRM"
    assert one["services"][0]["state"] == "started" and one["services"][0]["start_mode"] == "auto"
    assert run(fleet, "ansible.windows.win_service_info", {"name": "nope"}) == {
        "changed": False,
        "exists": False,
        "services": [],
    }
    assert len(run(fleet, "ansible.windows.win_service_info")["services"]) == 1


# --- reboot ----------------------------------------------------------------------------------


def boot_time(fleet: Fleet, address: str = PC) -> CommandResult:
    """Ask for the boot time the way win_reboot does."""
    return fleet.execute(address, reboot_wrapped(BOOT_TIME), b"")


def test_reboot_sequence_with_the_fake_clock(fleet: Fleet, clock: FakeClock) -> None:
    """Boot time, shutdown /r /t 2, refused while down, new boot time, rename applied, token echoed."""
    run(fleet, "ansible.windows.win_hostname", {"name": "SNV-THANGPV"})
    before = boot_time(fleet)
    assert int(before.stdout) == filetime(fleet.host(PC).boot_time)
    shutdown = fleet.execute(PC, reboot_command(2), b"")
    assert json.loads(shutdown.stdout) == {"stdout": "", "stderr": "", "rc": 0}
    assert not fleet.connection_policy(PC).refuse
    assert boot_time(fleet).stdout == before.stdout
    clock.advance(2)
    assert fleet.connection_policy(PC).refuse
    clock.advance(30)
    assert not fleet.connection_policy(PC).refuse
    assert boot_time(fleet).stdout != before.stdout
    test = fleet.execute(PC, *golden("reboottest"))
    assert test.rc == 0 and test.stdout.startswith(b"success-")
    host = fleet.host(PC)
    assert host.computer_name == "SNV-THANGPV" and not host.reboot_pending


def test_a_fixed_shutdown_delay_overrides_the_one_shutdown_asks_for(clock: FakeClock) -> None:
    """shutdown_delay_seconds 0 with boot_seconds 0: the next boot-time query already sees the new boot."""
    fleet = Fleet.from_mapping(
        {
            "credentials": {"username": "agentroll", "password": "pw"},
            "defaults": {"boot_seconds": 0, "shutdown_delay_seconds": 0},
            "hosts": [{"address": PC, "computer_name": "MAYPHUONG"}],
        },
        clock=clock,
    )
    run(fleet, "ansible.windows.win_hostname", {"name": "SNV-THANGPV"})
    before = boot_time(fleet)
    assert json.loads(fleet.execute(PC, reboot_command(2), b"").stdout)["rc"] == 0
    assert not fleet.connection_policy(PC).refuse
    assert boot_time(fleet).stdout != before.stdout
    assert fleet.host(PC).computer_name == "SNV-THANGPV"


def test_second_shutdown_reports_1190_and_abort_cancels(fleet: Fleet, clock: FakeClock) -> None:
    """An already scheduled shutdown answers 1190; shutdown /a cancels it before it starts."""
    fleet.execute(PC, reboot_command(2), b"")
    again = json.loads(fleet.execute(PC, reboot_command(2), b"").stdout)
    assert again["rc"] == 1190
    abort = fleet.execute(PC, reboot_wrapped(r"C:\Windows\System32\shutdown.exe /a"), b"")
    assert abort.rc == 0
    clock.advance(100)
    assert not fleet.connection_policy(PC).refuse
    assert fleet.execute(PC, reboot_wrapped(r"C:\Windows\System32\shutdown.exe /a"), b"").rc == 1116


def test_reboot_never_returns(fleet: Fleet, clock: FakeClock) -> None:
    """With reboot_never_returns the host stays refused after shutdown."""
    fleet.set_faults(PC, reboot_never_returns=True)
    fleet.execute(PC, reboot_command(2), b"")
    clock.advance(3600)
    assert fleet.connection_policy(PC).refuse


def test_auto_services_start_after_reboot(pc: Fleet, clock: FakeClock) -> None:
    """A stopped auto-start service runs again after a reboot."""
    run(pc, "ansible.windows.win_package", {"path": INSTALLER_PATH})
    run(pc, "ansible.windows.win_service", {"name": "SnvAgent", "state": "stopped"})
    pc.execute(PC, reboot_command(2), b"")
    clock.advance(40)
    assert pc.host(PC).find_service("SnvAgent").state == "running"


# --- commands --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "expected", "rc"),
    [
        ("hostname", "MAYPHUONG\r\n", 0),
        ("whoami", "mayphuong\\agentroll\r\n", 0),
        ("$PSVersionTable.PSVersion.ToString()", "5.1.19041.4648\r\n", 0),
        ("(Get-CimInstance Win32_OperatingSystem).Caption", "Microsoft Windows 10 Pro\r\n", 0),
        ("echo 'a;b'; exit 3", "a;b\r\n", 3),
        ("sc query nope", "[SC] EnumQueryServicesStatus:OpenService FAILED 1060", 1060),
    ],
)
def test_raw_subset(fleet: Fleet, command: str, expected: str, rc: int) -> None:
    """raw answers the documented subset."""
    answer = fleet.execute(PC, encoded_command(command), b"")
    assert answer.stdout.decode().startswith(expected) and answer.rc == rc


def test_raw_unsupported_and_ipconfig(fleet: Fleet) -> None:
    """Anything outside the subset fails with 'not simulated'; ipconfig shows the address."""
    answer = fleet.execute(PC, encoded_command("Get-Process"), b"")
    assert answer.rc == 1 and answer.stderr == b"not simulated: Get-Process\r\n"
    assert PC.encode() in fleet.execute(PC, encoded_command("ipconfig"), b"").stdout
    running = fleet.execute(PC, encoded_command("sc.exe query WinRM"), b"")
    assert b"RUNNING" in running.stdout


def test_win_command_and_win_shell(fleet: Fleet) -> None:
    """The documented result keys; non-zero rc fails; check mode is skipped like the real modules."""
    result = run(fleet, "ansible.windows.win_command", {"_raw_params": "hostname"})
    assert result["changed"] and result["stdout"] == "MAYPHUONG\r\n" and result["rc"] == 0
    assert {"cmd", "start", "end", "delta", "stderr"} <= set(result)
    argv = run(fleet, "ansible.windows.win_command", {"argv": ["sc.exe", "query", "WinRM"]})
    assert "RUNNING" in argv["stdout"]
    failed = run(fleet, "ansible.windows.win_shell", {"_raw_params": "format C:"})
    assert (
        failed["failed"] and failed["msg"] == "non-zero return code" and "not simulated" in failed["stderr"]
    )
    skipped = run(fleet, "ansible.windows.win_command", {"_raw_params": "hostname"}, check_mode=True)
    assert skipped["skipped"] and "does not support check mode" in skipped["msg"]
    fleet.host(PC).files.write("C:\\done", b"", 0.0)
    creates = run(fleet, "ansible.windows.win_command", {"_raw_params": "hostname", "creates": "C:\\done"})
    assert creates["changed"] is False and creates["skipped"]


# --- probe ---------------------------------------------------------------------------------


def test_probe_returns_exactly_the_documented_keys(pc: Fleet) -> None:
    """Everything docs/architecture.md lists, and nothing changes."""
    result = run(
        pc,
        "agentroll.toolkit.win_agentroll_probe",
        {"agent_product_id": PRODUCT, "agent_service_name": "SnvAgent"},
    )
    assert set(result) == {
        "changed",
        "computer_name",
        "pending_computer_name",
        "os_caption",
        "os_build",
        "product_type",
        "architecture",
        "ram_mb",
        "system_drive",
        "system_size_mb",
        "system_free_mb",
        "powershell_version",
        "reboot_pending",
        "reboot_pending_reasons",
        "agent",
        "checkin",
        "simulated",
    }
    assert result["checkin"] is None  # the profile names no server nor last-contact place
    assert result["simulated"] is True
    assert result["changed"] is False and result["os_build"] == 19045 and result["system_drive"] == "C:"
    assert result["agent"] == {
        "installed": False,
        "product_id": None,
        "display_name": None,
        "version": None,
        "service_name": "SnvAgent",
        "service_state": "missing",
        "service_start_mode": None,
    }
    assert last_entry(pc)["mutated"] is False


def test_probe_after_install_and_rename(pc: Fleet) -> None:
    """The probe sees the agent, its service and the pending rename."""
    run(pc, "ansible.windows.win_package", {"path": INSTALLER_PATH})
    run(pc, "ansible.windows.win_hostname", {"name": "SNV-THANGPV"})
    result = run(
        pc,
        "agentroll.toolkit.win_agentroll_probe",
        {"agent_display_name": "SNV Monitoring Agent", "agent_service_name": "SnvAgent"},
    )
    assert result["computer_name"] == "MAYPHUONG" and result["pending_computer_name"] == "SNV-THANGPV"
    assert result["reboot_pending"] and result["reboot_pending_reasons"] == ["computer rename"]
    assert result["agent"] == {
        "installed": True,
        "product_id": PRODUCT,
        "display_name": "SNV Monitoring Agent",
        "version": "7.4.1",
        "service_name": "SnvAgent",
        "service_state": "running",
        "service_start_mode": "auto",
    }


def test_probe_without_product_counts_the_service(pc: Fleet) -> None:
    """With only a service name, an existing service means installed."""
    run(pc, "ansible.windows.win_package", {"path": INSTALLER_PATH})
    agent = run(pc, "agentroll.toolkit.win_agentroll_probe", {"agent_service_name": "SnvAgent"})["agent"]
    assert agent["installed"] and agent["product_id"] is None
    assert run(pc, "agentroll.toolkit.win_agentroll_probe")["agent"]["installed"] is False


def test_probe_warns_and_leaves_unknown_what_a_failing_query_would_have_told(pc: Fleet) -> None:
    """failing_queries: each failed query is a warning naming it, and its fields are null, not guessed."""
    run(pc, "ansible.windows.win_package", {"path": INSTALLER_PATH})
    pc.set_faults(PC, failing_queries=["computer_system", "disk", "os_product_type", "products", "service"])
    result = run(
        pc,
        "agentroll.toolkit.win_agentroll_probe",
        {"agent_product_id": PRODUCT, "agent_service_name": "SnvAgent"},
    )
    assert result["warnings"] == [
        "the computer name is read from the environment and RAM from Win32_OperatingSystem: "
        "the Win32_ComputerSystem query failed (Quota violation)",
        "the size and free space of C: are unknown: "
        "the Win32_LogicalDisk query (DeviceID='C:') failed (Quota violation)",
        "the product type is unknown: Win32_OperatingSystem gave ProductType ''",
        "whether the agent is installed is unknown: the uninstall registry keys could not be read "
        "(Requested registry access is not allowed.)",
        "the state and start mode of the agent service are unknown: "
        "the Win32_Service query (Name='SnvAgent') failed (Access denied)",
    ]
    assert (result["computer_name"], result["ram_mb"]) == ("MAYPHUONG", 8192)
    assert (result["system_size_mb"], result["system_free_mb"]) == (None, None)
    assert result["product_type"] == "unknown"
    assert result["agent"]["installed"] is None and result["agent"]["version"] is None
    assert (result["agent"]["service_state"], result["agent"]["service_start_mode"]) == (None, None)


def test_probe_by_service_alone_cannot_tell_installed_when_the_service_query_fails(pc: Fleet) -> None:
    """Without a product id the service decides; a failed service query leaves installed unknown."""
    pc.set_faults(PC, failing_queries=["service"])
    agent = run(pc, "agentroll.toolkit.win_agentroll_probe", {"agent_service_name": "SnvAgent"})["agent"]
    assert agent["installed"] is None and agent["service_state"] is None


def test_probe_has_no_warnings_key_when_every_query_answers(pc: Fleet) -> None:
    assert "warnings" not in run(pc, "agentroll.toolkit.win_agentroll_probe", {"agent_service_name": "WinRM"})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (["dsik"], "fault 'failing_queries' has unknown query 'dsik'; queries: computer_system, disk,"),
        ("disk", "fault 'failing_queries' must be a list of query names, got 'disk'"),
    ],
)
def test_failing_queries_rejects_what_it_does_not_know(fleet: Fleet, value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        fleet.set_faults(PC, failing_queries=value)


def test_setup_reads_the_dns_host_name_and_the_netbios_name_apart(clock: FakeClock) -> None:
    """dns_hostname: setup's ansible_hostname is the DNS name, the probe's computer name the NetBIOS one;
    a rename sets both again."""
    fleet = Fleet.from_mapping(
        {
            "credentials": {"username": "agentroll", "password": "pw"},
            "defaults": {"boot_seconds": 1},
            "hosts": [
                {"address": PC, "computer_name": "PHONG-KE-TOAN-M", "dns_hostname": "phong-ke-toan-may-01"}
            ],
        },
        clock=clock,
    )
    facts = run(fleet, "ansible.windows.setup")["ansible_facts"]
    assert facts["ansible_hostname"] == "phong-ke-toan-may-01"
    assert facts["ansible_netbios_name"] == "PHONG-KE-TOAN-M"
    assert run(fleet, "agentroll.toolkit.win_agentroll_probe")["computer_name"] == "PHONG-KE-TOAN-M"
    run(fleet, "ansible.windows.win_hostname", {"name": "KT-THANGPV"})
    fleet.host(PC).schedule_reboot(0)
    clock.advance(2)
    facts = run(fleet, "ansible.windows.setup")["ansible_facts"]
    assert (facts["ansible_hostname"], facts["ansible_netbios_name"]) == ("KT-THANGPV", "KT-THANGPV")


def test_setup_reboot_pending_checks_only_what_setup_ps1_checks(pc: Fleet) -> None:
    """setup.ps1 looks at file renames and component servicing, not at a pending rename."""
    run(pc, "ansible.windows.win_hostname", {"name": "SNV-THANGPV"})
    assert run(pc, "ansible.windows.setup")["ansible_facts"]["ansible_reboot_pending"] is False
    pc.host(PC).add_reboot_reason("pending file rename operations")
    assert run(pc, "ansible.windows.setup")["ansible_facts"]["ansible_reboot_pending"] is True


# --- Windows 7 -----------------------------------------------------------------------------


def test_windows7_modules_fail_like_the_real_bootstrap(fleet: Fleet) -> None:
    """PowerShell 2.0: every bootstrapped command prints ansible-core's version message, rc 1."""
    for payload in (
        module_payload("ansible.windows.win_ping"),
        module_payload("agentroll.toolkit.win_agentroll_probe"),
        put_file_payload("C:\\x", b"x"),
        golden("maketempdir"),
    ):
        answer = fleet.execute(WIN7, *payload)
        assert answer.rc == 1 and answer.stdout.strip() == BOOTSTRAP_TOO_OLD.encode()
    assert "PowerShell v5.1" in json.loads(BOOTSTRAP_TOO_OLD)["msg"]
    assert not fleet.host(WIN7).files.exists("C:\\x")


def test_windows7_raw_still_works(fleet: Fleet) -> None:
    """raw is not bootstrapped, so it answers; PowerShell 2.0 has no Get-CimInstance for win_reboot."""
    answer = fleet.execute(WIN7, encoded_command("hostname"), b"")
    assert answer.rc == 0 and answer.stdout == b"KETOAN-PC\r\n"
    assert (
        fleet.execute(WIN7, encoded_command("$PSVersionTable.PSVersion.ToString()"), b"").stdout == b"2.0\r\n"
    )
    assert boot_time(fleet, WIN7).rc == 1


# --- faults and journal --------------------------------------------------------------------


def test_fail_on_call_fails_the_nth_module_invocation(fleet: Fleet) -> None:
    """Only the Nth module run fails, with an RPC error; others are unaffected."""
    fleet.set_faults(PC, fail_on_call=2)
    assert run(fleet, "ansible.windows.win_ping")["ping"] == "pong"
    second = run(fleet, "ansible.windows.win_ping")
    assert second["failed"] and "The RPC server is unavailable" in second["msg"]
    assert run(fleet, "ansible.windows.win_ping")["ping"] == "pong"


def test_journal_redacts_secrets_and_honours_no_log(fleet: Fleet) -> None:
    """Secret-looking keys are masked; no_log drops the args; _ansible_* keys never appear."""
    run(fleet, "ansible.windows.win_service", {"name": "WinRM", "username": "svc", "password": "hunter2"})
    entry = last_entry(fleet)
    assert entry["args"] == {"name": "WinRM", "username": "svc", "password": "********"}
    assert entry["kind"] == "module" and entry["module"] == "ansible.windows.win_service"
    run(fleet, "ansible.windows.win_ping", {"data": "token-123"}, no_log=True)
    entry = last_entry(fleet)
    assert entry["args"] is None and entry["no_log"] is True
    assert "hunter2" not in json.dumps(fleet.journal(PC))
    assert [e["seq"] for e in fleet.journal(PC)] == [1, 2]
    assert {
        "seq",
        "time",
        "kind",
        "module",
        "args",
        "changed",
        "failed",
        "rc",
        "duration_ms",
        "mutated",
    } <= set(entry)


def test_journal_kinds_for_transfers(fleet: Fleet) -> None:
    """Non-module commands are journalled by kind."""
    fleet.execute(PC, *golden("maketempdir"))
    fleet.execute(PC, encoded_command("hostname"), b"")
    assert [e["kind"] for e in fleet.journal(PC)] == ["mkdtemp", "raw"]


def test_one_host_serialises_commands(fleet: Fleet) -> None:
    """Concurrent commands on one host are answered one at a time; none is lost."""
    payload = module_payload("ansible.windows.win_ping")
    threads = [
        threading.Thread(target=lambda: [fleet.execute(PC, *payload) for _ in range(20)]) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert fleet.host(PC).call_count == 80
    assert [e["seq"] for e in fleet.journal(PC)] == list(range(1, 81))


CHECK_MODE_RUNS = [
    ("ansible.windows.win_hostname", {"name": "OTHER"}),
    ("ansible.windows.win_package", {"path": INSTALLER_PATH}),
    ("ansible.windows.win_package", {"product_id": "{OLD}", "state": "absent"}),
    ("ansible.windows.win_file", {"path": "C:\\new", "state": "directory"}),
    ("ansible.windows.win_file", {"path": "C:\\Windows\\Temp", "state": "absent"}),
    ("ansible.windows.win_file", {"path": "C:\\t.txt", "state": "touch"}),
    ("ansible.windows.win_service", {"name": "WinRM", "state": "stopped", "start_mode": "disabled"}),
    ("ansible.windows.win_service", {"name": "New", "path": "C:\\n.exe"}),
    ("ansible.windows.win_service", {"name": "WinRM", "state": "absent"}),
    ("ansible.windows.win_copy", {"dest": "C:\\a.txt", "src": INSTALLER_PATH, "_copy_mode": "remote"}),
    ("ansible.windows.win_command", {"_raw_params": "hostname"}),
    ("agentroll.toolkit.win_agentroll_probe", {}),
    ("ansible.windows.setup", {}),
]


@pytest.mark.parametrize(("module", "args"), CHECK_MODE_RUNS)
def test_check_mode_never_mutates(pc: Fleet, module: str, args: dict[str, Any]) -> None:
    """Whatever the module, check mode leaves the host's state digest unchanged."""
    pc.host(PC).add_product(Product("{OLD}", "Old", "1"))
    before = pc.host(PC).digest()
    result = run(pc, module, args, check_mode=True)
    assert not result.get("failed"), result
    assert pc.host(PC).digest() == before
    assert last_entry(pc)["mutated"] is False


def test_async_runs_fail_loudly_and_become_is_transparent(fleet: Fleet) -> None:
    """async is not modelled (fails naming it); become_wrapper just runs the module."""
    async_run = fleet.execute(
        PC, *module_payload("ansible.windows.win_ping", wrappers=("async_wrapper.ps1",))
    )
    assert async_run.rc == 1 and b"async runs are not simulated" in async_run.stdout
    become = fleet.execute(PC, *module_payload("ansible.windows.win_ping", wrappers=("become_wrapper.ps1",)))
    assert json.loads(become.stdout)["ping"] == "pong"


def test_journal_masks_secret_assignments_inside_strings(pc: Fleet) -> None:
    """An agent registration key passed in installer arguments never reaches the journal."""
    args = {"path": INSTALLER_PATH, "arguments": "/qn REGKEY=Xy12-secret SERVER=siem.local"}
    run(pc, "ansible.windows.win_package", args)
    entry = last_entry(pc)
    assert entry["args"]["arguments"] == "/qn REGKEY=******** SERVER=siem.local"
    assert "Xy12" not in json.dumps(pc.journal(PC))


def test_probe_checks_in_from_the_pc(pc: Fleet) -> None:
    """The server answers unless the PC cannot reach it; the agent's last contact is now while it
    reports, and the value the fleet file gives once it cannot."""
    run(pc, "ansible.windows.win_package", {"path": INSTALLER_PATH})
    checkin_args = {
        "agent_service_name": "SnvAgent",
        "agent_server": "soc.example.gov.vn:8443",
        "agent_server_timeout_ms": 800,
        "agent_last_contact_file": "C:\\ProgramData\\SNV\\last-contact.txt",
    }
    reporting = run(pc, "agentroll.toolkit.win_agentroll_probe", checkin_args)["checkin"]
    assert (reporting["server"], reporting["reachable"], reporting["error"]) == (
        "soc.example.gov.vn:8443",
        True,
        None,
    )
    assert reporting["last_contact"].endswith("Z")
    host = pc.host(PC)
    host.agent_last_contact = datetime(2026, 11, 20, 8, 15, tzinfo=UTC)
    pc.set_faults(PC, server_unreachable=True)
    blocked = run(pc, "agentroll.toolkit.win_agentroll_probe", checkin_args)["checkin"]
    assert blocked == {
        "server": "soc.example.gov.vn:8443",
        "reachable": False,
        "error": "no answer within 800 ms",
        "last_contact": "2026-11-20T08:15:00Z",
    }
    assert last_entry(pc)["mutated"] is False
    # The server answers, but the agent does not report (a wrong key): its last contact stays old.
    pc.set_faults(PC, server_unreachable=False, agent_not_reporting=True)
    silent = run(pc, "agentroll.toolkit.win_agentroll_probe", checkin_args)["checkin"]
    assert (silent["reachable"], silent["last_contact"]) == (True, "2026-11-20T08:15:00Z")


def test_probe_warns_when_the_server_is_not_host_and_port(pc: Fleet) -> None:
    result = run(pc, "agentroll.toolkit.win_agentroll_probe", {"agent_server": "soc.example.gov.vn:99999"})
    assert result["checkin"] == {
        "server": "soc.example.gov.vn:99999",
        "reachable": None,
        "error": "'soc.example.gov.vn:99999' is not host:port",
        "last_contact": None,
    }
    assert result["warnings"] == [
        "the management server is not checked: 'soc.example.gov.vn:99999' is not host:port"
    ]


def test_a_host_posing_as_real_answers_the_probe_without_the_simulated_marker(pc: Fleet) -> None:
    pc.set_faults(PC, poses_as_real=True)
    result = run(pc, "agentroll.toolkit.win_agentroll_probe", {"agent_product_id": PRODUCT})
    assert "simulated" not in result and result["computer_name"]
