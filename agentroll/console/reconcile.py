"""The four-way truth: agentroll's view of each PC beside the central console's.

1. installed and reporting: on the console, last report at most ``stale_days`` before the export
   (what the province counts);
2. installed but not reporting: agentroll found the agent, the console does not list it or last
   heard from it too long ago, with the likely cause (the PC cannot reach the management server,
   reaches it but the console does not list it: another server, or stale); or the console listed
   it as reporting, but a probe after the export read the agent's own last contact with its server
   more than ``stale_days`` before it (``decided_by`` says whose word made the truth);
3. on the console but not in the inventory: an unknown PC (add it to the roster), or one renamed
   (its console name was an inventory PC's name);
4. console name ≠ standard name: the rename is pending, or done and the console still shows the old
   name until the agent reports again.

``reconcile`` returns the report's additions (``agentroll/schemas/README.md``, minor 4).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agentroll import coverage
from agentroll.console.export import ConsoleEntry, ConsoleExport, iso
from agentroll.console.matching import Match
from agentroll.model import Inventory
from agentroll.naming import is_correctly_named
from agentroll.reasons import Reason


@dataclass(frozen=True)
class PcFacts:
    """What agentroll knows of a PC that the reconciliation needs."""

    installed: bool
    computer_name: str | None
    pending_name: str | None
    standard_name: str
    #: The probe's check-in (``checkin`` observation) or None.
    checkin: Mapping[str, Any] | None = None
    #: When the probe read the agent's own last contact, and how many days before the probe it was
    #: (``agentroll.states.agent_silence``), or None.
    silence: tuple[datetime, int] | None = None
    #: Computer names the PC carried before (from the store), for the "renamed" hint.
    former_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reconciliation:
    """Per host its ``console`` entry, per unit the console's count, and the district's ``console``."""

    hosts: dict[str, dict[str, Any]]
    units: dict[str, dict[str, Any]]
    district: dict[str, Any]


def reconcile(
    inventory: Inventory,
    export: ConsoleExport,
    matches: Sequence[Match],
    facts: Mapping[str, PcFacts],
) -> Reconciliation:
    """Weigh the console's export against agentroll's knowledge of every inventory PC."""
    settings = inventory.console
    chosen: dict[str, Match] = {}
    duplicates: list[dict[str, Any]] = []
    for match in matches:
        if match.host is None:
            continue
        earlier = chosen.get(match.host)
        if earlier is None:
            chosen[match.host] = match
            continue
        # One PC twice on the console (an agent reinstalled): the latest report stands for it.
        newer, older = sorted((earlier, match), key=lambda m: _seen_key(m.entry), reverse=True)
        chosen[match.host] = newer
        duplicates.append({"host": match.host, **older.entry.as_value()})
    hosts = {
        host.name: _host_console(chosen.get(host.name), facts[host.name], export, settings.stale_days)
        for host in inventory.hosts
    }
    reporting_by_unit = Counter(
        host.unit for host in inventory.hosts if hosts[host.name]["truth"] == "reporting"
    )
    units = {
        unit.code: {
            "console_reporting": reporting_by_unit[unit.code],
            "console_coverage_pct": coverage.coverage_pct(reporting_by_unit[unit.code], unit.licenses),
        }
        for unit in inventory.units
    }
    unknown = [
        _unknown_entry(match.entry, inventory, facts)
        for match in matches
        if match.host is None and not match.problem
    ]
    reporting_entries = sum(1 for entry in export.entries if _reports(entry, export, settings.stale_days))
    licenses = sum(unit.licenses for unit in inventory.units)
    truths = [entry["truth"] for entry in hosts.values()]
    district = {
        "exported_at": iso(export.exported_at),
        "source": export.source,
        "stale_days": settings.stale_days,
        "entries": len(export.entries),
        "reporting": reporting_entries,
        "coverage_pct": coverage.coverage_pct(reporting_entries, licenses),
        "matched": len(chosen),
        "installed_reporting": sum(
            1 for host, entry in hosts.items() if entry["truth"] == "reporting" and facts[host].installed
        ),
        "not_reporting": truths.count("not_reporting") + truths.count("stale"),
        "misnamed_on_console": sum(1 for entry in hosts.values() if entry["name_truth"]),
        "unknown": unknown,
        "ambiguous": [_problem_entry(match) for match in matches if match.problem == "ambiguous"],
        "conflicts": [_problem_entry(match) for match in matches if match.problem == "conflict"],
        "duplicates": duplicates,
    }
    return Reconciliation(hosts, units, district)


def _seen_key(entry: ConsoleEntry) -> tuple[bool, str]:
    return (entry.last_seen is not None, iso(entry.last_seen) if entry.last_seen else "")


def _reports(entry: ConsoleEntry, export: ConsoleExport, stale_days: int) -> bool:
    """Reported within ``stale_days`` of the export."""
    return entry.last_seen is not None and (export.exported_at - entry.last_seen).days <= stale_days


def _host_console(
    match: Match | None, facts: PcFacts, export: ConsoleExport, stale_days: int
) -> dict[str, Any]:
    """One PC's ``console`` entry: what the console says of it, the truth it makes and why."""
    entry = match.entry if match else None
    checkin = facts.checkin or {}
    unreachable = checkin.get("reachable") is False
    # The agent's own word counts where it is newer than the console's: read by a probe after the export.
    silent_days = facts.silence[1] if facts.silence and facts.silence[0] > export.exported_at else None
    agent_silent = silent_days is not None and silent_days > stale_days
    cause: Reason | None = None
    decided_by = "console"
    if entry is None:
        truth = "not_reporting" if facts.installed else "absent"
        if facts.installed:
            cause = _not_listed_cause(checkin, silent_days if agent_silent else None)
    elif _reports(entry, export, stale_days):
        truth = "reporting"
        if agent_silent:
            truth, decided_by = "stale", "agent"
            cause = _unreachable(checkin) if unreachable else Reason("agent_silent", {"days": silent_days})
    else:
        truth = "stale"
        if unreachable:
            cause = _unreachable(checkin)
        elif entry.last_seen is None:
            cause = Reason("console_never_reported")
        else:
            cause = Reason("console_stale", {"days": (export.exported_at - entry.last_seen).days})
    name_truth, name_cause = _name_truth(entry, facts)
    return {
        "computer_name": entry.computer_name if entry else None,
        "matched_by": match.key if match else None,
        "last_seen": iso(entry.last_seen) if entry and entry.last_seen else None,
        "agent_version": entry.agent_version if entry else None,
        "truth": truth,
        "decided_by": decided_by,
        "cause": cause.as_value() if cause else None,
        "name_truth": name_truth,
        "name_cause": name_cause.as_value() if name_cause else None,
    }


