"""The demo district (Kon Plông, Kon Tum) as the IT team's letter found it: inventory and simulated fleet.

``python -m agentroll.demo_data inventory/demo`` rewrites ``hosts.yml`` (units, licenses, licensed
PCs and their users) and ``fleet.yml`` (the simulated Windows PCs standing for them). Everything is
derived from the tables below and one seeded random generator, so the numbers are auditable and a
rerun gives byte-identical files.

The starting state is the letter's: 190 licenses, 62 PCs with the agent installed (32.6 %), some
of those under non-standard names (one literally ``mayphuong``), PCs below the agent's
requirements, Windows 7 PCs that Ansible cannot manage, one whose installer fails with 1603 and
one that asks for a reboot (3010). Every PC has a MAC address (the roster's), and some cannot be
reached at first: PCs switched off that Wake-on-LAN brings back, one switched off whose network
card ignores magic packets, laptops switched on only later (the watch catches them), and the PCs
of a commune beyond the network, which the offline kit reaches.

The letter's 62 came from the central console, which counts the agents that report in:
``console/export-2026-11-05.csv`` is its endpoint export of that day. It lists 62 agents:
``mayphuong`` among them, one that stopped reporting weeks before (its PC can no longer reach the
management server), and a laptop the roster forgot (on the network, in no inventory); one PC of the
62 with the agent is missing from it (its agent never reached the server).
"""

from __future__ import annotations

import random
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from agentroll.model import Host, Inventory, Unit
from agentroll.naming import standard_names, transliterate

SEED = 20261215
DEADLINE = "2026-12-15"
ADDRESS_PREFIX = "127.20"
#: The first half of every demo PC's MAC address (a made-up vendor prefix, locally administered).
MAC_PREFIX = "02-4B-50"
#: Where the simulated network cards listen for magic packets (the simulator's default port).
WAKE_ON_LAN_PORT = 9009
#: The laptops on a schedule are switched on this many seconds after the fleet starts: later than
#: the demo's dry run and site.yml reach them, so that only the watch can catch them.
SWITCHED_ON_LATER_AT = 150
#: The commune whose PCs nothing reaches over the network: the offline kit's unit.
OFFLINE_UNIT = "DAKTANG"
#: Demo-only credentials shared by the inventory and the simulated fleet; a real district keeps
#: its WinRM password in Ansible Vault (see inventory/example/).
DEMO_USERNAME = "agentroll"
DEMO_PASSWORD = "demo-only-KonPlong-2026"

#: The agent the deploy role installs: roles/agent/defaults/main.yml and its simulated installer
#: roles/agent/files/sim-agent.msi (a test keeps these equal). The PCs that already have it carry
#: exactly what that installer would have put there.
AGENT_PRODUCT_ID = "{6D1C2F5A-7B3E-4C1A-9E55-A6E0C0FFEE01}"
AGENT_PRODUCT_NAME = "agentroll sample agent"
AGENT_VERSION = "1.0.0"
AGENT_SERVICE_NAME = "AgentrollSample"
AGENT_SERVICE_DISPLAY_NAME = "agentroll sample monitoring agent"

TOTAL_LICENSES = 190
INSTALLED_AT_START = 62

