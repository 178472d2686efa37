"""Coverage arithmetic, license grants within a unit, and reallocation advice between units."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentroll.coverage import Move, advise_reallocation, coverage_pct, license_grants, unused_licenses
from agentroll.model import Host, Inventory, Unit


@pytest.mark.parametrize(
    ("installed", "licenses", "pct"),
    [
        (62, 190, 32.6),
        (0, 0, 0.0),
        (5, 0, 0.0),
        (0, 190, 0.0),
        (190, 190, 100.0),
        (1, 8, 12.5),  # exactly 12.5, one decimal already
        (1, 16, 6.3),  # 6.25 rounds half up, not to even (float rounding would give 6.2)
        (1, 80, 1.3),  # 1.25 → 1.3
        (3, 80, 3.8),  # 3.75 → 3.8
        (1, 3, 33.3),
        (2, 3, 66.7),
        (7, 6, 116.7),  # more agents than licenses is reported as it is
    ],
)
def test_coverage_pct(installed: int, licenses: int, pct: float) -> None:
    assert coverage_pct(installed, licenses) == pct


def test_move_as_dict_uses_report_keys() -> None:
    assert Move("SNV", "VP", 3).as_dict() == {"from": "SNV", "to": "VP", "licenses": 3}


def unit_inventory(licenses: dict[str, int], hosts: dict[str, list[str]]) -> Inventory:
    """Units with the given licenses; hosts per unit code by name."""
    units = tuple(Unit(code, f"Unit {code}", count, code.lower()) for code, count in licenses.items())
    members = tuple(Host(name, code) for code, names in hosts.items() for name in names)
    return Inventory(units=units, hosts=members)


def test_six_licenses_eight_eligible_grants_the_first_six_by_hostname() -> None:
    names = [f"snv-{i:02d}" for i in range(8, 0, -1)]
    inventory = unit_inventory({"SNV": 6}, {"SNV": names})
    grants = license_grants(inventory, eligible=names, installed=[])
    assert grants == {name: name <= "snv-06" for name in names}
    assert sum(grants.values()) == 6


def test_installed_hosts_keep_their_license_first() -> None:
    names = [f"snv-{i:02d}" for i in range(1, 9)]
    inventory = unit_inventory({"SNV": 6}, {"SNV": names})
    grants = license_grants(inventory, eligible=names[:6], installed=["snv-07", "snv-08"])
    granted = sorted(name for name, ok in grants.items() if ok)
    assert granted == ["snv-01", "snv-02", "snv-03", "snv-04", "snv-07", "snv-08"]
    assert set(grants) == set(names)


def test_installed_beyond_the_allocation_hold_no_license() -> None:
    inventory = unit_inventory({"SNV": 1}, {"SNV": ["a", "b", "c"]})
    assert license_grants(inventory, eligible=["c"], installed=["b", "a"]) == {
        "a": True,
        "b": False,
        "c": False,
    }


def test_grants_are_per_unit_and_cover_exactly_eligible_and_installed() -> None:
    inventory = unit_inventory({"SNV": 1, "VP": 0}, {"SNV": ["s1", "s2", "s3"], "VP": ["v1"]})
    grants = license_grants(inventory, eligible=["s2", "s3", "v1"], installed=[])
    assert grants == {"s2": True, "s3": False, "v1": False}


def test_grants_refuse_hosts_outside_the_inventory() -> None:
    inventory = unit_inventory({"SNV": 1}, {"SNV": ["a"]})
    with pytest.raises(ValueError, match="host ghost is not in the inventory"):
        license_grants(inventory, eligible=["ghost"], installed=[])


def test_reallocation_moves_free_licenses_to_units_short_of_them() -> None:
    inventory = unit_inventory({"A": 10, "B": 4, "C": 5, "D": 3}, {})
    usable = {"A": 6, "B": 7, "C": 5, "D": 4}
    assert advise_reallocation(inventory, usable) == [Move("A", "B", 3), Move("A", "D", 1)]
    assert unused_licenses(inventory, usable) == {}


def test_reallocation_orders_donors_and_recipients_by_size_then_code() -> None:
    inventory = unit_inventory({"D1": 2, "D2": 3, "D3": 2, "R1": 0, "R2": 0}, {})
    usable = {"D1": 0, "D2": 0, "D3": 0, "R1": 4, "R2": 2}
    assert advise_reallocation(inventory, usable) == [
        Move("D2", "R1", 3),
        Move("D1", "R1", 1),
        Move("D1", "R2", 1),
        Move("D3", "R2", 1),
    ]
    assert unused_licenses(inventory, usable) == {"D3": 1}


def test_free_licenses_with_nobody_to_take_them_are_reported_unused() -> None:
    inventory = unit_inventory({"A": 5, "B": 2}, {})
    usable = {"A": 2, "B": 2}
    assert advise_reallocation(inventory, usable) == []
    assert unused_licenses(inventory, usable) == {"A": 3}


def test_unit_missing_from_usable_has_no_usable_pc() -> None:
    inventory = unit_inventory({"A": 2, "B": 0}, {})
    assert advise_reallocation(inventory, {"B": 1}) == [Move("A", "B", 1)]


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.from_regex(r"[A-Z]{1,3}", fullmatch=True),
        st.tuples(st.integers(0, 30), st.integers(0, 30)),
        min_size=1,
        max_size=8,
    )
)
def test_reallocation_never_moves_more_than_free_or_demanded(units: dict[str, tuple[int, int]]) -> None:
    inventory = unit_inventory({code: licenses for code, (licenses, _) in units.items()}, {})
    usable = {code: count for code, (_, count) in units.items()}
    moves = advise_reallocation(inventory, usable)
    assert moves == advise_reallocation(inventory, dict(reversed(list(usable.items()))))
    given_away = {code: sum(m.licenses for m in moves if m.source == code) for code in units}
    received = {code: sum(m.licenses for m in moves if m.target == code) for code in units}
    for code, (licenses, count) in units.items():
        assert given_away[code] <= max(licenses - count, 0)
        assert received[code] <= max(count - licenses, 0)
        assert not (given_away[code] and received[code])
    assert all(move.licenses > 0 for move in moves)
    total_free = sum(max(lic - cnt, 0) for lic, cnt in units.values())
    total_demand = sum(max(cnt - lic, 0) for lic, cnt in units.values())
    assert sum(m.licenses for m in moves) == min(total_free, total_demand)
    assert sum(unused_licenses(inventory, usable).values()) == total_free - min(total_free, total_demand)
