"""Coverage arithmetic, license grants within a unit, and reallocation advice between units."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentroll.coverage import (
    Advice,
    Knowledge,
    Move,
    UnitDemand,
    advise_reallocation,
    coverage_pct,
    knowledge,
    license_grants,
    unit_demand,
)
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


def eligible(*names: str) -> dict[str, Knowledge]:
    return dict.fromkeys(names, Knowledge.ELIGIBLE)


def ineligible(*names: str) -> dict[str, Knowledge]:
    return dict.fromkeys(names, Knowledge.INELIGIBLE)


def granted(grants: dict[str, bool]) -> list[str]:
    return sorted(name for name, ok in grants.items() if ok)


def test_six_licenses_eight_eligible_grants_the_first_six_by_hostname() -> None:
    names = [f"snv-{i:02d}" for i in range(8, 0, -1)]
    inventory = unit_inventory({"SNV": 6}, {"SNV": names})
    grants = license_grants(inventory, eligible(*names), installed=[])
    assert grants == {name: name <= "snv-06" for name in names}
    assert sum(grants.values()) == 6


def test_installed_hosts_keep_their_license_first() -> None:
    names = [f"snv-{i:02d}" for i in range(1, 9)]
    inventory = unit_inventory({"SNV": 6}, {"SNV": names})
    grants = license_grants(inventory, eligible(*names[:6]), installed=["snv-07", "snv-08"])
    assert granted(grants) == ["snv-01", "snv-02", "snv-03", "snv-04", "snv-07", "snv-08"]
    assert set(grants) == set(names)


def test_installed_beyond_the_allocation_hold_no_license() -> None:
    inventory = unit_inventory({"SNV": 1}, {"SNV": ["a", "b", "c"]})
    assert license_grants(inventory, eligible("c"), installed=["b", "a"]) == {
        "a": True,
        "b": False,
        "c": False,
    }


def test_a_pc_not_known_yet_keeps_its_place_and_an_ineligible_one_gives_it_up() -> None:
    inventory = unit_inventory({"SNV": 2, "VP": 0}, {"SNV": ["s1", "s2", "s3", "s4"], "VP": ["v1"]})
    # s1 never probed (missing: not known yet), s2 below the requirements.
    grants = license_grants(inventory, {**ineligible("s2"), **eligible("s3", "s4", "v1")}, installed=[])
    assert grants == {"s1": True, "s2": False, "s3": True, "s4": False, "v1": False}


def test_grants_refuse_installed_hosts_outside_the_inventory() -> None:
    inventory = unit_inventory({"SNV": 1}, {"SNV": ["a"]})
    with pytest.raises(ValueError, match="host ghost is not in the inventory"):
        license_grants(inventory, {}, installed=["ghost"])


HOSTS = [f"pc-{i:02d}" for i in range(1, 9)]
KNOWLEDGE = st.sampled_from(list(Knowledge))


@settings(max_examples=200, deadline=None)
@given(
    truth=st.fixed_dictionaries({name: KNOWLEDGE for name in HOSTS}),
    had_agent=st.sets(st.sampled_from(HOSTS)),
    licenses=st.integers(min_value=0, max_value=8),
    slice_count=st.integers(min_value=1, max_value=4),
    order=st.permutations(range(4)),
)
def test_slices_run_in_any_order_grant_the_same_hosts_and_never_more_than_the_licenses(
    truth: dict[str, Knowledge], had_agent: set[str], licenses: int, slice_count: int, order: list[int]
) -> None:
    """Each slice knows its own PCs (probed now), what earlier slices recorded, and nothing else;
    it installs on its own PCs that it grants. Whatever the order, the installs stay within the
    licenses and among those one unsliced run makes; a license held for a PC of another slice that
    turns out ineligible stays unused until the next run, which makes exactly the unsliced installs."""
    inventory = unit_inventory({"U": licenses}, {"U": HOSTS})
    had_agent = {name for name in had_agent if truth[name] is not Knowledge.INELIGIBLE}
    truth = {**truth, **dict.fromkeys(had_agent, Knowledge.ELIGIBLE)}
    unsliced = license_grants(inventory, truth, installed=had_agent)
    unsliced_installs = {n for n, ok in unsliced.items() if ok and truth[n] is Knowledge.ELIGIBLE}

    recorded: dict[str, Knowledge] = {}
    installed = set(had_agent)
    for run in ("first", "next"):
        for number in [n for n in order if n < slice_count]:
            mine = HOSTS[number::slice_count]
            known = {**recorded, **{name: truth[name] for name in mine}}
            grants = license_grants(inventory, known, installed=installed)
            for name in mine:
                recorded[name] = truth[name]
                if grants[name] and truth[name] is Knowledge.ELIGIBLE:
                    installed.add(name)
            assert len(installed - had_agent) <= max(0, licenses - len(had_agent))
            assert installed <= unsliced_installs | had_agent
        if run == "next":
            assert installed == unsliced_installs | had_agent


def advice_for(licenses: dict[str, int], counts: dict[str, tuple[int, int]]) -> Advice:
    """The advice for units with ``licenses`` and (eligible, unknown) PCs per unit code."""
    inventory = unit_inventory(licenses, {})
    demand = {code: UnitDemand(eligible, unknown) for code, (eligible, unknown) in counts.items()}
    return advise_reallocation(inventory, demand)


def test_reallocation_moves_spare_licenses_to_units_short_of_them() -> None:
    advice = advice_for(
        {"A": 10, "B": 4, "C": 5, "D": 3}, {"A": (6, 0), "B": (7, 0), "C": (5, 0), "D": (4, 0)}
    )
    assert advice.moves == (Move("A", "B", 3), Move("A", "D", 1))
    assert advice.returnable == {}


def test_reallocation_orders_donors_and_recipients_by_size_then_code() -> None:
    advice = advice_for(
        {"D1": 2, "D2": 3, "D3": 2, "R1": 0, "R2": 0},
        {"D1": (0, 0), "D2": (0, 0), "D3": (0, 0), "R1": (4, 0), "R2": (2, 0)},
    )
    assert advice.moves == (
        Move("D2", "R1", 3),
        Move("D1", "R1", 1),
        Move("D1", "R2", 1),
        Move("D3", "R2", 1),
    )
    assert advice.returnable == {"D3": 1}
    assert advice.returnable_as_list() == [{"unit": "D3", "licenses": 1}]


def test_spare_licenses_nobody_needs_are_returnable_to_the_district() -> None:
    advice = advice_for({"A": 5, "B": 2}, {"A": (2, 0), "B": (2, 0)})
    assert advice.moves == ()
    assert advice.returnable == {"A": 3}


def test_a_unit_is_never_advised_licenses_for_pcs_not_known_to_be_eligible() -> None:
    """The issue's example: 5 licenses, 8 PCs, 3 of them off. It needs nothing; today it was advised 5."""
    advice = advice_for({"SNV": 5, "VP": 10}, {"SNV": (5, 3), "VP": (2, 0)})
    assert advice.moves == ()
    assert advice.returnable == {"VP": 8}


