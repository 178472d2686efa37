"""Province → district → unit: one report over the district reports of a province.

A province keeps one inventory per district (its units, licenses and names are the district's
business: licenses move only between the units of one district). The roll-up adds the districts'
reports up without recomputing anything: totals per district and for the province, and every unit,
host, advised move and returnable license marked with its district. It is an
``agentroll.coverage/1`` document (minor 5: ``districts`` and the ``district`` marks are the
additions), so a reader of version 1 reads the province's totals, units and hosts as they are.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentroll.coverage import coverage_pct
from agentroll.model import Inventory
from agentroll.report import SCHEMA_ID, SCHEMA_MINOR, Report


@dataclass(frozen=True)
class DistrictReport:
    """One district's report, with the district's name and the inventory it was built from."""

    name: str
    inventory: str
    report: Report


def district_name(inventory: Inventory, source: Path) -> str:
    """The district's name: ``agentroll_district``, else the name of its inventory directory."""
    if inventory.letter.district:
        return inventory.letter.district
    directory = source if source.is_dir() else source.parent
    return directory.resolve().name


def province_report(districts: Sequence[DistrictReport]) -> Report:
    """Add the district reports up (see the module docstring); refuses a district given twice and a
    host name found in two districts (one store keys PCs by host name: they must differ)."""
    if not districts:
        raise ValueError("a province report needs at least one district")
    _refuse_duplicates(districts)
    first = districts[0].report

    def marked(key: str) -> list[dict[str, Any]]:
        return [{**entry, "district": part.name} for part in districts for entry in part.report.get(key, ())]

    return {
        "schema": SCHEMA_ID,
        "schema_minor": SCHEMA_MINOR,
        "generated_at": max(part.report["generated_at"] for part in districts),
        "timezone": first["timezone"],
        # Each district keeps its own deadline (in ``districts``); the province has none of its own.
        "deadline": None,
        "days_left": None,
        "deadline_warning_days": first["deadline_warning_days"],
        "totals": add_totals([part.report["totals"] for part in districts]),
        "districts": [
            {
                "district": part.name,
                "inventory": part.inventory,
                "deadline": part.report["deadline"],
                "days_left": part.report["days_left"],
                "totals": part.report["totals"],
            }
            for part in districts
        ],
        "units": marked("units"),
        "hosts": marked("hosts"),
        "reallocation": marked("reallocation"),
        "returnable": marked("returnable"),
        "stragglers": sorted(host for part in districts for host in part.report["stragglers"]),
        # Each district's history is its own runs' series; ``agentroll report -i DISTRICT`` shows it.
        "history": [],
        "letter": dict.fromkeys(first["letter"]),
        # Each district's console export is reconciled in its own report; the province adds up each
        # district's official figure, named only when every district uses the same one.
        "console": None,
        "official": _official(districts),
    }


def _official(districts: Sequence[DistrictReport]) -> str:
    kinds = {part.report.get("official", "agentroll") for part in districts}
    return kinds.pop() if len(kinds) == 1 else "mixed"


def add_totals(parts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Reports' ``totals`` added up: counts summed, state counts summed per state, coverage recomputed."""
    total: dict[str, Any] = {}
    for key, value in parts[0].items():
        if isinstance(value, Mapping):
            summed: Counter[str] = Counter()
            for part in parts:
                summed.update(part[key])
            total[key] = {state: summed[state] for state in value}
        elif not key.endswith("coverage_pct"):
            total[key] = sum(part[key] for part in parts)
    total["coverage_pct"] = coverage_pct(total["installed"], total["licenses"])
    if "official_installed" in total:
        total["official_coverage_pct"] = coverage_pct(total["official_installed"], total["licenses"])
    return {key: total[key] for key in parts[0]}


def _refuse_duplicates(districts: Sequence[DistrictReport]) -> None:
    seen_districts: set[str] = set()
    district_of: dict[str, str] = {}
    for part in districts:
        if part.name in seen_districts:
            raise ValueError(f"district '{part.name}' is given twice ({part.inventory})")
        seen_districts.add(part.name)
        for host in part.report["hosts"]:
            other = district_of.setdefault(host["host"], part.name)
            if other != part.name:
                raise ValueError(
                    f"host {host['host']} is in districts '{other}' and '{part.name}': host names must be "
                    "unique across the inventories that share one state store"
                )
