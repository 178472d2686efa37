"""The host model: paths, files, faults, the reboot lifecycle, the digest and connection policy."""

from __future__ import annotations

import pytest

from agentroll.sim.clock import FakeClock
from agentroll.sim.host import (
    Faults,
    FileSystem,
    Product,
    Service,
    SimHost,
    canonical_path,
    normalize_path,
    parent_path,
)


def make_host(clock: FakeClock | None = None, **fields: object) -> SimHost:
    """Return a host on a fake clock, booted at the clock's start."""
    clock = clock or FakeClock()
    host = SimHost(
        address="127.1.0.1", computer_name="PC1", username="u", password="p", clock=clock, **fields
    )
    host.boot_time = clock.now()
    return host


@pytest.mark.parametrize(
    ("path", "canonical"),
    [
        ("C:/Temp//x/", "C:\\Temp\\x"),
        ("C:\\Temp\\.\\x\\..\\y", "C:\\Temp\\y"),
        ("c:", "c:\\"),
        ("C:\\", "C:\\"),
    ],
)
def test_paths_are_canonical_windows_paths(path: str, canonical: str) -> None:
    """Slashes, doubled separators, '.', '..' and trailing separators do not matter."""
    assert canonical_path(path) == canonical
    assert normalize_path(path) == canonical.lower()


def test_parent_path() -> None:
    """A drive root has no parent; a top folder's parent is the root."""
    assert parent_path("C:\\a\\b.txt") == "C:\\a"
    assert parent_path("C:\\a") == "C:\\"
    assert parent_path("C:\\") is None


def test_file_system_is_case_insensitive_and_creates_parents() -> None:
    """Files are found whatever the case; writing creates the parent folders."""
    files = FileSystem()
    files.write("C:\\Agent\\Setup.MSI", b"data", 1.0)
    assert files.read("c:/agent/setup.msi") == b"data"
    assert files.is_dir("C:\\AGENT")
    assert files.exists("C:\\")
    assert files.get("c:\\agent\\setup.msi").path == "C:\\Agent\\Setup.MSI"
    assert files.remove("c:\\agent")
    assert not files.exists("C:\\Agent\\Setup.MSI")
    assert not files.remove("c:\\agent")


def test_faults_are_validated() -> None:
    """Unknown fault names and wrongly typed values are refused, naming them."""
    faults = Faults()
    with pytest.raises(ValueError, match="unknown fault 'explode'"):
        faults.update(explode=True)
    with pytest.raises(ValueError, match="slow_seconds"):
        faults.update(slow_seconds=-1)
    with pytest.raises(ValueError, match="installer_exit_code"):
        faults.update(installer_exit_code="1603")
    with pytest.raises(ValueError, match="fail_on_call"):
        faults.update(fail_on_call=0)
    with pytest.raises(ValueError, match="disk_full"):
        faults.update(disk_full="yes")
    faults.update(slow_seconds=2, installer_exit_code=1603, disk_full=True)
    assert faults.slow_seconds == 2.0 and faults.installer_exit_code == 1603 and faults.disk_full


def test_reboot_lifecycle_with_the_fake_clock() -> None:
    """Up during the delay, refused while down, then back with a new boot time and renamed."""
    clock = FakeClock()
    host = make_host(clock, boot_seconds=30.0)
    host.pending_computer_name = "NEWNAME"
    host.add_reboot_reason("computer rename")
    host.add_service(Service("Agent", "Agent", state="stopped", start_mode="auto"))
    host.add_service(Service("Manual", "Manual", state="stopped", start_mode="manual"))
    booted = host.boot_time
    host.schedule_reboot(2)
    assert not host.connection_policy().refuse
    clock.advance(2)
    assert host.connection_policy().refuse
    clock.advance(29)
    assert host.connection_policy().refuse
    assert host.computer_name == "PC1"
    clock.advance(1)
    assert not host.connection_policy().refuse
    assert host.computer_name == "NEWNAME"
    assert host.pending_computer_name is None
    assert not host.reboot_pending
    assert host.boot_time == booted + 32
    assert host.services["agent"].state == "running"
    assert host.services["manual"].state == "stopped"


def test_reboot_that_never_returns_stays_refused() -> None:
    """With reboot_never_returns the host stays down, whatever the time."""
    clock = FakeClock()
    host = make_host(clock)
    host.faults.update(reboot_never_returns=True)
    host.schedule_reboot(0)
    clock.advance(10_000)
    assert host.connection_policy().refuse
    assert host.is_down()


def test_connection_policy_follows_faults() -> None:
    """Connection faults map onto the transport's policy."""
    host = make_host()
    host.faults.update(
        refuse_connections=True, drop_connections=True, reject_credentials=True, slow_seconds=1.5
    )
    policy = host.connection_policy()
    assert (policy.refuse, policy.drop, policy.reject_credentials, policy.slow_seconds) == (
        True,
        True,
        True,
        1.5,
    )


def test_digest_changes_with_state_only() -> None:
    """The digest moves when state changes and not when nothing does."""
    host = make_host()
    before = host.digest()
    assert host.digest() == before
    host.add_product(Product("{ABC}", "Agent", "1.0"))
    after_install = host.digest()
    assert after_install != before
    host.call_count += 5  # bookkeeping is not state
    assert host.digest() == after_install


def test_products_compare_ids_without_case_or_braces() -> None:
    """MSI product codes match whatever their case and braces; removal takes the services along."""
    host = make_host()
    host.add_product(Product("{6F1A2B3C-AAAA}", "Agent", "1.0"))
    host.add_service(Service("Agent", "Agent", product_id="{6F1A2B3C-AAAA}"))
    assert host.find_product("6f1a2b3c-aaaa") is not None
    host.remove_product("{6F1A2B3C-aaaa}")
    assert host.find_product("{6F1A2B3C-AAAA}") is None
    assert host.find_service("agent") is None


def test_versions_and_manageability() -> None:
    """Ansible needs PowerShell 5.1; the NT version follows the build."""
    assert make_host().ansible_can_manage
    old = make_host(powershell_version="2.0", os_build=7601)
    assert not old.ansible_can_manage
    assert old.os_version == "6.1.7601"
    assert make_host(os_build=22631).os_version == "10.0.22631"


def test_free_space_drops_with_files_and_disk_full() -> None:
    """Free bytes shrink with written files and are zero with disk_full."""
    host = make_host(system_free_mb=1)
    host.files.write("C:\\big", b"x" * 524288, 0.0)
    assert host.free_bytes() == 524288
    host.faults.update(disk_full=True)
    assert host.free_bytes() == 0
