"""The report's license advice on recorded observations, its license decisions, and the unit view."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentroll.model import Aspect, Host, HostView, Inventory, Observation, Unit
from agentroll.report import build_report, unit_report

NOW = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
SEEN = NOW - timedelta(hours=2)

#: What the store may know of a PC, as the observations a run records.
KINDS: dict[str, list[tuple[Aspect, dict[str, Any]]]] = {
    "installed": [
        (Aspect.CONTACT, {"status": "ok", "reason": None}),
        (Aspect.AGENT, {"installed": True, "service_state": "running"}),
        (Aspect.ELIGIBILITY, {"eligible": True, "reasons": []}),
    ],
    "eligible": [
        (Aspect.CONTACT, {"status": "ok", "reason": None}),
        (Aspect.AGENT, {"installed": False}),
        (Aspect.ELIGIBILITY, {"eligible": True, "reasons": []}),
    ],
    "ineligible": [
        (Aspect.CONTACT, {"status": "ok", "reason": None}),
        (Aspect.AGENT, {"installed": False}),
        (
            Aspect.ELIGIBILITY,
            {"eligible": False, "reasons": [{"code": "ram", "measured": 1024, "required": 2048}]},
        ),
        (Aspect.LICENSE, {"granted": False, "reason": None}),
    ],
    "unmanageable": [
        (Aspect.CONTACT, {"status": "unmanageable", "reason": "Ansible requires PowerShell v5.1"})
    ],
    "off": [(Aspect.CONTACT, {"status": "unreachable", "reason": "connection refused"})],
    "off_known_eligible": [
        (Aspect.ELIGIBILITY, {"eligible": True, "reasons": []}),
        (Aspect.AGENT, {"installed": False}),
        (Aspect.CONTACT, {"status": "unreachable", "reason": "timed out"}),
    ],
    "never_seen": [],
}
ELIGIBLE_KINDS = {"installed", "eligible", "off_known_eligible"}
UNKNOWN_KINDS = {"off", "never_seen"}


def view_of(name: str, kind: str) -> HostView | None:
    observations = KINDS[kind]
    if not observations:
        return None
    latest = {
        aspect: Observation(name, aspect, value, SEEN + timedelta(seconds=index), run_id=1)
        for index, (aspect, value) in enumerate(observations)
    }
    return HostView(host=name, latest=latest, last_run_id=1)


def district(units: dict[str, tuple[int, list[str]]]) -> tuple[Inventory, dict[str, HostView]]:
    """Units by code: (licenses, the kind of each PC)."""
    inventory_units, hosts, views = [], [], {}
    for code, (licenses, kinds) in units.items():
        inventory_units.append(Unit(code, f"Unit {code}", licenses, code.lower()))
        for index, kind in enumerate(kinds):
            name = f"{code.lower()}-{index:02d}"
            hosts.append(Host(name, code))
            view = view_of(name, kind)
            if view is not None:
                views[name] = view
    return Inventory(units=tuple(inventory_units), hosts=tuple(hosts)), views


def report_of(inventory: Inventory, views: dict[str, HostView]) -> dict[str, Any]:
    names = {host.name: f"{host.unit}-{host.name.upper().replace('-', '')}"[:15] for host in inventory.hosts}
    return build_report(inventory, views, names=names, generated_at=NOW)


def apply(inventory: Inventory, report: dict[str, Any]) -> Inventory:
    """The inventory after the district moved and took back the licenses as advised."""
    licenses = {unit.code: unit.licenses for unit in inventory.units}
    for move in report["reallocation"]:
        licenses[move["from"]] -= move["licenses"]
        licenses[move["to"]] += move["licenses"]
    for entry in report["returnable"]:
        licenses[entry["unit"]] -= entry["licenses"]
    units = tuple(dataclasses.replace(unit, licenses=licenses[unit.code]) for unit in inventory.units)
    return dataclasses.replace(inventory, units=units)


def test_five_licenses_eight_pcs_three_off_is_advised_nothing() -> None:
    """The issue's example: the report said "5 licenses, 8 eligible PCs" and advised 5 more."""
    inventory, views = district(
        {
            "SNV": (5, ["installed"] * 3 + ["eligible"] * 2 + ["off"] * 3),
            "VP": (10, ["installed"] * 2),
        }
    )
    report = report_of(inventory, views)
    snv = next(unit for unit in report["units"] if unit["code"] == "SNV")
    assert (snv["eligible"], snv["unknown"], snv["usable"]) == (5, 3, 8)
    assert report["reallocation"] == []
    assert report["returnable"] == [{"unit": "VP", "licenses": 8}]


