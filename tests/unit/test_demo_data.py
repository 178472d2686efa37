"""The demo district's generated data: the letter's numbers, valid codes, unique addresses, naming cases."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from agentroll import demo_data
from agentroll.i18n import catalog
from agentroll.inventory import load_inventory
from agentroll.naming import short_name, standard_names
from agentroll.report import build_report
from agentroll.reports.reply import BLANK, build_reply
from agentroll.sim.fleet import Fleet

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "inventory" / "demo"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("demo")
    demo_data.write_demo(directory)
    return directory


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _unit_groups(hosts_doc: dict) -> dict[str, dict]:
    sections = hosts_doc["all"]["children"]["units"]["children"]
    return {name: group for section in sections.values() for name, group in section["children"].items()}


def _installed(machine: dict) -> bool:
    return any(p["id"] == demo_data.AGENT_PRODUCT_ID for p in machine.get("products", []))


GENERATED = ("hosts.yml", "fleet.yml", str(demo_data.CONSOLE_EXPORT))


def test_checked_in_files_match_the_generator(generated: Path) -> None:
    for name in GENERATED:
        assert (DEMO / name).read_text(encoding="utf-8") == (generated / name).read_text(encoding="utf-8"), (
            f"inventory/demo/{name} is stale: run python -m agentroll.demo_data inventory/demo"
        )


def test_the_generator_is_deterministic(generated: Path, tmp_path: Path) -> None:
    demo_data.write_demo(tmp_path)
    for name in GENERATED:
        assert (tmp_path / name).read_bytes() == (generated / name).read_bytes()


def test_190_licenses_and_valid_unit_codes(generated: Path) -> None:
    units = _unit_groups(_load(generated / "hosts.yml"))
    assert sum(group["vars"]["agentroll_licenses"] for group in units.values()) == 190
    codes = [group["vars"]["agentroll_unit_code"] for group in units.values()]
    assert all(re.fullmatch(r"[A-Z0-9]{1,8}", code) for code in codes)
    assert len(set(codes)) == len(codes)
    assert "UBND thị trấn Măng Đen" in {group["vars"]["agentroll_unit_name"] for group in units.values()}


def test_some_units_have_more_pcs_than_licenses(generated: Path) -> None:
    units = _unit_groups(_load(generated / "hosts.yml"))
    over = [name for name, g in units.items() if len(g["hosts"]) > g["vars"]["agentroll_licenses"]]
    under = [name for name, g in units.items() if len(g["hosts"]) < g["vars"]["agentroll_licenses"]]
    assert len(over) >= 2 and len(under) >= 2


def _inventory_machines(generated: Path) -> list[dict]:
    """The fleet's PCs that stand for the inventory's (not the laptop the roster forgot)."""
    machines = _load(generated / "fleet.yml")["hosts"]
    return [machine for machine in machines if machine["address"] != demo_data.FORGOTTEN_PC["address"]]


def test_exactly_62_installed_in_the_fleet(generated: Path) -> None:
    assert sum(_installed(machine) for machine in _inventory_machines(generated)) == 62


def test_addresses_are_unique_and_match_the_inventory(generated: Path) -> None:
    units = _unit_groups(_load(generated / "hosts.yml"))
    inventory_addresses = [v["ansible_host"] for g in units.values() for v in g["hosts"].values()]
    fleet_addresses = [m["address"] for m in _inventory_machines(generated)]
    assert len(set(inventory_addresses)) == len(inventory_addresses)
    assert inventory_addresses == fleet_addresses
    assert all(address.startswith("127.20.") for address in fleet_addresses)


def test_every_pc_has_its_mac_in_the_inventory_and_the_fleet(generated: Path) -> None:
    units = _unit_groups(_load(generated / "hosts.yml"))
    inventory_macs = [v["agentroll_mac"] for g in units.values() for v in g["hosts"].values()]
    assert inventory_macs == [m["mac"] for m in _inventory_machines(generated)]
    assert len(set(inventory_macs)) == len(inventory_macs) == 192
    # Each unit sends its magic packets to the broadcast address of the /24 its PCs live in.
    for group in units.values():
        broadcast = group["vars"]["agentroll_wake_address"]
        assert all(
            v["ansible_host"].rsplit(".", 1)[0] == broadcast.rsplit(".", 1)[0]
            for v in group["hosts"].values()
        )


def test_the_pcs_out_of_reach_at_first(generated: Path) -> None:
    """Switched off (most wake on LAN), switched on later, and a commune's PCs beyond the network."""
    machines = _load(generated / "fleet.yml")["hosts"]
    off = [m for m in machines if m.get("power") == "off"]
    assert len(off) == 7 and sum(m.get("wake_on_lan") is False for m in off) == 1
    later = [m for m in machines if "online" in m]
    assert len(later) == 3
    assert all(
        m["online"] == {"from": demo_data.SWITCHED_ON_LATER_AT} and m["wake_on_lan"] is False for m in later
    )
    beyond = [m for m in machines if (m.get("faults") or {}).get("refuse_connections")]
    code = demo_data.OFFLINE_UNIT
    unit_number = next(n for n, unit in enumerate(demo_data.UNITS, start=1) if unit.code == code)
    assert len(beyond) == 3 and all(m["address"].startswith(f"127.20.{unit_number}.") for m in beyond)
    assert not any(_installed(m) for m in off + later + beyond)


