"""Coverage arithmetic, license grants within a unit, and advice on moving licenses between units."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from agentroll.model import Inventory


def coverage_pct(installed: int, licenses: int) -> float:
    """Installed / licenses in percent, one decimal, half up (62/190 → 32.6); 0 licenses → 0.0."""
    if licenses <= 0:
        return 0.0
    # Decimal, not float: 0.25 % steps must round up the way an official report does, not to even.
    percent = Decimal(installed) * 100 / Decimal(licenses)
    return float(percent.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Move:
    """Advice: move ``licenses`` licenses from unit ``source`` to unit ``target``."""

    source: str
    target: str
    licenses: int

    def as_dict(self) -> dict[str, str | int]:
        return {"from": self.source, "to": self.target, "licenses": self.licenses}


def license_grants(
    inventory: Inventory, knowledge_of: Mapping[str, Knowledge], installed: Collection[str]
) -> dict[str, bool]:
    """Decide which hosts hold one of their unit's licenses, the same way in every job slice.

    Within a unit the licenses go down one queue until they run out: hosts that already have the
    agent first, then every host not known to be ineligible (eligible, or not known yet), each group
    by inventory hostname. A host whose eligibility is not known yet keeps its place, so two slices
    of one run, each knowing only its own PCs, grant the same hosts and never more than the licenses
    between them; the price is a license held for a PC that turns out ineligible or stays off, left
    unused until a later run knows it. ``knowledge_of`` misses → not known yet. Returns an entry for
    every inventory host; known-ineligible hosts and hosts of undeclared units hold none.
    """
    installed_set = set(installed)
    grants = {host.name: False for host in inventory.hosts}
    for name in sorted(installed_set - grants.keys()):
        raise ValueError(f"host {name} is not in the inventory")
    members_of: dict[str, list[str]] = {unit.code: [] for unit in inventory.units}
    for host in inventory.hosts:
        members_of.setdefault(host.unit, []).append(host.name)
    for unit in inventory.units:
        members = sorted(members_of[unit.code])
        queue = [n for n in members if n in installed_set] + [
            n
            for n in members
            if n not in installed_set and knowledge_of.get(n, Knowledge.UNKNOWN) is not Knowledge.INELIGIBLE
        ]
        for name in queue[: unit.licenses]:
            grants[name] = True
    return grants


class Knowledge(StrEnum):
    """What is known of one PC's ability to use a license where it is (the reallocation contract)."""

    #: Probed and meeting the requirements, or already running the agent.
    ELIGIBLE = "eligible"
    #: Not known yet: never probed, unreachable or failed before the probe.
    UNKNOWN = "unknown"
    #: Known not to: below the requirements, or a PC that cannot be managed remotely.
    INELIGIBLE = "ineligible"


def knowledge(*, installed: bool, eligible: bool | None, unmanageable: bool) -> Knowledge:
    """Classify a PC for the reallocation: ``eligible`` is its latest eligibility (None: never judged).

    A PC that runs the agent uses its license whatever else is known; one that cannot be managed
    cannot take it, whatever an older probe said.
    """
    if installed:
        return Knowledge.ELIGIBLE
    if unmanageable:
        return Knowledge.INELIGIBLE
    if eligible is None:
        return Knowledge.UNKNOWN
    return Knowledge.ELIGIBLE if eligible else Knowledge.INELIGIBLE


@dataclass(frozen=True)
class UnitDemand:
    """One unit's PCs as the reallocation counts them."""

    eligible: int = 0
    unknown: int = 0

    def need(self, licenses: int) -> int:
        """Licenses the unit lacks for its known-eligible PCs: max(0, eligible - licenses)."""
        return max(0, self.eligible - licenses)

    def spare(self, licenses: int) -> int:
        """Licenses it can give: max(0, licenses - eligible - unknown); PCs not reached yet keep theirs."""
        return max(0, licenses - self.eligible - self.unknown)


def unit_demand(inventory: Inventory, knowledge_of: Mapping[str, Knowledge]) -> dict[str, UnitDemand]:
    """Per unit code, its eligible and unknown PCs; a host missing from ``knowledge_of`` is unknown."""
    counts = {unit.code: Counter[Knowledge]() for unit in inventory.units}
    for host in inventory.hosts:
        if host.unit in counts:
            counts[host.unit][knowledge_of.get(host.name, Knowledge.UNKNOWN)] += 1
    return {
        code: UnitDemand(eligible=count[Knowledge.ELIGIBLE], unknown=count[Knowledge.UNKNOWN])
        for code, count in counts.items()
    }


@dataclass(frozen=True)
class Advice:
    """The license advice of a district: moves between units, and licenses to return to the district."""

    moves: tuple[Move, ...]
    #: Unit code → spare licenses no unit needs, in inventory order (units with > 0 only).
    returnable: dict[str, int]

    def returnable_as_list(self) -> list[dict[str, str | int]]:
        """The report's form: ``[{"unit": code, "licenses": n}, ...]``."""
        return [{"unit": code, "licenses": count} for code, count in self.returnable.items()]


def advise_reallocation(inventory: Inventory, demand: Mapping[str, UnitDemand]) -> Advice:
    """The reallocation advice of ``shared/design.md``, the one function every caller uses.

    Per unit: need = max(0, eligible - licenses), spare = max(0, licenses - eligible - unknown). The
    advice moves min(Σ spare, Σ need) licenses, the largest donor to the largest recipient first,
    ties by unit code; spare that nobody needs is returnable to the district. Applying the moves and
    advising again on the same PCs yields no move: a recipient gets at most its need (so it has no
    spare afterwards) and a donor gives at most its spare (so it needs none). A unit missing from
    ``demand`` has no PC known.
    """
    spare: dict[str, int] = {}
    need: dict[str, int] = {}
    for unit in inventory.units:
        counts = demand.get(unit.code, UnitDemand())
        if counts.spare(unit.licenses):
            spare[unit.code] = counts.spare(unit.licenses)
        if counts.need(unit.licenses):
            need[unit.code] = counts.need(unit.licenses)
    moves = _greedy_moves(spare, need)
    return Advice(moves=tuple(moves), returnable={code: left for code, left in spare.items() if left})


def _greedy_moves(spare: dict[str, int], need: dict[str, int]) -> list[Move]:
    """Match the largest donors with the largest recipients (ties by code); consumes both dicts."""
    donors = sorted(spare, key=lambda code: (-spare[code], code))
    recipients = sorted(need, key=lambda code: (-need[code], code))
    moves: list[Move] = []
    donor_index = recipient_index = 0
    while donor_index < len(donors) and recipient_index < len(recipients):
        donor, recipient = donors[donor_index], recipients[recipient_index]
        amount = min(spare[donor], need[recipient])
        moves.append(Move(source=donor, target=recipient, licenses=amount))
        spare[donor] -= amount
        need[recipient] -= amount
        if spare[donor] == 0:
            donor_index += 1
        if need[recipient] == 0:
            recipient_index += 1
    return moves
