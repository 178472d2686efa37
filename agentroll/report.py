"""The coverage report: the one code path that turns an inventory and the store's views into a report.

The Ansible callback and ``agentroll report`` both call ``build_report`` (or ``report_from_store``),
so a report written at the end of a run and one rebuilt later from the store are the same document.
The result is plain JSON-ready data following ``agentroll/schemas/coverage-1.json``
(``"schema": "agentroll.coverage/1"``); human formats are rendered from it by ``agentroll.reports``.
"""

from __future__ import annotations

import bisect
import dataclasses
import gc
import json
import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from agentroll import coverage, naming, next_steps, states
from agentroll.console.export import ConsoleExport, stored_export
from agentroll.console.matching import HostIndex, match_entries
from agentroll.console.reconcile import PcFacts, reconcile
from agentroll.i18n import DEFAULT_TIMEZONE, timezone
from agentroll.model import STRAGGLER_STATES, Aspect, Host, HostState, HostView, Inventory, Run, Unit
from agentroll.store import Store
from agentroll.store.coordination import AttemptSummary

SCHEMA_ID = "agentroll.coverage/1"
#: Additive revisions of the schema (agentroll/schemas/README.md): 1 added ``causes`` and ``timezone``;
#: 2 the license advice of the contract (``returnable``, ``unknown``), ``next_step``, the deadline
#: warning, ``letter`` and the unit view (``unit``); 3 the watch's ``attempts`` per host; 4 the
#: central console's count beside agentroll's (``console`` per host, per unit and district, ``official``);
#: 5 the province roll-up (``districts``, ``district`` on units, hosts, moves; ``agentroll.rollup``).
SCHEMA_MINOR = 6
SCHEMA_PATH = Path(__file__).parent / "schemas" / "coverage-1.json"

Report = dict[str, Any]


def build_report(
    inventory: Inventory,
    views: Mapping[str, HostView],
    *,
    names: Mapping[str, str],
    generated_at: datetime,
    runs: Sequence[Run] = (),
    installed_by_run: Mapping[int, int] | None = None,
    attempts: Mapping[str, AttemptSummary] | None = None,
    console: ConsoleExport | None = None,
    former_names: Mapping[str, Sequence[str]] | None = None,
) -> Report:
    """Build the ``agentroll.coverage/1`` report.

    ``views`` maps host names to their current view (hosts absent are ``unknown``); ``names`` maps
    host names to standard names; ``installed_by_run`` maps a run id to how many of the inventory's
    hosts had the agent as things stood after that run (``installed_after_each_run``), for the
    ``history`` series (runs without an entry are left out of it); ``attempts`` maps host names to
    their attempts in the latest watch that went after them; ``console`` is the latest console export
    (the four-way truth, ``agentroll.console.reconcile``) and ``former_names`` the computer names each
    PC carried before (for the console's renamed PCs).
    """
    zone_name = inventory.timezone or DEFAULT_TIMEZONE
    # Deadlines are the district's dates: count days from the report's local date.
    today = generated_at.astimezone(timezone(zone_name)).date()
    attempts = attempts or {}
    hosts = [
        _host_entry(
            host,
            views.get(host.name),
            names,
            generated_at,
            attempts.get(host.name),
            inventory.console.stale_days,
        )
        for host in inventory.hosts
    ]
    hosts.sort(key=lambda entry: (entry["unit"], entry["host"]))
    by_unit: dict[str, list[dict[str, Any]]] = {unit.code: [] for unit in inventory.units}
    for entry in hosts:
        by_unit.setdefault(entry["unit"], []).append(entry)
    demand = coverage.unit_demand(inventory, {entry["host"]: entry["_knowledge"] for entry in hosts})
    advice = coverage.advise_reallocation(inventory, demand)
    units = [
        _unit_entry(
            unit,
            by_unit[unit.code],
            demand[unit.code],
            advice.returnable.get(unit.code, 0),
            today,
            inventory.deadline_warning_days,
        )
        for unit in inventory.units
    ]
    total_licenses = sum(unit.licenses for unit in inventory.units)
    total_installed = sum(1 for entry in hosts if entry["_installed"])
    report: Report = {
        "schema": SCHEMA_ID,
        "schema_minor": SCHEMA_MINOR,
        "generated_at": _iso(generated_at),
        "timezone": zone_name,
        "deadline": _iso_date(inventory.deadline),
        "days_left": _days_left(inventory.deadline, today),
        "deadline_warning_days": inventory.deadline_warning_days,
        "totals": {
            "licenses": total_licenses,
            "hosts": len(hosts),
            "installed": total_installed,
            "coverage_pct": coverage.coverage_pct(total_installed, total_licenses),
            "states": _state_counts(entry["state"] for entry in hosts),
            **{key: sum(unit[key] for unit in units) for key in UNIT_SUMS},
        },
        "units": units,
        "hosts": [_public(entry) for entry in hosts],
        "reallocation": [move.as_dict() for move in advice.moves],
        "returnable": advice.returnable_as_list(),
        "stragglers": sorted(entry["host"] for entry in hosts if _is_straggler(entry)),
        "history": _history(runs, installed_by_run or {}, total_licenses),
        "letter": dataclasses.asdict(inventory.letter),
    }
    _add_console(report, inventory, views, console, former_names or {})
    return report