def test_the_mayphuong_pc_exists_and_has_the_agent(generated: Path) -> None:
    machines = {m["computer_name"]: m for m in _load(generated / "fleet.yml")["hosts"]}
    assert "mayphuong" in machines
    assert _installed(machines["mayphuong"])


def test_owners_cover_the_naming_cases() -> None:
    hosts = demo_data.build_demo()
    owners = [host.owner for host in hosts if host.owner]
    assert any(owner.startswith("Đ") for owner in owners)
    assert len(owners) < len(hosts), "some PCs must have no owner"
    names = standard_names(demo_data.to_inventory(hosts))
    assert any(len(f"{h.unit.code}-{short_name(h.owner)}") > 15 for h in hosts if h.owner), "no 15-char cut"
    # A collision: two PCs whose computed names coincide, so the second one gets a suffix.
    assert names["vp-04"] == "VP-HUNGNV" and names["vp-11"] == "VP-HUNGNV2"
    # The same person-part in two units does not collide.
    assert names["daklong-02"] == "DAKLONG-HUNGNV"


def test_fleet_has_the_letters_problem_pcs(generated: Path) -> None:
    machines = _load(generated / "fleet.yml")["hosts"]
    faults = Counter(
        f"{name}={value}" for machine in machines for name, value in machine.get("faults", {}).items()
    )
    assert faults["installer_exit_code=1603"] == 1
    assert faults["installer_exit_code=3010"] == 1
    assert faults["refuse_connections=True"] == 3
    assert any(m.get("powershell_version") == "2.0" for m in machines)
    assert any(m.get("architecture") == "x86" for m in machines)
    assert any(m.get("ram_mb", 8192) < 2048 for m in machines)
    assert any(m.get("system_drive", {}).get("free_mb", 10**6) < 2048 for m in machines)


def test_demo_credentials_agree_with_the_inventory() -> None:
    connection = _load(DEMO / "group_vars" / "all" / "connection.yml")
    credentials = _load(DEMO / "fleet.yml")["credentials"]
    assert connection["ansible_user"] == credentials["username"]
    assert connection["ansible_password"] == credentials["password"]


def test_the_inventory_loads_with_the_library() -> None:
    inventory = load_inventory(DEMO)
    assert sum(unit.licenses for unit in inventory.units) == 190
    assert str(inventory.deadline) == demo_data.DEADLINE