#: The management server the agents report to (the demo's agent profile, group_vars/all/agent.yml).
AGENT_SERVER = "soc.kontum.gov.vn:8443"
#: When the console wrote the export the letter counted from (07:30 in Kon Plông).
CONSOLE_EXPORTED_AT = datetime(2026, 11, 5, 0, 30, tzinfo=UTC)
#: The written reply's heading and signature: the IT team (in the district's culture and information
#: office) answers the People's Committee's document of the letter's day, which counted 62/190 agents.
LETTER = {
    "agentroll_district": "Kon Plông",
    "agentroll_reply_issuer": "Phòng Văn hóa và Thông tin",
    "agentroll_reply_reference": (
        "Công văn số 1234/UBND-VP ngày 05/11/2026 của UBND huyện Kon Plông về việc đẩy nhanh tiến độ "
        "cài đặt phần mềm giám sát mã độc"
    ),
    "agentroll_reply_signer_title": "KT. TRƯỞNG PHÒNG\nPHÓ TRƯỞNG PHÒNG",
    "agentroll_reply_signer_name": "Trần Quang Vinh",
}
#: Where the demo inventory keeps the console's export (not an inventory source: ``console/``).
CONSOLE_EXPORT = Path("console") / "export-2026-11-05.csv"
#: An agent whose PC's network stopped letting it reach the management server weeks before the export.
STALE_AGENT_HOST = "hieu-02"
STALE_AGENT_LAST_CONTACT = datetime(2026, 10, 16, 2, 10, tzinfo=UTC)
#: An agent installed by hand on a PC that never reached the management server: not on the console.
UNREGISTERED_AGENT_HOST = "mangbut-05"
#: The accounting laptop of TCKH the roster forgot: it has the agent and is on the console, in no inventory.
FORGOTTEN_PC = {"address": "127.20.3.12", "mac": "02-4B-50-14-03-0C", "computer_name": "KETOAN-LAPTOP"}
FORGOTTEN_PC_UNIT = "TCKH"


@dataclass(frozen=True)
class UnitSpec:
    """One unit of the district: its group, code, Vietnamese name, licenses and PC count."""

    section: str
    code: str
    name: str
    licenses: int
    pcs: int


# Sections group the units the way the district's letters address them.
DEPARTMENTS = "departments"
PUBLIC_SERVICE_UNITS = "public_service_units"
COMMUNES = "communes"

UNITS: tuple[UnitSpec, ...] = (
    UnitSpec(DEPARTMENTS, "VP", "Văn phòng HĐND và UBND huyện", 16, 18),
    UnitSpec(DEPARTMENTS, "NV", "Phòng Nội vụ", 6, 6),
    UnitSpec(DEPARTMENTS, "TCKH", "Phòng Tài chính - Kế hoạch", 10, 11),
    UnitSpec(DEPARTMENTS, "TP", "Phòng Tư pháp", 3, 2),
    UnitSpec(DEPARTMENTS, "KTHT", "Phòng Kinh tế và Hạ tầng", 7, 7),
    UnitSpec(DEPARTMENTS, "NNPTNT", "Phòng Nông nghiệp và Phát triển nông thôn", 6, 6),
    UnitSpec(DEPARTMENTS, "TNMT", "Phòng Tài nguyên và Môi trường", 6, 6),
    UnitSpec(DEPARTMENTS, "GDDT", "Phòng Giáo dục và Đào tạo", 10, 10),
    UnitSpec(DEPARTMENTS, "VHTT", "Phòng Văn hóa và Thông tin", 4, 4),
    UnitSpec(DEPARTMENTS, "LDTBXH", "Phòng Lao động - Thương binh và Xã hội", 5, 5),
    UnitSpec(DEPARTMENTS, "YT", "Phòng Y tế", 3, 3),
    UnitSpec(DEPARTMENTS, "TTRA", "Thanh tra huyện", 4, 3),
    UnitSpec(DEPARTMENTS, "DT", "Phòng Dân tộc", 3, 3),
    UnitSpec(PUBLIC_SERVICE_UNITS, "TTVH", "Trung tâm Văn hóa, Thể thao và Truyền thông", 7, 7),
    UnitSpec(PUBLIC_SERVICE_UNITS, "TTDVNN", "Trung tâm Dịch vụ nông nghiệp", 4, 4),
    UnitSpec(PUBLIC_SERVICE_UNITS, "BQLDA", "Ban Quản lý dự án đầu tư xây dựng huyện", 6, 6),
    UnitSpec(PUBLIC_SERVICE_UNITS, "BQLRPH", "Ban Quản lý rừng phòng hộ Kon Plông", 4, 3),
    UnitSpec(COMMUNES, "MANGDEN", "UBND thị trấn Măng Đen", 14, 16),
    UnitSpec(COMMUNES, "DAKLONG", "UBND xã Đắk Long", 8, 8),
    UnitSpec(COMMUNES, "HIEU", "UBND xã Hiếu", 8, 8),
    UnitSpec(COMMUNES, "MANGBUT", "UBND xã Măng Bút", 8, 8),
    UnitSpec(COMMUNES, "MANGCANH", "UBND xã Măng Cành", 8, 8),
    UnitSpec(COMMUNES, "NGOKTEM", "UBND xã Ngọk Tem", 8, 8),
    UnitSpec(COMMUNES, "POE", "UBND xã Pờ Ê", 8, 8),
    UnitSpec(COMMUNES, "DAKRING", "UBND xã Đắk Ring", 8, 8),
    UnitSpec(COMMUNES, "DAKNEN", "UBND xã Đắk Nên", 8, 8),
    UnitSpec(COMMUNES, "DAKTANG", "UBND xã Đắk Tăng", 8, 8),
)