def _add_console(
    report: Report,
    inventory: Inventory,
    views: Mapping[str, HostView],
    export: ConsoleExport | None,
    former_names: Mapping[str, Sequence[str]],
) -> None:
    """The console's count beside agentroll's: per host, per unit, the district's, and which is official."""
    totals = report["totals"]
    if export is None:
        for entry in report["hosts"]:
            entry["console"] = None
        report["console"] = None
        report["official"] = "agentroll"
        totals["official_installed"] = totals["installed"]
        totals["official_coverage_pct"] = totals["coverage_pct"]
        return
    facts = {}
    for entry in report["hosts"]:
        view = views.get(entry["host"]) or HostView(host=entry["host"])
        name = view.value(Aspect.NAME) or {}
        facts[entry["host"]] = PcFacts(
            installed=states.is_installed(view),
            computer_name=name.get("computer_name"),
            pending_name=name.get("pending_name"),
            standard_name=entry["standard_name"],
            checkin=states.current_checkin(view),
            silence=states.agent_silence(view),
            former_names=tuple(former_names.get(entry["host"], ())),
        )
    computer_names = {host: fact.computer_name for host, fact in facts.items()}
    standard = {entry["host"]: entry["standard_name"] for entry in report["hosts"]}
    matches = match_entries(export.entries, HostIndex(inventory.hosts, standard, computer_names))
    truth = reconcile(inventory, export, matches, facts)
    for entry in report["hosts"]:
        entry["console"] = truth.hosts[entry["host"]]
    for unit in report["units"]:
        unit.update(truth.units[unit["code"]])
    report["console"] = truth.district
    report["official"] = inventory.console.official
    if report["official"] == "console":
        totals["official_installed"] = truth.district["reporting"]
        totals["official_coverage_pct"] = truth.district["coverage_pct"]
    else:
        totals["official_installed"] = totals["installed"]
        totals["official_coverage_pct"] = totals["coverage_pct"]


#: Unit counts the totals add up.
UNIT_SUMS = ("eligible", "unknown", "usable", "unused_licenses", "remaining")