def test_a_donor_keeps_licenses_for_its_pcs_not_reached_yet() -> None:
    # A: 6 licenses, 2 eligible, 3 not known yet: only 1 is spare. B needs 4 and gets that 1.
    advice = advice_for({"A": 6, "B": 1}, {"A": (2, 3), "B": (5, 0)})
    assert advice.moves == (Move("A", "B", 1),)
    assert advice.returnable == {}


def test_unit_missing_from_the_demand_has_no_pc_known() -> None:
    inventory = unit_inventory({"A": 2, "B": 0}, {})
    advice = advise_reallocation(inventory, {"B": UnitDemand(eligible=1)})
    assert advice.moves == (Move("A", "B", 1),)
    assert advice.returnable == {"A": 1}


@pytest.mark.parametrize(
    ("installed", "eligible", "unmanageable", "expected"),
    [
        (True, False, False, Knowledge.ELIGIBLE),  # runs the agent: uses its license whatever else
        (True, None, True, Knowledge.ELIGIBLE),
        (False, True, False, Knowledge.ELIGIBLE),
        (False, None, False, Knowledge.UNKNOWN),  # never probed, unreachable, failed before the probe
        (False, False, False, Knowledge.INELIGIBLE),
        (False, True, True, Knowledge.INELIGIBLE),  # cannot be managed, whatever an older probe said
        (False, None, True, Knowledge.INELIGIBLE),
    ],
)
def test_knowledge_of_one_pc(
    installed: bool, eligible: bool | None, unmanageable: bool, expected: Knowledge
) -> None:
    assert knowledge(installed=installed, eligible=eligible, unmanageable=unmanageable) == expected