# Owners pinned to particular PCs so that the interesting naming cases are always present:
# the user of ``mayphuong``, a pair whose standard names collide, the same person-part in two
# units, Đ at the start of names, and long names that force the 15-character cut.
PINNED_OWNERS: dict[str, str | None] = {
    "tckh-03": "Trần Thị Phương",
    "vp-04": "Nguyễn Văn Hùng",
    "vp-11": "Ngô Văn Hùng",
    "daklong-02": "Nguyễn Văn Hùng",
    "nv-01": "Đặng Đức",
    "mangcanh-02": "Nguyễn Thị Hoàng Phương Thảo",
    "mangcanh-05": "Tôn Nữ Thị Bảo Ngọc",
    "nnptnt-03": "Đinh Thị Đào",
    "mangden-07": "Y Nhung",
    "poe-03": "A Nhút",
}
#: PCs shared by a desk rather than a person (the one-stop-shop counter, the meeting room).
OWNERLESS_HOSTS = ("vp-17", "vp-18", "mangden-15", "mangden-16", "tckh-11", "hieu-08", "poe-08", "gddt-10")

FAMILY_NAMES = (
    "Nguyễn",
    "Nguyễn",
    "Nguyễn",
    "Trần",
    "Trần",
    "Lê",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
    "Đinh",
    "Đinh",
    "A Lăng",
    "Y",
)
MALE_MIDDLE = ("Văn", "Đức", "Minh", "Quốc", "Hữu", "Công", "Thanh", "Xuân", "Đình", "Ngọc")
FEMALE_MIDDLE = ("Thị", "Thị Thanh", "Thị Thu", "Thị Kim", "Thị Ngọc", "Thị Minh", "Thị Hồng", "Thị Bích")
MALE_GIVEN = (
    "Thắng",
    "Dũng",
    "Tuấn",
    "Minh",
    "Quang",
    "Đức",
    "Đạt",
    "Hải",
    "Long",
    "Nam",
    "Phong",
    "Sơn",
    "Trung",
    "Việt",
    "Hòa",
    "Khánh",
    "Lâm",
    "Tài",
    "Vinh",
    "Bình",
    "Cường",
    "Hiếu",
    "Toàn",
    "Thành",
)
FEMALE_GIVEN = (
    "Hương",
    "Lan",
    "Hoa",
    "Mai",
    "Linh",
    "Ngọc",
    "Thảo",
    "Trang",
    "Hằng",
    "Nhung",
    "Tuyết",
    "Yến",
    "Hà",
    "Diệp",
    "Oanh",
    "Thủy",
    "Vân",
    "Loan",
    "Dung",
    "Ánh Tuyết",
)


class Profile:
    """What a simulated PC is like at the start; one value per PC, counts fixed below."""

    COMPLIANT = "compliant"
    MISNAMED = "misnamed"
    STOPPED = "agent_stopped"
    LOW_RAM = "low_ram"
    LOW_DISK = "low_disk"
    X86 = "x86"
    WINDOWS7 = "windows7"
    SWITCHED_OFF = "switched_off"
    NO_WAKE_ON_LAN = "no_wake_on_lan"
    SWITCHED_ON_LATER = "switched_on_later"
    BEYOND_NETWORK = "beyond_network"
    INSTALLER_1603 = "installer_1603"
    NEEDS_REBOOT = "installer_3010"
    READY = "ready"