def _host_entry(
    host: Host,
    view: HostView | None,
    names: Mapping[str, str],
    generated_at: datetime,
    attempts: AttemptSummary | None,
    stale_days: int,
) -> dict[str, Any]:
    """One host's row; keys starting with ``_`` are working values dropped from the output."""
    view = view or HostView(host=host.name)
    standard_name = names.get(host.name)
    if standard_name is None:
        raise ValueError(f"host '{host.name}': no standard name was computed for it")
    assessment = states.assess(view, standard_name, stale_days)
    name_value = view.value(Aspect.NAME) or {}
    eligibility_value = view.value(Aspect.ELIGIBILITY) or {}
    installed = states.is_installed(view)
    agent_observation = view.latest.get(Aspect.AGENT)
    step = next_steps.next_step(assessment.state, assessment.reasons)
    return {
        "host": host.name,
        "unit": host.unit,
        "state": str(assessment.state),
        "reasons": [reason.english() for reason in assessment.reasons],
        "causes": [reason.as_value() for reason in assessment.reasons],
        "next_step": step.as_value() if step else None,
        "computer_name": name_value.get("computer_name"),
        "standard_name": standard_name,
        "last_seen": _last_answered(view),
        "owner": host.owner,
        "address": host.address,
        "license": _license_status(view),
        "knowledge_age_days": _age_days(agent_observation.observed_at, generated_at)
        if agent_observation
        else None,
        "checkin": states.current_checkin(view),
        "attempts": None
        if attempts is None
        else {"count": attempts.count, "answered": attempts.answered, "since": _iso(attempts.since)},
        "_installed": installed,
        "_compliant": assessment.state == HostState.COMPLIANT,
        "_knowledge": coverage.knowledge(
            installed=installed,
            eligible=eligibility_value.get("eligible") if "eligible" in eligibility_value else None,
            unmanageable=assessment.state == HostState.UNMANAGEABLE,
        ),
    }


def _last_answered(view: HostView) -> str | None:
    """When the host last answered: its latest observation, not counting a failed contact attempt
    nor a magic packet sent to it (the controller's doing, not the PC's)."""
    answered = [
        observation.observed_at
        for observation in view.latest.values()
        if observation.aspect != Aspect.WAKE
        and not (observation.aspect == Aspect.CONTACT and observation.value.get("status") == "unreachable")
    ]
    return _iso(max(answered)) if answered else None


def _license_status(view: HostView) -> str | None:
    """The latest license decision: ``granted``, ``waiting`` (refused, with the reason why: the unit's
    licenses are taken), or None when none was made or the PC needs none (it cannot take the agent)."""
    value = view.value(Aspect.LICENSE)
    if value is None or "granted" not in value:
        return None
    if value["granted"]:
        return "granted"
    return "waiting" if value.get("reason") else None


