"""Coverage arithmetic, license grants within a unit, and advice on moving licenses between units."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

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
    inventory: Inventory, eligible: Collection[str], installed: Collection[str]
) -> dict[str, bool]:
    """Decide which hosts hold one of their unit's licenses.

    Within a unit, hosts that already have the agent keep a license first, then eligible hosts
    without it, each group by inventory hostname, until the unit's licenses run out. Returns an
    entry for every host in ``eligible`` or ``installed``; hosts outside the inventory are refused.
    """
    known = {host.name: host.unit for host in inventory.hosts}
    installed_set, candidates = set(installed), set(eligible) | set(installed)
    for name in sorted(candidates):
        if name not in known:
            raise ValueError(f"host {name} is not in the inventory")
    grants: dict[str, bool] = {}
    for unit in inventory.units:
        members = sorted(name for name in candidates if known[name] == unit.code)
        queue = [n for n in members if n in installed_set] + [n for n in members if n not in installed_set]
        for position, name in enumerate(queue):
            grants[name] = position < unit.licenses
    for name in candidates - grants.keys():
        # A host whose unit is not declared has no licenses to take.
        grants[name] = False
    return grants


def _free_and_demand(
    inventory: Inventory, usable: Mapping[str, int]
) -> tuple[dict[str, int], dict[str, int]]:
    """Per unit code: licenses beyond its usable PCs, and usable PCs beyond its licenses.

    A unit missing from ``usable`` has no usable PC known.
    """
    free: dict[str, int] = {}
    demand: dict[str, int] = {}
    for unit in inventory.units:
        balance = unit.licenses - usable.get(unit.code, 0)
        if balance > 0:
            free[unit.code] = balance
        elif balance < 0:
            demand[unit.code] = -balance
    return free, demand


def _greedy_moves(free: dict[str, int], demand: dict[str, int]) -> list[Move]:
    """Match the largest donors with the largest recipients (ties by code); consumes both dicts."""
    donors = sorted(free, key=lambda code: (-free[code], code))
    recipients = sorted(demand, key=lambda code: (-demand[code], code))
    moves: list[Move] = []
    donor_index = recipient_index = 0
    while donor_index < len(donors) and recipient_index < len(recipients):
        donor, recipient = donors[donor_index], recipients[recipient_index]
        amount = min(free[donor], demand[recipient])
        moves.append(Move(source=donor, target=recipient, licenses=amount))
        free[donor] -= amount
        demand[recipient] -= amount
        if free[donor] == 0:
            donor_index += 1
        if demand[recipient] == 0:
            recipient_index += 1
    return moves


def advise_reallocation(inventory: Inventory, usable: Mapping[str, int]) -> list[Move]:
    """Advise license moves from units with more licenses than usable PCs to units short of them.

    ``usable`` is, per unit code, the number of PCs that can run the agent. Deterministic; never
    takes more than a unit has free nor gives more than a unit lacks.
    """
    free, demand = _free_and_demand(inventory, usable)
    return _greedy_moves(free, demand)


def unused_licenses(inventory: Inventory, usable: Mapping[str, int]) -> dict[str, int]:
    """Per unit code, the free licenses nobody takes even after the advised moves (units with > 0)."""
    free, demand = _free_and_demand(inventory, usable)
    _greedy_moves(free, demand)
    return {code: left for code, left in free.items() if left > 0}
