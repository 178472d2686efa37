"""The fleet file loader: defaults, overrides, validation messages, the seam's basics, capture mode."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from payloads import module_payload

from agentroll.sim.clock import FakeClock
from agentroll.sim.fleet import CAPTURE_ENV, Fleet, FleetFileError

EXAMPLE = Path(__file__).resolve().parents[2] / "agentroll" / "sim" / "example-fleet.yml"


def spec(**host: object) -> dict[str, object]:
    """Return a one-host fleet spec with ``host`` keys added."""
    return {
        "credentials": {"username": "agentroll", "password": "pw"},
        "hosts": [{"address": "127.9.0.1", **host}],
    }


def test_example_fleet_file_loads() -> None:
    """The documented example is valid."""
    fleet = Fleet.from_file(EXAMPLE, clock=FakeClock())
    assert len(fleet.addresses()) >= 3
    assert all(fleet.credentials_for(a)[0] for a in fleet.addresses())


def test_defaults_apply_and_hosts_override_key_by_key() -> None:
    """A host's os/system_drive mappings merge over the defaults one key at a time."""
    fleet = Fleet.from_mapping(
        {
            "credentials": {"username": "agentroll", "password": "pw"},
            "tls": True,
            "defaults": {"os": {"caption": "Microsoft Windows 10 Pro", "build": 19045}, "ram_mb": 4096},
            "hosts": [
                {"address": "127.9.0.1", "computer_name": "A"},
                {
                    "address": "127.9.0.2",
                    "os": {"caption": "Microsoft Windows 7 Professional", "build": 7601},
                    "ram_mb": 1024,
                    "credentials": {"password": "other"},
                    "system_drive": {"free_mb": 10},
                },
            ],
        },
        clock=FakeClock(),
    )
    first, second = fleet.host("127.9.0.1"), fleet.host("127.9.0.2")
    assert fleet.tls
    assert (first.os_build, first.ram_mb, first.computer_name) == (19045, 4096, "A")
    assert (second.os_caption, second.os_build, second.ram_mb) == (
        "Microsoft Windows 7 Professional",
        7601,
        1024,
    )
    assert fleet.credentials_for("127.9.0.2") == ("agentroll", "other")
    assert second.system_free_mb == 10 and second.system_size_mb == 256000


def test_products_services_files_and_pending_state() -> None:
    """Installed products, services, files, a pending rename and pending reboot reasons load."""
    fleet = Fleet.from_mapping(
        spec(
            products=[{"id": "{A}", "name": "Agent", "version": "1.0"}],
            services=[{"name": "Agent", "state": "stopped", "start_mode": "manual"}],
            files={"C:\\setup.msi": {"agentroll_sim_installer": 1}, "C:\\readme.txt": "hi"},
            pending_computer_name="NEW",
            reboot_pending=["windows update"],
        ),
        clock=FakeClock(),
    )
    host = fleet.host("127.9.0.1")
    assert host.find_product("{a}").name == "Agent"
    assert host.find_service("agent").state == "stopped"
    assert json.loads(host.files.read("c:\\SETUP.msi")) == {"agentroll_sim_installer": 1}
    assert host.pending_computer_name == "NEW"
    assert host.reboot_reasons == ["computer rename", "windows update"]
    assert host.files.is_dir("C:\\Windows\\Temp")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**spec(), "colour": "blue"}, "fleet file: unknown key 'colour'"),
        (spec(ram=1), "host 127.9.0.1: unknown key 'ram'"),
        (spec(os={"edition": "Pro"}), "host 127.9.0.1: os: unknown key 'edition'"),
        (spec(faults={"explode": True}), "host 127.9.0.1: faults: unknown fault 'explode'"),
        (spec(ram_mb="lots"), "host 127.9.0.1: ram_mb: must be an integer"),
        (spec(address="pc-01"), "host pc-01: address must be an IP address"),
        (spec(architecture="mips"), "host 127.9.0.1: architecture must be one of"),
        (spec(services=[{"name": "x", "state": "paused"}]), "host 127.9.0.1: services: state must be one of"),
        (spec(products=[{"name": "x"}]), "host 127.9.0.1: products: missing key 'id'"),
        (spec(powershell_version="five"), "host 127.9.0.1: powershell_version"),
        (
            spec(agent_last_contact="yesterday"),
            "host 127.9.0.1: agent_last_contact: 'yesterday' is not a time",
        ),
        (spec(faults={"server_unreachable": "yes"}), "fault 'server_unreachable' must be true or false"),
        (spec(boot_seconds=-1), "host 127.9.0.1: boot_seconds: must be a number of seconds >= 0, got -1"),
        (spec(shutdown_delay_seconds="soon"), "host 127.9.0.1: shutdown_delay_seconds: must be a number"),
        (
            {"credentials": {"username": "u", "password": "p"}, "hosts": [{"computer_name": "X"}]},
            "missing key 'address'",
        ),
        ({"hosts": [{"address": "127.9.0.1"}]}, "credentials need a username and a password"),
        ({"credentials": {"username": "u", "password": "p"}, "hosts": []}, "hosts: must be a non-empty list"),
        ({**spec(), "defaults": {"hostname": "x"}}, "defaults: unknown key 'hostname'"),
    ],
)
def test_invalid_fleet_files_fail_with_one_line_naming_host_and_key(
    data: dict[str, object], message: str
) -> None:
    """Every validation error is one line that names where the problem is."""
    with pytest.raises(FleetFileError) as caught:
        Fleet.from_mapping(data)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_duplicate_address_is_named() -> None:
    """Two hosts on one address fail naming the address."""
    data = spec()
    data["hosts"] = [{"address": "127.9.0.1"}, {"address": "127.9.0.1"}]
    with pytest.raises(FleetFileError, match=r"duplicate host address 127\.9\.0\.1"):
        Fleet.from_mapping(data)


def test_from_file_prefixes_the_path(tmp_path: Path) -> None:
    """Errors from a file name the file; broken YAML is one line too."""
    bad = tmp_path / "fleet.yml"
    bad.write_text("hosts: [\n", encoding="utf-8")
    with pytest.raises(FleetFileError, match=r"fleet\.yml: not valid YAML"):
        Fleet.from_file(bad)


def test_unknown_address_and_set_faults_validation() -> None:
    """The seam names unknown hosts and unknown faults."""
    fleet = Fleet.from_mapping(spec(), clock=FakeClock())
    with pytest.raises(KeyError, match=r"127\.9\.9\.9"):
        fleet.host("127.9.9.9")
    with pytest.raises(ValueError, match="unknown fault 'melt'"):
        fleet.set_faults("127.9.0.1", melt=True)
    fleet.set_faults("127.9.0.1", refuse_connections=True, slow_seconds=0.5)
    policy = fleet.connection_policy("127.9.0.1")
    assert policy.refuse and policy.slow_seconds == 0.5


def test_capture_mode_writes_each_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """AGENTROLL_SIM_CAPTURE=DIR stores every (command_line, stdin) pair as gzip'd JSON."""
    monkeypatch.setenv(CAPTURE_ENV, str(tmp_path))
    fleet = Fleet.from_mapping(spec(), clock=FakeClock())
    command_line, stdin = module_payload("ansible.windows.win_ping")
    fleet.execute("127.9.0.1", command_line, stdin)
    (captured,) = tmp_path.iterdir()
    payload = json.loads(gzip.decompress(captured.read_bytes()))
    assert payload["address"] == "127.9.0.1"
    assert payload["command_line"] == command_line