def test_a_donor_keeps_licenses_for_pcs_not_reached_and_known_eligible_ones_count() -> None:
    inventory, views = district(
        {
            # 6 licenses: 2 eligible, 1 off (unknown), 1 off but probed eligible before: 2 spare.
            "A": (6, ["installed", "eligible", "off", "off_known_eligible"]),
            # 1 license, 4 known eligible: needs 3; its ineligible and unmanageable PCs need none.
            "B": (1, ["installed", "eligible", "eligible", "eligible", "ineligible", "unmanageable"]),
        }
    )
    report = report_of(inventory, views)
    assert report["reallocation"] == [{"from": "A", "to": "B", "licenses": 2}]
    assert report["returnable"] == []


districts = st.dictionaries(
    st.from_regex(r"[A-Z]{1,3}", fullmatch=True),
    st.tuples(st.integers(0, 8), st.lists(st.sampled_from(sorted(KINDS)), max_size=8)),
    min_size=1,
    max_size=6,
)


@settings(max_examples=150, deadline=None)
@given(districts)
def test_applying_the_advice_and_reporting_again_advises_nothing_more(
    units: dict[str, tuple[int, list[str]]],
) -> None:
    """Random districts recorded as observations: the report's advice follows the contract, and the
    report on the same observations after the licenses moved advises no further move or return."""
    inventory, views = district(units)
    report = report_of(inventory, views)
    for unit in report["units"]:
        kinds = units[unit["code"]][1]
        assert unit["eligible"] == sum(kind in ELIGIBLE_KINDS for kind in kinds)
        assert unit["unknown"] == sum(kind in UNKNOWN_KINDS for kind in kinds)
    received = {move["to"] for move in report["reallocation"]}
    for unit in report["units"]:
        if unit["code"] in received:  # never more than the known-eligible PCs beyond its licenses
            given = sum(move["licenses"] for move in report["reallocation"] if move["to"] == unit["code"])
            assert given <= unit["eligible"] - unit["licenses"]
    again = report_of(apply(inventory, report), views)
    assert again["reallocation"] == [] and again["returnable"] == []


def test_a_pc_that_cannot_take_the_agent_waits_for_no_license() -> None:
    inventory, views = district({"A": (0, ["ineligible", "eligible"])})
    waiting = {
        "granted": False,
        "reason": {"code": "license_waiting", "unit": "A", "licenses": 0, "eligible": 1},
    }
    views["a-01"].latest[Aspect.LICENSE] = Observation("a-01", Aspect.LICENSE, waiting, SEEN, run_id=1)
    hosts = {host["host"]: host for host in report_of(inventory, views)["hosts"]}
    assert hosts["a-00"]["license"] is None  # refused a license because it cannot use one
    assert hosts["a-01"]["license"] == "waiting"


# --- the view of one unit ---------------------------------------------------------------------------


@pytest.fixture
def two_units() -> dict[str, Any]:
    inventory, views = district(
        {
            "A": (6, ["installed", "eligible", "off"]),
            "B": (1, ["installed", "eligible", "eligible", "ineligible"]),
            "C": (3, []),
        }
    )
    return report_of(inventory, views)


def test_the_unit_view_is_that_unit_and_what_concerns_it(two_units: dict[str, Any]) -> None:
    view = unit_report(two_units, "B")
    assert view["unit"] == "B"
    assert [unit["code"] for unit in view["units"]] == ["B"]
    assert {host["unit"] for host in view["hosts"]} == {"B"} and len(view["hosts"]) == 4
    unit = view["units"][0]
    assert {key: view["totals"][key] for key in ("licenses", "hosts", "installed", "coverage_pct")} == {
        "licenses": unit["licenses"],
        "hosts": 4,
        "installed": unit["installed"],
        "coverage_pct": unit["coverage_pct"],
    }
    # A can spare 6 - 2 eligible - 1 unknown = 3, B needs 3 eligible - 1 license = 2: A gives B 2.
    assert view["reallocation"] == [
        move for move in two_units["reallocation"] if "B" in (move["from"], move["to"])
    ]
    assert view["reallocation"]
    assert view["returnable"] == []
    assert set(view["stragglers"]) <= {host["host"] for host in view["hosts"]}
    assert view["history"] == []
    # The district report is left as it was.
    assert len(two_units["units"]) == 3 and "unit" not in two_units


def test_an_unknown_unit_names_the_valid_codes(two_units: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"^unknown unit 'Z'; valid codes: A, B, C$"):
        unit_report(two_units, "Z")