def _not_listed_cause(checkin: Mapping[str, Any], silent_days: int | None) -> Reason:
    """Why an installed agent is not on the console: its PC cannot reach the server, the agent has
    not reached it for too long by its own account, or it reaches one the console is not (another)."""
    if checkin.get("reachable") is False:
        return _unreachable(checkin)
    if silent_days is not None:
        return Reason("agent_silent", {"days": silent_days})
    return Reason("console_not_listed_reachable" if checkin.get("reachable") else "console_not_listed")


def _unreachable(checkin: Mapping[str, Any]) -> Reason:
    return Reason("server_unreachable", {"server": checkin.get("server") or "?"})


def _name_truth(entry: ConsoleEntry | None, facts: PcFacts) -> tuple[str | None, Reason | None]:
    """``rename_pending`` or ``console_old_name`` when the console's name is not the standard one."""
    if entry is None or is_correctly_named(entry.computer_name, facts.standard_name):
        return None, None
    values = {"console_name": entry.computer_name, "standard_name": facts.standard_name}
    renamed = facts.pending_name or facts.computer_name
    if renamed and is_correctly_named(renamed, facts.standard_name):
        return "console_old_name", Reason("console_old_name", values)
    return "rename_pending", Reason("console_rename_pending", values)


def _unknown_entry(entry: ConsoleEntry, inventory: Inventory, facts: Mapping[str, PcFacts]) -> dict[str, Any]:
    """An entry no inventory PC matched: add it to the roster, unless its name was a PC's before."""
    name = entry.computer_name.lower()
    renamed = sorted(
        host for host, known in facts.items() if name in (former.lower() for former in known.former_names)
    )
    group = (entry.group or "").lower()
    unit = next(
        (u.code for u in inventory.units if group and group in (u.code.lower(), u.name.lower())), None
    )
    return {
        **entry.as_value(),
        "unit": unit,
        "hint": "renamed" if renamed else "add_to_roster",
        "host": renamed[0] if renamed else None,
    }


def _problem_entry(match: Match) -> dict[str, Any]:
    return {**match.entry.as_value(), "key": match.key, "candidates": list(match.candidates)}