#: How many PCs start in each profile; READY takes the rest. Installed = the first three.
PROFILE_COUNTS: dict[str, int] = {
    Profile.COMPLIANT: 50,
    Profile.MISNAMED: 10,
    Profile.STOPPED: 2,
    Profile.LOW_RAM: 5,
    Profile.LOW_DISK: 3,
    Profile.X86: 3,
    Profile.WINDOWS7: 4,
    Profile.SWITCHED_OFF: 6,
    Profile.NO_WAKE_ON_LAN: 1,
    Profile.SWITCHED_ON_LATER: 3,
    Profile.BEYOND_NETWORK: 3,
    Profile.INSTALLER_1603: 1,
    Profile.NEEDS_REBOOT: 1,
}
INSTALLED_PROFILES = (Profile.COMPLIANT, Profile.MISNAMED, Profile.STOPPED)
#: Profiles given to particular PCs regardless of the draw (``mayphuong`` is tckh-03's name).
PINNED_PROFILES = {
    "tckh-03": Profile.MISNAMED,
    "vp-02": Profile.INSTALLER_1603,
    "nv-02": Profile.NEEDS_REBOOT,
    # The commune office beyond the network: the offline kit of its unit reaches these.
    "daktang-02": Profile.BEYOND_NETWORK,
    "daktang-05": Profile.BEYOND_NETWORK,
    "daktang-07": Profile.BEYOND_NETWORK,
}
MISNAMED_COMPUTER_NAMES = (
    "mayphuong",
    "DESKTOP-7F3K2LQ",
    "DESKTOP-K2M9Q1A",
    "WIN-3JR8T0BLQ5C",
    "KETOAN-PC",
    "PC-VANTHU",
    "MOTCUA-01",
    "LAPTOP-H8D2MNV",
    "USER-PC",
    "DESKTOP-Q0TZ4RW",
)


@dataclass
class DemoHost:
    """One licensed PC: its inventory entry and its simulated machine."""

    name: str
    unit: UnitSpec
    address: str
    owner: str | None
    profile: str = Profile.READY
    mac: str = ""
    computer_name: str = ""
    machine: dict[str, Any] = field(default_factory=dict)


def _hostnames(unit: UnitSpec) -> list[str]:
    return [f"{unit.code.lower()}-{number:02d}" for number in range(1, unit.pcs + 1)]


def _random_owner(rng: random.Random) -> str:
    """A plausible Vietnamese full name; Kinh names mostly, some Xơ Đăng ``A``/``Y`` names."""
    family = rng.choice(FAMILY_NAMES)
    female = family == "Y" or (family != "A Lăng" and rng.random() < 0.5)
    given = rng.choice(FEMALE_GIVEN if female else MALE_GIVEN)
    if family in ("Y", "A Lăng"):
        return f"{family} {given}"
    middle = rng.choice(FEMALE_MIDDLE if female else MALE_MIDDLE)
    return f"{family} {middle} {given}"


def _owner_for(hostname: str, rng: random.Random) -> str | None:
    if hostname in OWNERLESS_HOSTS:
        return None
    if hostname in PINNED_OWNERS:
        return PINNED_OWNERS[hostname]
    return _random_owner(rng)


def build_hosts(rng: random.Random) -> list[DemoHost]:
    """Every licensed PC with its address and owner, unit by unit, in inventory order."""
    hosts: list[DemoHost] = []
    for unit_number, unit in enumerate(UNITS, start=1):
        for pc_number, hostname in enumerate(_hostnames(unit), start=1):
            address = f"{ADDRESS_PREFIX}.{unit_number}.{pc_number}"
            mac = f"{MAC_PREFIX}-14-{unit_number:02X}-{pc_number:02X}"
            hosts.append(DemoHost(hostname, unit, address, _owner_for(hostname, rng), mac=mac))
    return hosts


def assign_profiles(hosts: list[DemoHost], rng: random.Random) -> None:
    """Give every PC its starting profile: pinned ones first, the rest drawn without replacement."""
    remaining = Counter(PROFILE_COUNTS)
    by_name = {host.name: host for host in hosts}
    for hostname, profile in PINNED_PROFILES.items():
        by_name[hostname].profile = profile
        remaining[profile] -= 1
    pool = [profile for profile, count in remaining.items() for _ in range(count)]
    free = [host for host in hosts if host.name not in PINNED_PROFILES]
    pool += [Profile.READY] * (len(free) - len(pool))
    rng.shuffle(pool)
    for host, profile in zip(free, pool, strict=True):
        host.profile = profile


