"""Power state, Wake-on-LAN and the users' on/off schedules of the simulated PCs."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator

import pytest

from agentroll.mac import normalize_mac
from agentroll.sim.clock import FakeClock
from agentroll.sim.fleet import DEFAULT_WAKE_ON_LAN_PORT, Fleet, FleetFileError
from agentroll.sim.host import default_mac
from agentroll.sim.testing import FleetHandle, fleet_spec, running_fleet
from agentroll.sim.wol import magic_packet_macs, subnet_broadcast

MAC = "52-54-00-AB-CD-EF"
MAC_BYTES = bytes.fromhex("525400ABCDEF")


def spec(**host: object) -> dict[str, object]:
    """A two-host fleet spec; the first host gets ``host`` keys."""
    return {
        "credentials": {"username": "agentroll", "password": "pw"},
        "defaults": {"boot_seconds": 30},
        "hosts": [{"address": "127.9.0.1", **host}, {"address": "127.9.0.2"}],
    }


def send_magic_packet(mac: str, address: str, port: int, repeats: int = 16) -> None:
    """Send a magic packet for ``mac`` to ``address:port`` (a host's own address or a subnet's .255)."""
    payload = b"\xff" * 6 + bytes.fromhex(mac.replace("-", "")) * repeats
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(payload, (address, port))


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll ``predicate`` until true; False when it never became true."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


# --- the magic packet ------------------------------------------------------------------------


def test_a_magic_packet_is_six_ff_and_sixteen_times_the_mac_anywhere_in_the_payload() -> None:
    assert magic_packet_macs(b"\xff" * 6 + MAC_BYTES * 16) == [MAC]
    # community.general.wakeonlan repeats the MAC twenty times; some tools prefix a header.
    assert magic_packet_macs(b"\xff" * 6 + MAC_BYTES * 20) == [MAC]
    assert magic_packet_macs(b"header" + b"\xff" * 9 + MAC_BYTES * 16 + b"trailer") == [MAC]
    starting_with_ff = bytes.fromhex("FF0011223344")
    assert magic_packet_macs(b"\xff" * 6 + starting_with_ff * 16) == ["FF-00-11-22-33-44"]


@pytest.mark.parametrize(
    "payload",
    [
        b"\xff" * 6 + MAC_BYTES * 15,  # one repetition short
        b"\xff" * 5 + MAC_BYTES * 16,  # sync stream one byte short
        MAC_BYTES * 17,  # no sync stream
        b"\xff" * 6 + MAC_BYTES * 8 + bytes.fromhex("525400ABCDEE") + MAC_BYTES * 7,  # one wrong copy
        b"",
    ],
)
def test_anything_else_is_no_magic_packet(payload: bytes) -> None:
    assert magic_packet_macs(payload) == []


def test_macs_are_normalised_and_derived_from_the_address() -> None:
    assert normalize_mac("52:54:00:ab:cd:ef") == MAC
    assert normalize_mac("5254.00AB.CDEF") == MAC
    assert default_mac("127.20.3.5") == "02-00-7F-14-03-05"
    assert subnet_broadcast("127.20.3.5") == "127.20.3.255"
    with pytest.raises(ValueError, match="'52:54:00:ab:cd' is not a MAC address"):
        normalize_mac("52:54:00:ab:cd")


# --- the fleet file ------------------------------------------------------------------------------


def test_power_keys_of_the_fleet_file() -> None:
    clock = FakeClock()
    data = spec(mac="52:54:00:ab:cd:ef", power="off", wake_on_lan=False)
    data["wake_on_lan_port"] = 40009
    fleet = Fleet.from_mapping(data, clock=clock)
    first, second = (fleet.host(address) for address in fleet.addresses())
    assert (first.mac, first.powered, first.wake_on_lan) == (MAC, False, False)
    assert (second.mac, second.powered, second.wake_on_lan) == ("02-00-7F-09-00-02", True, True)
    assert fleet.wake_on_lan_port == 40009
    assert Fleet.from_mapping(spec(), clock=clock).wake_on_lan_port == DEFAULT_WAKE_ON_LAN_PORT == 9009


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (spec(mac="52:54:00"), "host 127.9.0.1: mac: '52:54:00' is not a MAC address"),
        (spec(power="standby"), "host 127.9.0.1: power must be on or off, got 'standby'"),
        (spec(wake_on_lan="yes"), "host 127.9.0.1: wake_on_lan must be true or false"),
        (spec(online={"until": 5}), "host 127.9.0.1: online: must be a mapping with 'from'"),
        (spec(online={"from": 5, "to": 9}), "host 127.9.0.1: online: unknown key 'to'"),
        (spec(online={"from": -1}), "host 127.9.0.1: online.from: must be a number of seconds >= 0"),
        (spec(online={"from": 9, "until": 5}), "online.until must be later than online.from"),
        (spec(mac="02-00-7F-09-00-02"), "host 127.9.0.2: MAC 02-00-7F-09-00-02 is already host 127.9.0.1's"),
        ({**spec(), "wake_on_lan_port": 70000}, "wake_on_lan_port: must be a UDP port number (1-65535)"),
    ],
)
def test_bad_power_keys_fail_in_one_line_naming_host_and_key(data: dict[str, object], message: str) -> None:
    with pytest.raises(FleetFileError) as caught:
        Fleet.from_mapping(data, clock=FakeClock())
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


# --- the model, on a fake clock --------------------------------------------------------------------


def test_a_woken_pc_refuses_connections_until_it_has_booted() -> None:
    clock = FakeClock(start=1_000_000.0)
    fleet = Fleet.from_mapping(spec(mac=MAC, power="off", pending_computer_name="NV-DUCD"), clock=clock)
    address = "127.9.0.1"
    assert fleet.connection_policy(address).refuse
    assert fleet.magic_packet(address, "52-54-00-00-00-01") is None  # not its card's MAC
    assert fleet.magic_packet("127.9.0.2", MAC) is None
    assert fleet.journal(address) == []

    assert fleet.magic_packet(address, MAC) == "woke"
    clock.advance(29.5)
    assert fleet.connection_policy(address).refuse
    clock.advance(1.0)
    assert not fleet.connection_policy(address).refuse
    host = fleet.host(address)
    # A cold boot applies what a restart applies: the pending rename, a new boot time.
    assert (host.computer_name, host.boot_time) == ("NV-DUCD", 1_000_030.0)
    assert fleet.magic_packet(address, MAC) == "already_on"
    journal = fleet.journal(address)
    assert [(entry["kind"], entry["args"], entry["mutated"]) for entry in journal] == [
        ("wake", {"mac": MAC, "outcome": "woke"}, True),
        ("wake", {"mac": MAC, "outcome": "already_on"}, False),
    ]


def test_a_card_with_wake_on_lan_disabled_ignores_its_packet() -> None:
    clock = FakeClock()
    fleet = Fleet.from_mapping(spec(mac=MAC, power="off", wake_on_lan=False), clock=clock)
    assert fleet.magic_packet("127.9.0.1", MAC) == "wake_on_lan_disabled"
    clock.advance(3600)
    assert fleet.connection_policy("127.9.0.1").refuse


def test_switching_off_and_on_by_hand() -> None:
    clock = FakeClock()
    fleet = Fleet.from_mapping(spec(), clock=clock)
    address = "127.9.0.1"
    assert fleet.set_power(address, False) is True
    assert fleet.set_power(address, False) is False
    assert fleet.connection_policy(address).refuse
    assert fleet.set_power(address, True) is True
    clock.advance(30)
    assert not fleet.connection_policy(address).refuse


def test_a_pc_on_a_schedule_answers_only_between_its_two_offsets() -> None:
    clock = FakeClock()
    fleet = Fleet.from_mapping(spec(online={"from": 100, "until": 400}, boot_seconds=10), clock=clock)
    address = "127.9.0.1"
    assert fleet.connection_policy(address).refuse
    clock.advance(105)
    assert fleet.connection_policy(address).refuse  # switched on at 100, still booting
    clock.advance(10)
    assert not fleet.connection_policy(address).refuse
    clock.advance(290)
    assert fleet.connection_policy(address).refuse  # switched off at 400
    clock.advance(10_000)
    assert fleet.connection_policy(address).refuse  # the schedule runs once
    # Wake-on-LAN still works outside the schedule.
    assert fleet.magic_packet(address, fleet.host(address).mac) == "woke"


def test_a_schedule_whose_time_passed_unseen_still_applies_in_order() -> None:
    clock = FakeClock()
    fleet = Fleet.from_mapping(spec(online={"from": 0, "until": 50}), clock=clock)
    clock.advance(60)
    assert fleet.connection_policy("127.9.0.1").refuse
    assert fleet.host("127.9.0.1").powered is False


# --- the listener, over real UDP -------------------------------------------------------------------


@pytest.fixture(scope="module")
def off_fleet() -> Iterator[FleetHandle]:
    """Four switched-off PCs in one /24 and one in another; the third has Wake-on-LAN disabled."""
    data = fleet_spec(4, boot_seconds=0.3, power="off")
    data["hosts"][2]["wake_on_lan"] = False
    data["hosts"].append({"address": "127.0.1.1"})
    with running_fleet(data) as handle:
        yield handle


def test_the_card_at_a_pcs_own_address_wakes_it_and_winrm_answers_once_booted(off_fleet: FleetHandle) -> None:
    address = off_fleet.address_of("127.0.0.1")
    mac = off_fleet.fleet.host(address).mac
    assert not off_fleet.server.listening(address)
    send_magic_packet(mac, address, off_fleet.fleet.wake_on_lan_port)
    assert wait_until(lambda: off_fleet.server.listening(address))
    socket.create_connection((address, off_fleet.server.port), timeout=2).close()


def test_the_subnet_broadcast_reaches_every_card_of_the_subnet_and_only_the_right_one_wakes(
    off_fleet: FleetHandle,
) -> None:
    second = off_fleet.address_of("127.0.0.2")
    disabled = off_fleet.address_of("127.0.0.3")
    fourth = off_fleet.address_of("127.0.0.4")
    elsewhere = off_fleet.address_of("127.0.1.1")
    port = off_fleet.fleet.wake_on_lan_port
    broadcast = subnet_broadcast(second)
    send_magic_packet("02-00-00-00-00-99", broadcast, port)  # nobody's MAC
    send_magic_packet(off_fleet.fleet.host(elsewhere).mac, broadcast, port)  # a MAC of another subnet
    send_magic_packet(off_fleet.fleet.host(disabled).mac, broadcast, port, repeats=20)
    send_magic_packet(off_fleet.fleet.host(second).mac, broadcast, port, repeats=20)
    assert wait_until(lambda: off_fleet.server.listening(second))
    time.sleep(0.5)  # longer than boot_seconds: the others would be up by now
    assert not off_fleet.server.listening(fourth)
    assert not off_fleet.server.listening(disabled)
    assert not off_fleet.server.listening(elsewhere)
    assert [entry["args"]["outcome"] for entry in off_fleet.journal(disabled)] == ["wake_on_lan_disabled"]
    assert off_fleet.journal(fourth) == off_fleet.journal(elsewhere) == []