def test_unit_demand_counts_eligible_and_unknown_pcs() -> None:
    inventory = unit_inventory({"A": 1, "B": 1}, {"A": ["a1", "a2", "a3", "a4"], "B": ["b1"]})
    knowledge_of = {"a1": Knowledge.ELIGIBLE, "a2": Knowledge.UNKNOWN, "a3": Knowledge.INELIGIBLE}
    # a4 is absent: never seen, so not known yet.
    assert unit_demand(inventory, knowledge_of) == {"A": UnitDemand(1, 2), "B": UnitDemand(0, 1)}


districts = st.dictionaries(
    st.from_regex(r"[A-Z]{1,3}", fullmatch=True),
    st.tuples(st.integers(0, 30), st.integers(0, 30), st.integers(0, 10)),
    min_size=1,
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(districts)
def test_the_advice_follows_the_contract(units: dict[str, tuple[int, int, int]]) -> None:
    """Random districts of (licenses, eligible, unknown) per unit: the moves and returns of the contract."""
    licenses = {code: count for code, (count, _, _) in units.items()}
    counts = {code: (eligible, unknown) for code, (_, eligible, unknown) in units.items()}
    advice = advice_for(licenses, counts)
    assert advice == advice_for(licenses, dict(reversed(list(counts.items()))))
    need = {code: max(0, eligible - licenses[code]) for code, (eligible, _) in counts.items()}
    spare = {
        code: max(0, licenses[code] - eligible - unknown) for code, (eligible, unknown) in counts.items()
    }
    given_away = {code: sum(m.licenses for m in advice.moves if m.source == code) for code in units}
    received = {code: sum(m.licenses for m in advice.moves if m.target == code) for code in units}
    for code in units:
        assert given_away[code] + advice.returnable.get(code, 0) == spare[code]
        assert received[code] <= need[code]
    assert all(move.licenses > 0 for move in advice.moves)
    assert sum(m.licenses for m in advice.moves) == min(sum(spare.values()), sum(need.values()))
    if advice.moves:
        first = advice.moves[0]
        assert first.source == min(spare, key=lambda code: (-spare[code], code))
        assert first.target == min(need, key=lambda code: (-need[code], code))


@settings(max_examples=300, deadline=None)
@given(districts)
def test_applying_the_advice_advises_nothing_more(units: dict[str, tuple[int, int, int]]) -> None:
    """Move the licenses as advised, report again on the same PCs: no further move, the same returns."""
    licenses = {code: count for code, (count, _, _) in units.items()}
    counts = {code: (eligible, unknown) for code, (_, eligible, unknown) in units.items()}
    advice = advice_for(licenses, counts)
    for move in advice.moves:
        licenses[move.source] -= move.licenses
        licenses[move.target] += move.licenses
    again = advice_for(licenses, counts)
    assert again.moves == ()
    assert again.returnable == advice.returnable
