"""A simulated province: ten districts of the demo's shape (27 units, 192 PCs each, 1,920 in all).

Each district is the demo district generated with a seed of its own (``agentroll.demo_data``: owners,
starting profiles, computer names, machines), its host names prefixed with the district's slug so
that they are unique across the province (one state store keys PCs by host name). One fleet stands
for every PC of the province (addresses ``127.20.x.y`` numbered in sequence, 250 to a ``/24``); each
district gets an inventory of its own, the layout the README recommends::

    python -m agentroll.sim.province DIRECTORY [--districts N] [--units N]

writes ``DIRECTORY/fleet.yml`` and ``DIRECTORY/<district>/hosts.yml``. Tests and benchmarks build the
documents in memory and start the fleet with ``agentroll.sim.testing.running_fleet``, which moves
it to a loopback block of its own (``address_of`` maps the addresses for the inventories).
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentroll import demo_data
from agentroll.sim.server import HTTP_PORT, connection_vars

#: Kon Tum's districts (slug, name), the province the demo district belongs to.
DISTRICTS: tuple[tuple[str, str], ...] = (
    ("konplong", "Kon Plông"),
    ("konray", "Kon Rẫy"),
    ("dakha", "Đăk Hà"),
    ("dakto", "Đăk Tô"),
    ("tumorong", "Tu Mơ Rông"),
    ("ngochoi", "Ngọc Hồi"),
    ("dakglei", "Đăk Glei"),
    ("sathay", "Sa Thầy"),
    ("iahdrai", "Ia H'Drai"),
    ("kontum", "Thành phố Kon Tum"),
)
ADDRESS_PREFIX = demo_data.ADDRESS_PREFIX
#: A /24 holds 250 PCs of the province, numbered in sequence.
PER_BLOCK = 250


@dataclass(frozen=True)
class District:
    """One district of the province: its slug (host-name prefix, directory), name and PCs."""

    slug: str
    name: str
    hosts: tuple[demo_data.DemoHost, ...]


def build_province(districts: int = len(DISTRICTS), units: int | None = None) -> list[District]:
    """The first ``districts`` districts, each with its first ``units`` units (None: all 27).

    Deterministic: district *n* is the demo district of seed ``demo_data.SEED + n``.
    """
    if not 1 <= districts <= len(DISTRICTS):
        raise ValueError(f"a province has 1 to {len(DISTRICTS)} districts, not {districts}")
    kept_units = {unit.code for unit in demo_data.UNITS[:units]}
    built: list[District] = []
    number = 0
    for index, (slug, name) in enumerate(DISTRICTS[:districts]):
        hosts = []
        for host in demo_data.build_demo(demo_data.SEED + index):
            if host.unit.code not in kept_units:
                continue
            address = f"{ADDRESS_PREFIX}.{number // PER_BLOCK}.{number % PER_BLOCK + 1}"
            # The demo's MAC with the district in its third byte: unique across the province.
            mac = f"{host.mac[:6]}{index:02X}{host.mac[8:]}"
            machine = {**copy.deepcopy(host.machine), "address": address, "mac": mac}
            renamed = f"{slug}-{host.name}"
            hosts.append(dataclasses.replace(host, name=renamed, address=address, mac=mac, machine=machine))
            number += 1
        built.append(District(slug, name, tuple(hosts)))
    return built


def fleet_document(districts: Sequence[District]) -> dict[str, Any]:
    """One fleet file for every PC of the province (the demo's defaults and credentials); the demo
    district's forgotten laptop is not one of them (its address is one of the province's)."""
    hosts = [host for district in districts for host in district.hosts]
    return demo_data.fleet_document(hosts, forgotten_laptop=False)


def inventory_document(
    district: District,
    connection: Mapping[str, Any],
    address_of: Callable[[str], str] = str,
) -> dict[str, Any]:
    """One district's hosts.yml as data: the demo's groups, the district's name, ``connection``
    variables on ``all``, and each PC's address mapped by ``address_of``."""
    document = demo_data.inventory_document(list(district.hosts))
    units_group = document["all"]["children"]["units"]
    units_group["vars"]["agentroll_district"] = district.name
    present = {host.unit.code.lower() for host in district.hosts}
    for name, section in list(units_group["children"].items()):
        # Only the units built (``build_province(units=N)``), not the demo's whole list.
        section["children"] = {group: unit for group, unit in section["children"].items() if group in present}
        if not section["children"]:
            del units_group["children"][name]
        for unit in section["children"].values():
            # The province's addresses are numbered in sequence, not one /24 per unit: no broadcast
            # address stands for a unit here.
            unit["vars"].pop("agentroll_wake_address", None)
            for variables in unit["hosts"].values():
                variables["ansible_host"] = address_of(variables["ansible_host"])
    document["all"]["vars"] = dict(connection)
    return document


def write_province(
    directory: Path,
    districts: Sequence[District],
    connection: Mapping[str, Any],
    address_of: Callable[[str], str] = str,
) -> list[Path]:
    """Write one inventory directory per district under ``directory``; their paths, in order."""
    written = []
    for district in districts:
        target = directory / district.slug
        target.mkdir(parents=True, exist_ok=True)
        (target / "hosts.yml").write_text(
            demo_data.dump_yaml(inventory_document(district, connection, address_of)), encoding="utf-8"
        )
        written.append(target)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m agentroll.sim.province DIRECTORY``: the fleet file and one inventory per district."""
    parser = argparse.ArgumentParser(prog="python -m agentroll.sim.province", description=main.__doc__)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--districts", type=int, default=len(DISTRICTS), help="how many districts (1-10)")
    parser.add_argument("--units", type=int, default=None, help="the first N units of each district")
    args = parser.parse_args(argv)
    try:
        districts = build_province(args.districts, args.units)
    except ValueError as error:
        parser.error(str(error))
    connection = connection_vars(
        transport="ntlm",
        tls=False,
        port=HTTP_PORT,
        username=demo_data.DEMO_USERNAME,
        password=demo_data.DEMO_PASSWORD,
    )
    args.directory.mkdir(parents=True, exist_ok=True)
    fleet = demo_data.dump_yaml(fleet_document(districts))
    (args.directory / "fleet.yml").write_text(fleet, encoding="utf-8")
    written = write_province(args.directory, districts, connection)
    pcs = sum(len(district.hosts) for district in districts)
    print(f"wrote {pcs} PCs of {len(written)} districts to {args.directory}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