def to_inventory(hosts: list[DemoHost]) -> Inventory:
    """The demo as the library's ``Inventory``, to compute standard names with the real rule."""
    units = tuple(Unit(u.code, u.name, u.licenses, group=u.code.lower()) for u in UNITS)
    return Inventory(
        units=units,
        hosts=tuple(Host(h.name, h.unit.code, address=h.address, owner=h.owner) for h in hosts),
    )


def _random_computer_name(host: DemoHost, rng: random.Random) -> str:
    """The kind of name a PC has before anyone standardised it."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
    style = rng.random()
    if style < 0.55:
        return "DESKTOP-" + "".join(rng.choice(alphabet) for _ in range(7))
    if style < 0.75 and host.owner:
        return "may" + transliterate(host.owner.split()[-1]).lower()
    return f"PC{rng.randint(1, 30):02d}-{host.unit.code}"


def assign_computer_names(hosts: list[DemoHost], rng: random.Random) -> None:
    """Installed PCs mostly carry their standard name already; the others carry whatever they had."""
    standard = standard_names(to_inventory(hosts))
    misnamed = iter(MISNAMED_COMPUTER_NAMES[1:])
    for host in hosts:
        if host.name == "tckh-03":
            host.computer_name = MISNAMED_COMPUTER_NAMES[0]
        elif host.profile == Profile.MISNAMED:
            host.computer_name = next(misnamed)
        elif host.profile in INSTALLED_PROFILES:
            host.computer_name = standard[host.name]
        else:
            host.computer_name = _random_computer_name(host, rng)


def _agent_software(service_state: str, start_mode: str) -> dict[str, Any]:
    return {
        "products": [{"id": AGENT_PRODUCT_ID, "name": AGENT_PRODUCT_NAME, "version": AGENT_VERSION}],
        "services": [
            {
                "name": AGENT_SERVICE_NAME,
                "display_name": AGENT_SERVICE_DISPLAY_NAME,
                "state": service_state,
                "start_mode": start_mode,
            }
        ],
    }


WINDOWS_10 = {"caption": "Microsoft Windows 10 Pro", "build": 19045, "product_type": "workstation"}
WINDOWS_11 = {"caption": "Microsoft Windows 11 Pro", "build": 26100, "product_type": "workstation"}
WINDOWS_7 = {"caption": "Microsoft Windows 7 Professional", "build": 7601, "product_type": "workstation"}


def machine_for(host: DemoHost, rng: random.Random) -> dict[str, Any]:
    """The fleet-file entry of one PC: only what differs from the fleet defaults."""
    entry: dict[str, Any] = {"address": host.address, "mac": host.mac, "computer_name": host.computer_name}
    if rng.random() < 0.3:
        entry["os"] = WINDOWS_11
    entry["ram_mb"] = rng.choice((4096, 8192, 8192, 16384))
    profile = host.profile
    if profile == Profile.COMPLIANT or profile == Profile.MISNAMED:
        entry.update(_agent_software("running", "auto"))
    elif profile == Profile.STOPPED:
        entry.update(_agent_software("stopped", rng.choice(("auto", "disabled"))))
    elif profile == Profile.LOW_RAM:
        entry["ram_mb"] = rng.choice((1024, 1536, 2000))
    elif profile == Profile.LOW_DISK:
        entry["system_drive"] = {"letter": "C:", "size_mb": 61440, "free_mb": rng.choice((350, 900, 1500))}
    elif profile == Profile.X86:
        entry.update(os=WINDOWS_10, architecture="x86", ram_mb=3072)
    elif profile == Profile.WINDOWS7:
        entry.update(os=WINDOWS_7, powershell_version="2.0", ram_mb=rng.choice((2048, 4096)))
    elif profile == Profile.SWITCHED_OFF:
        entry["power"] = "off"
    elif profile == Profile.NO_WAKE_ON_LAN:
        entry.update(power="off", wake_on_lan=False)
    elif profile == Profile.SWITCHED_ON_LATER:
        # A laptop whose card does not wake on LAN, brought in and switched on later in the day.
        entry.update(online={"from": SWITCHED_ON_LATER_AT}, wake_on_lan=False)
    elif profile == Profile.BEYOND_NETWORK:
        # On, but no WinRM from the district's controller reaches it (a commune's own network).
        entry["faults"] = {"refuse_connections": True}
    elif profile == Profile.INSTALLER_1603:
        entry["faults"] = {"installer_exit_code": 1603}
    elif profile == Profile.NEEDS_REBOOT:
        entry["faults"] = {"installer_exit_code": 3010}
    if host.name in (STALE_AGENT_HOST, UNREGISTERED_AGENT_HOST):
        entry["faults"] = {"server_unreachable": True}
    if host.name == STALE_AGENT_HOST:
        entry["agent_last_contact"] = STALE_AGENT_LAST_CONTACT.strftime("%Y-%m-%dT%H:%M:%SZ")
    return entry


def build_demo(seed: int = SEED) -> list[DemoHost]:
    """The whole demo district, deterministic for a given seed."""
    rng = random.Random(seed)
    hosts = build_hosts(rng)
    assign_profiles(hosts, rng)
    assign_computer_names(hosts, rng)
    for host in hosts:
        host.machine = machine_for(host, rng)
    return hosts


def _host_vars(host: DemoHost) -> dict[str, Any]:
    variables: dict[str, Any] = {"ansible_host": host.address, "agentroll_mac": host.mac}
    if host.owner:
        variables["agentroll_owner"] = host.owner
    return variables


def inventory_document(hosts: list[DemoHost]) -> dict[str, Any]:
    """hosts.yml as data: ``units`` > section groups > unit groups > hosts."""
    sections: dict[str, dict[str, Any]] = {}
    for unit_number, unit in enumerate(UNITS, start=1):
        unit_hosts = {h.name: _host_vars(h) for h in hosts if h.unit is unit}
        section = sections.setdefault(unit.section, {"children": {}})
        section["children"][unit.code.lower()] = {
            "vars": {
                "agentroll_unit_code": unit.code,
                "agentroll_unit_name": unit.name,
                "agentroll_licenses": unit.licenses,
                # Each unit is a /24 of its own: magic packets go to its broadcast address.
                "agentroll_wake_address": f"{ADDRESS_PREFIX}.{unit_number}.255",
            },
            "hosts": unit_hosts,
        }
    units_group = {"vars": {"agentroll_deadline": DEADLINE, **LETTER}, "children": sections}
    return {"all": {"children": {"units": units_group}}}


def fleet_document(hosts: list[DemoHost], *, forgotten_laptop: bool = True) -> dict[str, Any]:
    """fleet.yml as data, in the simulated fleet's file format; with the laptop the roster forgot
    (the demo district's story, at an address of its own) unless ``forgotten_laptop`` is false."""
    return {
        "credentials": {"username": DEMO_USERNAME, "password": DEMO_PASSWORD},
        "tls": False,
        "wake_on_lan_port": WAKE_ON_LAN_PORT,
        "defaults": {
            "os": WINDOWS_10,
            "architecture": "x64",
            "ram_mb": 8192,
            "system_drive": {"letter": "C:", "size_mb": 256000, "free_mb": 120000},
            "powershell_version": "5.1.19041.4648",
            "products": [],
            "services": [],
            "boot_seconds": 1.0,
        },
        "hosts": [*(host.machine for host in hosts), *([_forgotten_machine()] if forgotten_laptop else [])],
    }


def _forgotten_machine() -> dict[str, Any]:
    """The laptop the roster forgot, as the fleet has it (its agent reports)."""
    return {**FORGOTTEN_PC, **_agent_software("running", "auto")}


#: The console export's header (Vietnamese, as the province's console writes it).
CONSOLE_HEADER = ("Tên máy", "Địa chỉ IP", "Địa chỉ MAC", "Lần kết nối cuối", "Phiên bản", "Nhóm")


def console_rows(hosts: list[DemoHost], seed: int = SEED) -> list[list[str]]:
    """The console's export of the letter's day: every agent that ever reported, when it last did.

    A stopped service reported until a day or two before; the others within the last hours. Times
    are Kon Plông's (UTC+7), day first, as the console writes them. Its own random generator, so
    that the inventory and fleet do not depend on it.
    """
    rng = random.Random(seed + 1)
    local = timedelta(hours=7)
    rows = []
    for host in hosts:
        if host.profile not in INSTALLED_PROFILES or host.name == UNREGISTERED_AGENT_HOST:
            continue
        if host.name == STALE_AGENT_HOST:
            seen = STALE_AGENT_LAST_CONTACT
        elif host.profile == Profile.STOPPED:
            seen = CONSOLE_EXPORTED_AT - timedelta(days=1, minutes=rng.randint(0, 1200))
        else:
            seen = CONSOLE_EXPORTED_AT - timedelta(minutes=rng.randint(5, 900))
        rows.append([host.computer_name, host.address, host.mac, seen, AGENT_VERSION, host.unit.code])
    forgotten_seen = CONSOLE_EXPORTED_AT - timedelta(minutes=rng.randint(5, 900))
    forgotten = FORGOTTEN_PC["computer_name"], FORGOTTEN_PC["address"], FORGOTTEN_PC["mac"]
    rows.append([*forgotten, forgotten_seen, AGENT_VERSION, FORGOTTEN_PC_UNIT])
    return [[*row[:3], (row[3] + local).strftime("%d/%m/%Y %H:%M"), *row[4:]] for row in rows]


def console_export_text(hosts: list[DemoHost], seed: int = SEED) -> str:
    """The console's export as the CSV file it writes (UTF-8 with a byte-order mark, as Excel likes)."""
    lines = [",".join(CONSOLE_HEADER)] + [",".join(row) for row in console_rows(hosts, seed)]
    return "\ufeff" + "\n".join(lines) + "\n"


HOSTS_HEADER = """\
# The demo district: Kon Plông (Kon Tum), 190 agent licenses allocated to its units.
# GENERATED by `python -m agentroll.demo_data inventory/demo` (seed {seed}); edit the generator,
# not this file. Units are the children of `units`; the sections below it only group them.
"""
FLEET_HEADER = """\
# The simulated Windows PCs standing for inventory/demo/hosts.yml, in the starting state of the
# district's letter: {installed}/{licenses} PCs have the agent ({coverage:.1f} %).
# GENERATED by `python -m agentroll.demo_data inventory/demo` (seed {seed}); do not edit by hand.
# DEMO-ONLY credentials: they exist only on the simulator's loopback listeners.
"""


class _Dumper(yaml.SafeDumper):
    """A safe dumper that writes shared sub-documents (the OS records) in full, never as aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump_yaml(document: dict[str, Any]) -> str:
    return yaml.dump(document, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=110)


def write_demo(directory: Path, seed: int = SEED) -> list[DemoHost]:
    """Rewrite ``hosts.yml`` and ``fleet.yml`` in ``directory``; return the hosts written."""
    hosts = build_demo(seed)
    directory.mkdir(parents=True, exist_ok=True)
    installed = sum(h.profile in INSTALLED_PROFILES for h in hosts)
    hosts_text = HOSTS_HEADER.format(seed=seed) + dump_yaml(inventory_document(hosts))
    fleet_header = FLEET_HEADER.format(
        seed=seed, installed=installed, licenses=TOTAL_LICENSES, coverage=100 * installed / TOTAL_LICENSES
    )
    fleet_text = fleet_header + dump_yaml(fleet_document(hosts))
    (directory / "hosts.yml").write_text(hosts_text, encoding="utf-8")
    (directory / "fleet.yml").write_text(fleet_text, encoding="utf-8")
    (directory / CONSOLE_EXPORT).parent.mkdir(exist_ok=True)
    (directory / CONSOLE_EXPORT).write_text(console_export_text(hosts, seed), encoding="utf-8")
    return hosts


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: ``python -m agentroll.demo_data DIRECTORY``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m agentroll.demo_data INVENTORY_DIRECTORY", file=sys.stderr)
        return 2
    hosts = write_demo(Path(args[0]))
    print(f"wrote {len(hosts)} PCs of {len(UNITS)} units to {args[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
