"""The coverage report: the one code path that turns an inventory and the store's views into a report.

The Ansible callback and ``agentroll report`` both call ``build_report`` (or ``report_from_store``),
so a report written at the end of a run and one rebuilt later from the store are the same document.
The result is plain JSON-ready data following ``agentroll/schemas/coverage-1.json``
(``"schema": "agentroll.coverage/1"``); human formats are rendered from it by ``agentroll.reports``.
"""

from __future__ import annotations

import bisect
import json
import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from agentroll import coverage, naming, states
from agentroll.i18n import DEFAULT_TIMEZONE, timezone
from agentroll.model import STRAGGLER_STATES, Aspect, Host, HostState, HostView, Inventory, Run, Unit
from agentroll.store import Store
from agentroll.store.coordination import AttemptSummary

SCHEMA_ID = "agentroll.coverage/1"
#: Additive revisions of the schema (agentroll/schemas/README.md): 1 added ``causes`` and ``timezone``,
#: 2 ``attempts``.
SCHEMA_MINOR = 2
SCHEMA_PATH = Path(__file__).parent / "schemas" / "coverage-1.json"

#: States of hosts that can never use a license where they are: their licenses may move elsewhere.
UNUSABLE_STATES = frozenset({HostState.INELIGIBLE, HostState.UNMANAGEABLE})

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
) -> Report:
    """Build the ``agentroll.coverage/1`` report.

    ``views`` maps host names to their current view (hosts absent are ``unknown``); ``names`` maps
    host names to standard names; ``installed_by_run`` maps a run id to how many of the inventory's
    hosts had the agent as things stood after that run (``installed_after_each_run``), for the
    ``history`` series (runs without an entry are left out of it); ``attempts`` maps host names to
    their attempts in the latest watch that went after them.
    """
    zone_name = inventory.timezone or DEFAULT_TIMEZONE
    # Deadlines are the district's dates: count days from the report's local date.
    today = generated_at.astimezone(timezone(zone_name)).date()
    attempts = attempts or {}
    hosts = [
        _host_entry(host, views.get(host.name), names, generated_at, attempts.get(host.name))
        for host in inventory.hosts
    ]
    hosts.sort(key=lambda entry: (entry["unit"], entry["host"]))
    by_unit: dict[str, list[dict[str, Any]]] = {unit.code: [] for unit in inventory.units}
    for entry in hosts:
        by_unit.setdefault(entry["unit"], []).append(entry)
    usable = {unit.code: sum(map(_is_usable, by_unit[unit.code])) for unit in inventory.units}
    unused = coverage.unused_licenses(inventory, usable)
    units = [
        _unit_entry(unit, by_unit[unit.code], usable[unit.code], unused.get(unit.code, 0), today)
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
        "totals": {
            "licenses": total_licenses,
            "hosts": len(hosts),
            "installed": total_installed,
            "coverage_pct": coverage.coverage_pct(total_installed, total_licenses),
            "states": _state_counts(entry["state"] for entry in hosts),
            "eligible": sum(unit["eligible"] for unit in units),
            "usable": sum(unit["usable"] for unit in units),
            "unused_licenses": sum(unit["unused_licenses"] for unit in units),
        },
        "units": units,
        "hosts": [_public(entry) for entry in hosts],
        "reallocation": [move.as_dict() for move in coverage.advise_reallocation(inventory, usable)],
        "stragglers": sorted(entry["host"] for entry in hosts if _is_straggler(entry)),
        "history": _history(runs, installed_by_run or {}, total_licenses),
    }
    return report


def _host_entry(
    host: Host,
    view: HostView | None,
    names: Mapping[str, str],
    generated_at: datetime,
    attempts: AttemptSummary | None,
) -> dict[str, Any]:
    """One host's row; keys starting with ``_`` are working values dropped from the output."""
    view = view or HostView(host=host.name)
    standard_name = names.get(host.name)
    if standard_name is None:
        raise ValueError(f"host '{host.name}': no standard name was computed for it")
    assessment = states.assess(view, standard_name)
    name_value = view.value(Aspect.NAME) or {}
    eligibility_value = view.value(Aspect.ELIGIBILITY) or {}
    installed = states.is_installed(view)
    agent_observation = view.latest.get(Aspect.AGENT)
    return {
        "host": host.name,
        "unit": host.unit,
        "state": str(assessment.state),
        "reasons": [reason.english() for reason in assessment.reasons],
        "causes": [reason.as_value() for reason in assessment.reasons],
        "computer_name": name_value.get("computer_name"),
        "standard_name": standard_name,
        "last_seen": _last_answered(view),
        "owner": host.owner,
        "address": host.address,
        "license": _license_status(view),
        "knowledge_age_days": _age_days(agent_observation.observed_at, generated_at)
        if agent_observation
        else None,
        "attempts": None
        if attempts is None
        else {"count": attempts.count, "answered": attempts.answered, "since": _iso(attempts.since)},
        "_installed": installed,
        "_eligible": installed or eligibility_value.get("eligible") is True,
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
    """The latest license decision: ``granted``, ``waiting`` or None when none was made."""
    value = view.value(Aspect.LICENSE)
    if value is None or "granted" not in value:
        return None
    return "granted" if value["granted"] else "waiting"


def _public(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The row without its working (``_``-prefixed) values."""
    return {key: value for key, value in entry.items() if not key.startswith("_")}


def _is_usable(entry: Mapping[str, Any]) -> bool:
    """A host could carry a license unless it is known never to run the agent (or Ansible) as it is."""
    return entry["state"] not in UNUSABLE_STATES


def _is_straggler(entry: Mapping[str, Any]) -> bool:
    """A rerun should target it: not done yet, could become compliant, and not waiting for a license."""
    return entry["state"] in STRAGGLER_STATES and entry["license"] != "waiting"


def _unit_entry(
    unit: Unit, mine: Sequence[Mapping[str, Any]], usable: int, unused: int, today: date
) -> dict[str, Any]:
    """One unit's row from its own hosts' rows: arithmetic, license balance and deadline risk."""
    installed = sum(1 for entry in mine if entry["_installed"])
    days_left = _days_left(unit.deadline, today)
    return {
        "code": unit.code,
        "name": unit.name,
        "licenses": unit.licenses,
        "hosts": len(mine),
        "installed": installed,
        "coverage_pct": coverage.coverage_pct(installed, unit.licenses),
        "states": _state_counts(entry["state"] for entry in mine),
        "eligible": sum(1 for entry in mine if entry["_eligible"]),
        "usable": usable,
        "unused_licenses": unused,
        "deadline": _iso_date(unit.deadline),
        "days_left": days_left,
        # At risk: a deadline is set and the unit is not yet covered as far as it can be.
        "will_miss_deadline": days_left is not None and installed < min(unit.licenses, usable),
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
    with store.reading():
        runs = store.runs()
        views = store.views(host_names)
        agent_timelines = store.timelines(Aspect.AGENT, host_names)
        attempts = store.attempt_summaries(host_names)
    return build_report(
        inventory,
        views,
        names=naming.standard_names(inventory, template),
        generated_at=now or datetime.now(UTC),
        runs=runs,
        installed_by_run=installed_after_each_run((run.id for run in runs), agent_timelines),
        attempts=attempts,
    )


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
