"""``agentroll sim``: up (foreground, SIGTERM), start/fault/journal/stop (background), inventory."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import winrm
import yaml

from agentroll.sim.cli import parse_faults
from agentroll.sim.control import ControlClient, process_alive, read_runtime
from agentroll.sim.testing import (
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    VENV_BIN,
    allocate_block,
    fleet_spec,
    release_block,
    relocate,
    run_ansible,
)

AGENTROLL = str(VENV_BIN / "agentroll")


@pytest.fixture
def block() -> Iterator[str]:
    """A loopback block for a fleet run by a separate process."""
    prefix = allocate_block()
    yield prefix
    release_block(prefix)


def write_fleet_file(directory: Path, block: str, count: int = 2, tls: bool = False) -> Path:
    """Write a fleet file of ``count`` hosts in ``block``."""
    spec, _ = relocate(fleet_spec(count), block)
    spec["tls"] = tls
    path = directory / "fleet.yml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


def sim(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``agentroll sim ARGS``."""
    command = [AGENTROLL, "sim", *args]
    environment = {**os.environ, **(env or {})}
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=environment)


def refused(address: str, port: int = 5985) -> bool:
    """Whether connecting to ``address:port`` is refused."""
    try:
        socket.create_connection((address, port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def wait_for(predicate: object, timeout: float = 20.0) -> None:
    """Poll ``predicate()`` until it is true or fail."""
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail("condition not reached in time")
        time.sleep(0.05)


def stop_for_sure(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``sim stop``; a fleet process it left alive is killed, so that no test leaves one behind."""
    stopped = sim("stop", env=env)
    info = read_runtime(Path(env["AGENTROLL_SIM_RUNTIME"]))
    if info is not None and process_alive(info.pid):
        os.kill(info.pid, signal.SIGKILL)
    return stopped


def test_parse_faults_reads_json_scalars() -> None:
    assert parse_faults(["refuse_connections=true", "slow_seconds=2.5", "fail_on_call=3", "x=abc"]) == {
        "refuse_connections": True,
        "slow_seconds": 2.5,
        "fail_on_call": 3,
        "x": "abc",
    }
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_faults(["refuse_connections"])


@pytest.mark.parametrize(("tls", "scheme", "port"), [(False, "http", 5985), (True, "https", 5986)])
def test_inventory_prints_the_connection_variables(
    tmp_path: Path, block: str, tls: bool, scheme: str, port: int
) -> None:
    fleet_file = write_fleet_file(tmp_path, block, tls=tls)

    result = sim("inventory", str(fleet_file), "--transport", "basic")

    assert result.returncode == 0, result.stderr
    inventory = yaml.safe_load(result.stdout)
    assert inventory["all"]["vars"] == {
        "ansible_connection": "winrm",
        "ansible_winrm_transport": "basic",
        "ansible_winrm_scheme": scheme,
        "ansible_port": port,
        "ansible_user": DEFAULT_USERNAME,
        "ansible_password": DEFAULT_PASSWORD,
        "ansible_winrm_server_cert_validation": "ignore",
        "agentroll_allow_insecure_transport": True,
        "agentroll_wake_port": 9009,
        "agentroll_reboot_delay": 0,
    }
    unit = inventory["all"]["children"]["units"]["children"]["sim"]
    assert unit["vars"] == {
        "agentroll_unit_code": "SIM",
        "agentroll_unit_name": "Simulated fleet",
        "agentroll_licenses": 2,
    }
    second = int(block.split(".")[1])
    assert list(unit["hosts"].values()) == [
        {"ansible_host": f"{block}.0.1", "agentroll_mac": f"02-00-7F-{second:02X}-00-01"},
        {"ansible_host": f"{block}.0.2", "agentroll_mac": f"02-00-7F-{second:02X}-00-02"},
    ]


@pytest.mark.integration
def test_up_serves_until_sigterm_then_stops_cleanly(tmp_path: Path, block: str) -> None:
    fleet_file = write_fleet_file(tmp_path, block)
    runtime = tmp_path / "runtime.json"
    address = f"{block}.0.1"
    process = subprocess.Popen(
        [AGENTROLL, "sim", "up", str(fleet_file), "--runtime-file", str(runtime)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(runtime.exists)
        session = winrm.Session(
            f"http://{address}:5985/wsman",
            auth=(DEFAULT_USERNAME, DEFAULT_PASSWORD),
            transport="ntlm",
            server_cert_validation="ignore",
        )
        assert session.run_cmd("hostname") is not None

        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert process.returncode == 0, stderr
    assert "stopped" in stdout
    assert not runtime.exists()
    assert refused(address)


@pytest.mark.integration
def test_start_fault_journal_stop(tmp_path: Path, block: str) -> None:
    fleet_file = write_fleet_file(tmp_path, block)
    env = {"AGENTROLL_SIM_RUNTIME": str(tmp_path / "runtime.json")}
    first, second = f"{block}.0.1", f"{block}.0.2"

    started = sim("start", str(fleet_file), env=env)
    try:
        assert started.returncode == 0, started.stderr
        control_url = started.stdout.strip()
        assert ControlClient(control_url).health()["hosts"] == 2
        assert "already running" in sim("start", str(fleet_file), env=env).stderr

        inventory = tmp_path / "hosts.yml"
        assert sim("inventory", str(fleet_file), "-o", str(inventory), env=env).returncode == 0
        pinged = run_ansible(["ansible", "all", "-m", "ansible.windows.win_ping"], inventory=inventory)
        assert pinged.returncode == 0, pinged.stdout + pinged.stderr

        faulted = sim("fault", first, "refuse_connections=true", env=env)
        assert faulted.returncode == 0, faulted.stderr
        assert json.loads(faulted.stdout)["listening"] is False
        assert refused(first)
        unknown = sim("fault", first, "no_such_fault=1", env=env)
        assert unknown.returncode == 2 and "no_such_fault" in unknown.stderr

        journal = sim("journal", second, env=env)
        assert journal.returncode == 0, journal.stderr
        assert [json.loads(line) for line in journal.stdout.splitlines()]

        switched_off = sim("power", second, "off", env=env)
        assert switched_off.returncode == 0, switched_off.stderr
        assert json.loads(switched_off.stdout) == {"address": second, "changed": True, "listening": False}
        assert refused(second)
        assert json.loads(sim("power", second, "off", env=env).stdout)["changed"] is False
        assert sim("power", second, "on", env=env).returncode == 0
        wait_for(lambda: not refused(second))  # once booted (boot_seconds)
        nowhere = sim("power", f"{block}.9.9", "on", env=env)
        assert nowhere.returncode == 2 and f"no simulated host at {block}.9.9" in nowhere.stderr
    finally:
        stopped = stop_for_sure(env)

    assert stopped.returncode == 0, stopped.stderr
    assert not Path(env["AGENTROLL_SIM_RUNTIME"]).exists()
    assert refused(second)
    again = sim("stop", env=env)
    assert again.returncode == 2 and "no fleet is running" in again.stderr


@pytest.mark.integration
def test_start_writes_the_ca_that_validates_the_fleet(tmp_path: Path, block: str) -> None:
    fleet_file = write_fleet_file(tmp_path, block, count=1, tls=True)
    env = {"AGENTROLL_SIM_RUNTIME": str(tmp_path / "runtime.json")}
    authority = tmp_path / "certificates" / "district-ca.pem"
    address = f"{block}.0.1"

    def ping(**trust: str) -> subprocess.CompletedProcess[str]:
        inventory = tmp_path / "validating.yml"
        host = {
            "ansible_host": address,
            "ansible_connection": "winrm",
            "ansible_winrm_transport": "ntlm",
            "ansible_winrm_scheme": "https",
            "ansible_port": 5986,
            "ansible_user": DEFAULT_USERNAME,
            "ansible_password": DEFAULT_PASSWORD,
            "ansible_winrm_server_cert_validation": "validate",
            **trust,
        }
        inventory.write_text(yaml.safe_dump({"all": {"hosts": {"pc": host}}}), encoding="utf-8")
        return run_ansible(["ansible", "all", "-m", "ansible.windows.win_ping"], inventory=inventory)

    started = sim("start", str(fleet_file), "--ca-cert", str(authority), env=env)
    try:
        assert started.returncode == 0, started.stderr
        assert authority.read_text(encoding="ascii").startswith("-----BEGIN CERTIFICATE-----")
        trusted = ping(ansible_winrm_ca_trust_path=str(authority))
        assert trusted.returncode == 0, trusted.stdout + trusted.stderr
        untrusted = ping()
        assert (
            untrusted.returncode == 4 and "CERTIFICATE_VERIFY_FAILED" in untrusted.stdout + untrusted.stderr
        )
    finally:
        stopped = stop_for_sure(env)
    assert stopped.returncode == 0, stopped.stderr


def test_ca_cert_of_a_plain_http_fleet_is_refused(tmp_path: Path, block: str) -> None:
    fleet_file = write_fleet_file(tmp_path, block, tls=False)
    env = {"AGENTROLL_SIM_RUNTIME": str(tmp_path / "runtime.json")}

    started = sim("start", str(fleet_file), "--ca-cert", str(tmp_path / "ca.pem"), env=env)

    assert started.returncode == 2
    assert started.stderr == (
        f"agentroll: error: --ca-cert: {fleet_file} serves plain HTTP (tls: false), no certificate\n"
    )
    assert not (tmp_path / "runtime.json").exists() and not (tmp_path / "ca.pem").exists()
