"""The real Ansible (winrm plugin, pywinrm) against the simulated fleet's WS-Management transport."""

from __future__ import annotations

import resource
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
import winrm
from winrm.exceptions import WSManFaultError

from agentroll.sim.server import FleetServer
from agentroll.sim.testing import (
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    FleetHandle,
    allocate_block,
    fleet_spec,
    release_block,
    run_ansible,
    running_fleet,
)
from agentroll.sim.types import CommandResult, ConnectionPolicy
from agentroll.sim.wsman import CODE_OPERATION_TIMEOUT, CODE_SHELL_NOT_FOUND, RECEIVE_CHUNK_BYTES

pytestmark = pytest.mark.integration


def win_ping(inventory: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run ``ansible all -m ansible.windows.win_ping``."""
    return run_ansible(["ansible", "all", "-m", "ansible.windows.win_ping", *extra], inventory=inventory)


def outcome_lines(result: subprocess.CompletedProcess[str], word: str) -> list[str]:
    """Return the ``host | WORD`` lines of ad-hoc output."""
    return [line for line in result.stdout.splitlines() if f"| {word}" in line]


def test_win_ping_over_basic(http_fleet: FleetHandle, inventory_for: Callable[..., Path]) -> None:
    inventory = inventory_for(http_fleet, http_fleet.addresses[:2], "basic")
    before = len(http_fleet.journal(http_fleet.addresses[0]))

    result = win_ping(inventory)

    assert result.returncode == 0, result.stdout + result.stderr
    assert len(outcome_lines(result, "SUCCESS")) == 2
    assert '"ping": "pong"' in result.stdout
    assert len(http_fleet.journal(http_fleet.addresses[0])) > before


def test_win_ping_over_ntlm_uses_message_encryption(
    http_fleet: FleetHandle, inventory_for: Callable[..., Path]
) -> None:
    inventory = inventory_for(http_fleet, http_fleet.addresses[:2], "ntlm")
    encrypted_before = http_fleet.server.stats.encrypted_requests

    result = win_ping(inventory)

    assert result.returncode == 0, result.stdout + result.stderr
    assert len(outcome_lines(result, "SUCCESS")) == 2
    # Create, Command, Send, Receive, Signal, Delete per host: all of them sealed.
    assert http_fleet.server.stats.encrypted_requests - encrypted_before >= 2 * 6


@pytest.mark.parametrize("transport", ["ntlm", "basic"])
def test_win_ping_over_https(
    tls_fleet: FleetHandle, inventory_for: Callable[..., Path], transport: str
) -> None:
    inventory = inventory_for(tls_fleet, tls_fleet.addresses, transport)

    result = win_ping(inventory)

    assert tls_fleet.connection_vars()["ansible_winrm_scheme"] == "https"
    assert tls_fleet.server.port == 5986
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(outcome_lines(result, "SUCCESS")) == 2


def test_connection_refused(http_fleet: FleetHandle, inventory_for: Callable[..., Path]) -> None:
    address = http_fleet.addresses[2]
    inventory = inventory_for(http_fleet, [address], "basic")
    http_fleet.set_faults(address, refuse_connections=True)
    try:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((address, 5985), timeout=2).close()
        result = win_ping(inventory)
    finally:
        http_fleet.set_faults(address, refuse_connections=False)

    assert result.returncode == 4, result.stdout + result.stderr
    assert outcome_lines(result, "UNREACHABLE!")
    assert "refused" in result.stdout.lower()
    socket.create_connection((address, 5985), timeout=2).close()


def test_connection_dropped(http_fleet: FleetHandle, inventory_for: Callable[..., Path]) -> None:
    address = http_fleet.addresses[3]
    inventory = inventory_for(http_fleet, [address], "ntlm")
    dropped_before = http_fleet.server.stats.dropped
    http_fleet.set_faults(address, drop_connections=True)
    try:
        result = win_ping(inventory)
    finally:
        http_fleet.set_faults(address, drop_connections=False)

    assert result.returncode == 4, result.stdout + result.stderr
    assert outcome_lines(result, "UNREACHABLE!")
    assert "without response" in result.stdout or "aborted" in result.stdout.lower()
    assert http_fleet.server.stats.dropped > dropped_before
    assert win_ping(inventory).returncode == 0


def test_slow_command_is_served_through_operation_timeouts(
    http_fleet: FleetHandle, inventory_for: Callable[..., Path]
) -> None:
    address = http_fleet.addresses[1]
    inventory = inventory_for(
        http_fleet,
        [address],
        "basic",
        ansible_winrm_operation_timeout_sec=1,
        ansible_winrm_read_timeout_sec=5,
    )
    timeouts_before = http_fleet.server.stats.faults.get(str(CODE_OPERATION_TIMEOUT), 0)
    http_fleet.set_faults(address, slow_seconds=2.5)
    try:
        started = time.monotonic()
        result = win_ping(inventory)
        elapsed = time.monotonic() - started
    finally:
        http_fleet.set_faults(address, slow_seconds=0)

    assert result.returncode == 0, result.stdout + result.stderr
    assert elapsed >= 2.5
    timeouts = http_fleet.server.stats.faults.get(str(CODE_OPERATION_TIMEOUT), 0) - timeouts_before
    assert timeouts >= 2, "the client should have retried Receive after operation timeouts"


def test_host_going_down_resets_its_open_connections(http_fleet: FleetHandle) -> None:
    address = http_fleet.addresses[2]
    protocol = winrm.Protocol(
        http_fleet.server.endpoint(address),
        transport="ntlm",
        username=DEFAULT_USERNAME,
        password=DEFAULT_PASSWORD,
        server_cert_validation="ignore",
    )
    shell_id = protocol.open_shell()
    http_fleet.set_faults(address, refuse_connections=True)
    try:
        with pytest.raises(requests.exceptions.ConnectionError):
            protocol.run_command(shell_id, "hostname")
    finally:
        http_fleet.set_faults(address, refuse_connections=False)
    protocol.transport.close_session()
    assert protocol.open_shell() != shell_id


class BigOutputFleet:
    """A one-host fleet whose only command prints more than one Receive can carry."""

    tls = False

    def __init__(self, address: str, size: int) -> None:
        self.address = address
        self.output = bytes(index % 251 for index in range(size))
        self.wake_on_lan_port = None

    def addresses(self) -> list[str]:
        return [self.address]

    def credentials_for(self, address: str) -> tuple[str, str]:
        return DEFAULT_USERNAME, DEFAULT_PASSWORD

    def connection_policy(self, address: str) -> ConnectionPolicy:
        return ConnectionPolicy()

    def execute(self, address: str, command_line: str, stdin: bytes) -> CommandResult:
        return CommandResult(self.output, b"warning\r\n", 3)


def test_pywinrm_protocol_details() -> None:
    """Large output spans several Receives; Signal/Delete relate to the request; bad shells fault."""
    block = allocate_block()
    try:
        fleet = BigOutputFleet(f"{block}.0.1", 3 * RECEIVE_CHUNK_BYTES + 17)
        with FleetServer(fleet) as server:
            protocol = winrm.Protocol(
                server.endpoint(fleet.address),
                transport="ntlm",
                username=DEFAULT_USERNAME,
                password=DEFAULT_PASSWORD,
                server_cert_validation="ignore",
            )
            shell_id = protocol.open_shell(codepage=65001)
            command_id = protocol.run_command(shell_id, "cmd.exe", ["/c", "type", "big.bin"])
            stdout, stderr, rc = protocol.get_command_output(shell_id, command_id)
            protocol.cleanup_command(shell_id, command_id)  # asserts RelatesTo
            protocol.close_shell(shell_id)  # asserts RelatesTo

            assert (stdout, stderr, rc) == (fleet.output, b"warning\r\n", 3)
            assert server.stats.encrypted_requests >= 8
            with pytest.raises(WSManFaultError) as fault:
                protocol.run_command(shell_id, "whoami")
            assert fault.value.wsman_fault_code == CODE_SHELL_NOT_FOUND
            assert fault.value.code == 500
    finally:
        release_block(block)


def cpu_seconds(usage: resource.struct_rusage) -> float:
    """Return user + system CPU seconds of a getrusage() result."""
    return usage.ru_utime + usage.ru_stime


@pytest.mark.slow
def test_two_hundred_hosts_in_one_playbook(tmp_path: Path) -> None:
    playbook = tmp_path / "ping.yml"
    playbook.write_text(
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.windows.win_ping:\n",
        encoding="utf-8",
    )
    with running_fleet(fleet_spec(200), transport="basic") as handle:
        inventory = handle.write_inventory(tmp_path)
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        self_before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.monotonic()
        result = run_ansible(["ansible-playbook", "--forks", "10", str(playbook)], inventory=inventory)
        wall = time.monotonic() - started
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        self_after = resource.getrusage(resource.RUSAGE_SELF)
        peak = handle.server.stats.peak_connections

    controller_cpu = cpu_seconds(children) - cpu_seconds(children_before)
    fleet_cpu = cpu_seconds(self_after) - cpu_seconds(self_before)
    print(
        f"\n200 hosts, win_ping, forks 10: wall {wall:.1f} s, controller CPU {controller_cpu:.1f} s "
        f"({1000 * controller_cpu / 200:.0f} ms/host), fleet CPU {fleet_cpu:.1f} s, "
        f"peak live connections {peak}"
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.count("ok=1 ") == 200