def test_installed_agent_matches_the_agent_profile() -> None:
    """PCs that start with the agent carry the product and service the deploy role installs."""
    defaults = _load(REPO / "roles" / "agent" / "defaults" / "main.yml")
    assert defaults["agentroll_agent_product_id"] == demo_data.AGENT_PRODUCT_ID
    assert defaults["agentroll_agent_service_name"] == demo_data.AGENT_SERVICE_NAME
    installer_file = REPO / "roles" / "agent" / "files" / defaults["agentroll_agent_installer"]
    installer = json.loads(installer_file.read_text(encoding="utf-8"))
    assert installer["product_id"] == demo_data.AGENT_PRODUCT_ID
    assert installer["name"] == demo_data.AGENT_PRODUCT_NAME
    assert installer["version"] == demo_data.AGENT_VERSION
    assert installer["service"]["name"] == demo_data.AGENT_SERVICE_NAME
    assert installer["service"]["display_name"] == demo_data.AGENT_SERVICE_DISPLAY_NAME


def test_the_fleet_file_loads_in_the_simulator() -> None:
    fleet = Fleet.from_file(DEMO / "fleet.yml")
    assert len(fleet.addresses()) == len(demo_data.build_demo()) + 1  # the laptop the roster forgot


def test_the_console_export_is_the_letters_62_agents(generated: Path) -> None:
    """62 agents listed: mayphuong among them, one stale, the laptop the roster forgot; one PC with the
    agent missing (it never reached the server). Its PCs are the fleet's, by address and MAC."""
    lines = (generated / demo_data.CONSOLE_EXPORT).read_text(encoding="utf-8-sig").splitlines()
    header, *rows = [line.split(",") for line in lines]
    assert tuple(header) == demo_data.CONSOLE_HEADER
    assert len(rows) == 62
    by_name = {row[0]: row for row in rows}
    assert "mayphuong" in by_name
    fleet = {m["address"]: m for m in _load(generated / "fleet.yml")["hosts"]}
    assert all(fleet[row[1]]["mac"] == row[2] and fleet[row[1]]["computer_name"] == row[0] for row in rows)
    assert all(_installed(fleet[row[1]]) for row in rows)
    forgotten = by_name[demo_data.FORGOTTEN_PC["computer_name"]]
    inventory_addresses = {m["address"] for m in _inventory_machines(generated)}
    assert forgotten[1] not in inventory_addresses and forgotten[5] == demo_data.FORGOTTEN_PC_UNIT
    stale = [row for row in rows if row[3] == "16/10/2026 09:10"]
    assert len(stale) == 1 and fleet[stale[0][1]]["agent_last_contact"] == "2026-10-16T02:10:00Z"
    unlisted = {m["address"] for m in _inventory_machines(generated) if _installed(m)} - {
        row[1] for row in rows
    }
    assert len(unlisted) == 1
    assert all(fleet[address]["faults"] == {"server_unreachable": True} for address in unlisted)


def test_the_demo_profile_names_the_management_server() -> None:
    profile = yaml.safe_load((DEMO / "group_vars" / "all" / "agent.yml").read_text(encoding="utf-8"))
    assert profile["agentroll_agent_server"] == demo_data.AGENT_SERVER


def test_the_demo_reply_is_an_official_letter_with_no_blank_left(generated: Path) -> None:
    inventory = load_inventory(generated)
    letter = inventory.letter
    assert (letter.district, letter.issuer, letter.signer_name) == (
        "Kon Plông",
        "Phòng Văn hóa và Thông tin",
        "Trần Quang Vinh",
    )
    assert letter.reference is not None and letter.reference.startswith(
        "Công văn số 1234/UBND-VP ngày 05/11/2026"
    )
    names = standard_names(inventory)
    report = build_report(inventory, {}, names=names, generated_at=datetime(2026, 11, 6, 1, tzinfo=UTC))
    reply = build_reply(report, catalog("vi"))
    heading = [reply.issuer_parent, reply.issuer, reply.place_date, reply.recipient, reply.intro[0]]
    assert not any(BLANK in line for line in heading), heading
    assert reply.issuer_parent == "UBND HUYỆN KON PLÔNG"
    assert reply.signer_title == ["KT. TRƯỞNG PHÒNG", "PHÓ TRƯỞNG PHÒNG"]
    assert reply.intro[0].startswith(f"Thực hiện {letter.reference}, Phòng Văn hóa và Thông tin báo cáo")