def _public(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The row without its working (``_``-prefixed) values."""
    return {key: value for key, value in entry.items() if not key.startswith("_")}


def _is_straggler(entry: Mapping[str, Any]) -> bool:
    """A rerun should target it: not done yet, could become compliant, not waiting for a license,
    and not left to the operator's hands (a misnamed server out of the rename scope)."""
    step = entry["next_step"] or {}
    return (
        entry["state"] in STRAGGLER_STATES
        and entry["license"] != "waiting"
        and step.get("code") not in next_steps.BY_HAND_STEPS
    )


def _unit_entry(
    unit: Unit,
    mine: Sequence[Mapping[str, Any]],
    demand: coverage.UnitDemand,
    returnable: int,
    today: date,
    warning_days: int,
) -> dict[str, Any]:
    """One unit's row from its own hosts' rows: arithmetic, license balance and deadline risk."""
    installed = sum(1 for entry in mine if entry["_installed"])
    compliant = sum(1 for entry in mine if entry["_compliant"])
    usable = demand.eligible + demand.unknown
    # Finished: every license the unit can use is on a PC that is compliant (agent running, named).
    remaining = max(0, min(unit.licenses, usable) - compliant)
    days_left = _days_left(unit.deadline, today)
    return {
        "code": unit.code,
        "name": unit.name,
        "licenses": unit.licenses,
        "hosts": len(mine),
        "installed": installed,
        "coverage_pct": coverage.coverage_pct(installed, unit.licenses),
        "states": _state_counts(entry["state"] for entry in mine),
        "eligible": demand.eligible,
        "unknown": demand.unknown,
        "usable": usable,
        "unused_licenses": returnable,
        "remaining": remaining,
        "deadline": _iso_date(unit.deadline),
        "days_left": days_left,
        "will_miss_deadline": remaining > 0 and days_left is not None and days_left <= warning_days,
    }


def unit_report(report: Mapping[str, Any], code: str) -> Report:
    """The report of one unit, for its head: its row as the totals, its PCs, the advice that concerns it.

    A projection of the district report (the advice is the district's, so it is computed district-wide
    first); the history is left out, since it is the district's. ValueError names the valid codes.
    """
    units = [unit for unit in report["units"] if unit["code"] == code]
    if not units:
        valid = ", ".join(unit["code"] for unit in report["units"]) or "none"
        raise ValueError(f"unknown unit {code!r}; valid codes: {valid}")
    unit = units[0]
    hosts = [host for host in report["hosts"] if host["unit"] == code]
    names = {host["host"] for host in hosts}
    totals_keys = ("licenses", "hosts", "installed", "coverage_pct", "states", *UNIT_SUMS)
    totals = {key: unit[key] for key in totals_keys}
    console = report.get("console")
    if console:
        console = _unit_console(console, unit, hosts, names)
        official = report.get("official") == "console"
        totals["official_installed"] = console["reporting"] if official else unit["installed"]
        totals["official_coverage_pct"] = console["coverage_pct"] if official else unit["coverage_pct"]
    elif "official_installed" in report["totals"]:
        totals["official_installed"] = unit["installed"]
        totals["official_coverage_pct"] = unit["coverage_pct"]
    return {
        **report,
        "unit": code,
        "deadline": unit["deadline"],
        "days_left": unit["days_left"],
        "totals": totals,
        **({"console": console} if "console" in report else {}),
        "units": [unit],
        "hosts": hosts,
        "reallocation": [move for move in report["reallocation"] if code in (move["from"], move["to"])],
        "returnable": [entry for entry in report.get("returnable", ()) if entry["unit"] == code],
        "stragglers": [name for name in report["stragglers"] if name in names],
        "history": [],
    }


#: States that only a PC with the agent installed can be in.
_AGENT_STATES = frozenset(
    {HostState.COMPLIANT, HostState.REBOOT_PENDING, HostState.MISNAMED, HostState.AGENT_UNHEALTHY}
)


def _unit_console(
    console: Mapping[str, Any], unit: Mapping[str, Any], hosts: Sequence[Mapping[str, Any]], names: set[str]
) -> dict[str, Any]:
    """The console's block for one unit: its count, and the entries that concern its PCs."""
    truths = [(host.get("console") or {}).get("truth") for host in hosts]
    return {
        **console,
        "reporting": unit.get("console_reporting", 0),
        "coverage_pct": unit.get("console_coverage_pct", 0.0),
        "matched": sum(1 for host in hosts if (host.get("console") or {}).get("matched_by")),
        # The unit's rows carry states, not the installed flag: the states of an installed agent.
        "installed_reporting": sum(
            1
            for host, truth in zip(hosts, truths, strict=True)
            if truth == "reporting" and host["state"] in _AGENT_STATES
        ),
        "not_reporting": truths.count("not_reporting") + truths.count("stale"),
        "misnamed_on_console": sum(1 for host in hosts if (host.get("console") or {}).get("name_truth")),
        "unknown": [entry for entry in console["unknown"] if entry.get("unit") == unit["code"]],
        "ambiguous": [entry for entry in console["ambiguous"] if names & set(entry["candidates"])],
        "conflicts": [entry for entry in console["conflicts"] if names & set(entry["candidates"])],
        "duplicates": [entry for entry in console["duplicates"] if entry["host"] in names],
    }


def _state_counts(host_states: Iterable[str]) -> dict[str, int]:
    """Every state as a key (zeros included), in the design's order."""
    counts = Counter(host_states)
    return {state.value: counts.get(state.value, 0) for state in HostState}


def _history(
    runs: Sequence[Run], installed_by_run: Mapping[int, int], total_licenses: int
) -> list[dict[str, Any]]:
    """Coverage as it stood after each run, oldest first."""
    series = []
    for run in sorted(runs, key=lambda run: run.id):
        installed = installed_by_run.get(run.id)
        if installed is None:
            continue
        series.append(
            {
                "run_id": run.id,
                "playbook": run.playbook,
                "started_at": _iso(run.started_at),
                "finished_at": _iso(run.finished_at) if run.finished_at else None,
                "status": run.status,
                "check_mode": run.check_mode,
                "operator": run.operator,
                "installed": installed,
                "coverage_pct": coverage.coverage_pct(installed, total_licenses),
            }
        )
    return series


def installed_after_each_run(
    run_ids: Iterable[int], agent_timelines: Mapping[str, Sequence[tuple[int, Mapping[str, Any]]]]
) -> dict[int, int]:
    """How many hosts had the agent as things stood after each run, from every host's agent timeline.

    After run R a host's agent is its latest agent observation (by time) among those of runs up to
    R. Walking a host's timeline (``(run_id, value)`` in observation order) from the newest back,
    each observation is that latest for the runs from its own up to, not including, the smallest
    run of the newer ones: one pass over the timelines, whatever the number of runs.
    """
    ids = sorted(set(run_ids))
    changes = [0] * (len(ids) + 1)
    verdicts: dict[int, bool] = {}  # equal values are one object: judge each once
    for timeline in agent_timelines.values():
        newer_runs_from: int | None = None
        for run_id, value in reversed(timeline):
            if newer_runs_from is not None and run_id >= newer_runs_from:
                continue  # a newer observation of an earlier (or the same) run hides it everywhere
            installed = verdicts.get(id(value))
            if installed is None:
                installed = verdicts[id(value)] = states.agent_installed(value)
            if installed:
                changes[bisect.bisect_left(ids, run_id)] += 1
                changes[
                    len(ids) if newer_runs_from is None else bisect.bisect_left(ids, newer_runs_from)
                ] -= 1
            newer_runs_from = run_id
    installed_count, counted = 0, {}
    for index, run_id in enumerate(ids):
        installed_count += changes[index]
        counted[run_id] = installed_count
    return counted


def _iso(moment: datetime) -> str:
    """ISO 8601 in UTC, to the second, with a ``Z``."""
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {moment.isoformat()} has no time zone")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso_date(day: date | None) -> str | None:
    """A date as ``YYYY-MM-DD``, or None."""
    return day.isoformat() if day else None


def _days_left(deadline: date | None, today: date) -> int | None:
    """Days from the report's local date to the deadline (negative once passed), or None."""
    return (deadline - today).days if deadline else None


def _age_days(observed_at: datetime, generated_at: datetime) -> int:
    """Whole days since an observation (never negative, for clocks a little apart)."""
    return max(0, (generated_at - observed_at).days)


def report_from_store(
    inventory: Inventory, store: Store, *, now: datetime | None = None, template: str | None = None
) -> Report:
    """Build the report from the state store: current views, standard names and per-run history.

    Four reads of one consistent state, however many runs the store holds: the runs, every host's
    latest observations, every host's agent timeline for the history, and the watch's attempts.
    """
    host_names = [host.name for host in inventory.hosts]
    with _cycle_collector_paused():
        with store.reading():
            runs = store.runs()
            views = store.views(host_names)
            agent_timelines = store.timelines(Aspect.AGENT, host_names)
            attempts = store.attempt_summaries(host_names)
            stored = store.latest_console_export()
            name_timelines = store.timelines(Aspect.NAME, host_names) if stored else {}
        return build_report(
            inventory,
            views,
            names=naming.standard_names(inventory, template),
            generated_at=now or datetime.now(UTC),
            runs=runs,
            installed_by_run=installed_after_each_run((run.id for run in runs), agent_timelines),
            attempts=attempts,
            console=stored_export(stored) if stored else None,
            former_names={
                host: [value["computer_name"] for _, value in timeline if value.get("computer_name")]
                for host, timeline in name_timelines.items()
            },
        )


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block (the collector resumes as it was after it).

    A report allocates a few objects per observation, hundreds of thousands for a province, and none
    of them in cycles; the collector would walk them again and again as they pile up (a sixth of
    the report's CPU at 10,000 PCs), to free nothing.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def to_json(report: Mapping[str, Any]) -> str:
    """The report as JSON text: UTF-8 (Vietnamese kept readable), indented, keys in report order."""
    return json.dumps(report, ensure_ascii=False, indent=2) + "\n"


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write a file so that readers see the old or the new content, never a partial one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes the file private (0600); a report is for reading by others.
        os.fchmod(descriptor, 0o644)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (not possible on every platform, hence best effort)."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
