"""``agentroll watch``: keep going after the stragglers until none is left or the deadline passes.

Each round takes the stragglers of the report (what ``agentroll stragglers`` lists), wakes those that
do not answer (``playbooks/wake.yml``: a Wake-on-LAN magic packet to each PC with a MAC, then a
bounded wait), runs the deployment (``playbooks/site.yml``) on the PCs that answered, and records
one attempt per straggler in the store: a magic packet sent or not, answered or not. The report then says of a
PC that stayed silent "no answer on 5 of 5 attempts since 02/12".

The watch's state is in the store (``Store.open_watch``): stopped (Ctrl-C, SIGTERM) or killed, the
next ``agentroll watch`` of the same inventory continues it, attempts and deadline included; while
one process watches an inventory, another refuses to. Every deployment takes a lease on its PCs
(``agentroll.toolkit.lease`` in the playbooks), so a watch never deploys to a PC that another
watch or a manual run is deploying to at that moment. Every ``ansible-playbook`` starts through
``agentroll.runner``.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from agentroll.i18n import DEFAULT_TIMEZONE, timezone
from agentroll.inventory import load_inventory
from agentroll.model import Aspect, ContactStatus, Inventory
from agentroll.report import write_atomic
from agentroll.rerun import DEFAULT_PLAYBOOK, stragglers
from agentroll.runner import PlaybookRun, ProgressLine, RunResult, Snapshot, run_playbook
from agentroll.runner.display import duration
from agentroll.store import StoreError, default_state_location, open_store
from agentroll.store.coordination import Attempt, Watch, WatchBusy

WAKE_PLAYBOOK = Path("playbooks") / "wake.yml"
DEFAULT_EVERY = 600.0
_EVERY = re.compile(r"^\s*(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>s|sec|m|min|h)?\s*$")
_UNIT_SECONDS = {None: 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}


class WatchError(Exception):
    """The watch cannot start or go on; one line for the operator."""


def parse_every(text: str) -> float:
    """``--every``: ``10m``, ``90s``, ``1h`` or plain seconds; at least one second."""
    found = _EVERY.match(text)
    if found is None:
        raise ValueError(f"--every {text!r}: give a duration such as 10m, 90s or 1h")
    seconds = float(found["number"]) * _UNIT_SECONDS[found["unit"]]
    if seconds < 1:
        raise ValueError(f"--every {text!r}: at least one second")
    return seconds


def parse_until(text: str, zone_name: str | None = None) -> datetime:
    """``--until``: a date (the end of that day, local time) or a date and time (local unless it says).

    Local time is the inventory's zone (``agentroll_timezone``), else Asia/Ho_Chi_Minh.
    """
    zone = timezone(zone_name or DEFAULT_TIMEZONE)
    try:
        if len(text.strip()) == 10:
            return end_of_day(date.fromisoformat(text.strip()), zone_name)
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"--until {text!r}: give a date (2026-12-15) or a date and time (2026-12-15T17:00)"
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).astimezone(UTC)


def end_of_day(day: date, zone_name: str | None = None) -> datetime:
    """The first moment after ``day`` in the district's time zone, in UTC: a deadline's end."""
    zone = timezone(zone_name or DEFAULT_TIMEZONE)
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), zone).astimezone(UTC)


def inventory_deadline(inventory: Inventory) -> datetime | None:
    """The end of the latest deadline the inventory sets (the district's or any unit's), or None."""
    days = [day for day in (inventory.deadline, *(unit.deadline for unit in inventory.units)) if day]
    return end_of_day(max(days), inventory.timezone) if days else None


@dataclass(frozen=True)
class RoundOutcome:
    """One round: the stragglers it went after, those a magic packet went to, those that answered
    (and were deployed to)."""

    number: int
    stragglers: tuple[str, ...]
    wake_sent: tuple[str, ...]
    answered: tuple[str, ...]
    results: tuple[RunResult, ...]


@dataclass
class WatchOutcome:
    """How the watch ended: ``done`` (no straggler left), ``deadline`` (passed) or ``stopped``."""

    watch_id: int
    status: str = "running"
    rounds: list[RoundOutcome] = field(default_factory=list)
    remaining: list[str] = field(default_factory=list)


def _run_on_stderr(run: PlaybookRun, label: str) -> RunResult:
    """A run as the command line shows it: one progress line on stderr, ansible-playbook's output hidden."""
    line = ProgressLine(sys.stderr)

    def show(snapshot: Snapshot) -> None:
        step = f"{snapshot.current} · " if snapshot.current else ""
        line.update(f"agentroll watch: {label}: {step}{duration(snapshot.seconds)}")

    result = run_playbook(run, on_progress=show)
    line.done(f"agentroll watch: {label}: exit code {result.rc} in {duration(result.seconds)}")
    return result


def watch(
    inventory: Path,
    *,
    every: float = DEFAULT_EVERY,
    until: datetime | str | None = None,
    state: str | Path | None = None,
    playbook: str | Path = DEFAULT_PLAYBOOK,
    wake_playbook: str | Path = WAKE_PLAYBOOK,
    limit_dir: Path | None = None,
    extra_args: Sequence[str] = (),
    forks: int | None = None,
    env: Mapping[str, str] | None = None,
    template: str | None = None,
    run: Callable[[PlaybookRun, str], RunResult] = _run_on_stderr,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time.sleep,
    say: Callable[[str], None] = lambda text: print(text, file=sys.stderr, flush=True),
) -> WatchOutcome:
    """Watch ``inventory`` round after round until no straggler is left or ``until`` passes.

    ``until`` (a datetime, or ``--until`` text read in the inventory's time zone) None means the
    open watch's deadline when one is continued, else the inventory's latest deadline. ``state``
    is the store (path or URL; default ``$AGENTROLL_STATE``, else the default location), handed to
    every run with ``env``. ``run(playbook_run, label)`` runs one
    playbook (default: the runner, with a progress line on stderr). Ctrl-C or SIGTERM stops the
    watch so that the next ``agentroll watch`` continues it; the exception is re-raised.
    """
    district = load_inventory(inventory)
    if isinstance(until, str):
        until = parse_until(until, district.timezone)
    location = str(state) if state is not None else default_state_location()
    run_env = {**(env or {}), "AGENTROLL_STATE": location}
    report_dir = run_env.get("AGENTROLL_REPORT_DIR") or os.environ.get("AGENTROLL_REPORT_DIR") or "reports"
    limit_dir = limit_dir or Path(report_dir)
    key = str(inventory.resolve())
    try:
        with open_store(location) as store:
            current, continued = store.open_watch(
                key,
                until=until,
                every_seconds=every,
                pid=os.getpid(),
                now=now(),
                default_until=inventory_deadline(district),
            )
    except WatchBusy as error:
        raise WatchError(str(error)) from None
    except ValueError:
        raise WatchError(
            f"{inventory}: no deadline to watch until: give --until, or set agentroll_deadline"
        ) from None
    except StoreError as error:
        raise WatchError(str(error)) from None
    say(_opening(current, continued, district.timezone))
    outcome = WatchOutcome(current.id)
    rounds = _Rounds(inventory, location, run_env, playbook, wake_playbook, limit_dir, extra_args, forks, run)
    try:
        hosts = stragglers(district, location, template)
        while True:
            started = now()
            if not hosts:
                outcome.status = "done"
                break
            if started >= current.until:
                outcome.status = "deadline"
                break
            number = current.rounds + len(outcome.rounds) + 1
            say(f"agentroll watch: round {number}: {len(hosts)} straggler(s): {_listing(hosts)}")
            this_round = rounds.one(number, hosts)
            with open_store(location) as store:
                store.record_round(current.id, _attempts(this_round), now=started)
            outcome.rounds.append(this_round)
            say(_summary(this_round))
            hosts = stragglers(district, location, template)
            next_round = started + timedelta(seconds=every)
            wait = (min(next_round, current.until) - now()).total_seconds()
            if hosts and wait > 0:
                say(f"agentroll watch: next round at {_local(next_round, district.timezone)}")
                sleep(wait)
    except BaseException:
        _finish(location, current.id, "stopped", now())
        say("agentroll watch: stopped; run it again to continue this watch")
        raise
    outcome.remaining = list(hosts)
    _finish(location, current.id, outcome.status, now())
    if outcome.status == "done":
        say("agentroll watch: no straggler left")
    else:
        say(f"agentroll watch: deadline passed; {len(outcome.remaining)} straggler(s) left")
    return outcome


@dataclass(frozen=True)
class _Rounds:
    """What one round runs, and how."""

    inventory: Path
    location: str
    env: Mapping[str, str]
    playbook: str | Path
    wake_playbook: str | Path
    limit_dir: Path
    extra_args: Sequence[str]
    forks: int | None
    run: Callable[[PlaybookRun, str], RunResult]

    def one(self, number: int, hosts: Sequence[str]) -> RoundOutcome:
        """Wake the stragglers that do not answer, then deploy to those that answered."""
        with open_store(self.location, readonly=True) as store:
            before = store.last_run_id()
        results = [self._play(self.wake_playbook, hosts, f"round {number}: wake")]
        if not results[0].completed:
            raise WatchError(f"round {number}: {self.wake_playbook} stopped with exit code {results[0].rc}")
        wake_sent, answered = _wake_sent_and_answered(self.location, hosts, after_run=before)
        if answered:
            results.append(self._play(self.playbook, answered, f"round {number}: deploy"))
            if not results[-1].completed:
                raise WatchError(f"round {number}: {self.playbook} stopped with exit code {results[-1].rc}")
        return RoundOutcome(number, tuple(hosts), tuple(wake_sent), tuple(answered), tuple(results))

    def _play(self, playbook: str | Path, hosts: Sequence[str], label: str) -> RunResult:
        limit_file = self.limit_dir / "watch-limit.txt"
        write_atomic(limit_file, "".join(f"{host}\n" for host in hosts))
        run = PlaybookRun(
            playbook,
            self.inventory,
            limit=f"@{limit_file.resolve()}",
            env=self.env,
            forks=self.forks,
            args=tuple(self.extra_args),
            hosts=len(hosts),
        )
        return self.run(run, label)


def _wake_sent_and_answered(
    location: str, hosts: Sequence[str], *, after_run: int
) -> tuple[list[str], list[str]]:
    """Of ``hosts``: those a magic packet went to, and those that answered, in runs after ``after_run``."""
    with open_store(location, readonly=True) as store:
        views = store.views(hosts)
    wake_sent, answered = [], []
    for host in hosts:
        view = views.get(host)
        if view is None:
            continue
        packet = view.latest.get(Aspect.WAKE)
        if packet is not None and packet.run_id > after_run:
            wake_sent.append(host)
        contact = view.latest.get(Aspect.CONTACT)
        if (
            contact is not None
            and contact.run_id > after_run
            and contact.value.get("status") == ContactStatus.OK
        ):
            answered.append(host)
    return wake_sent, answered


def _attempts(outcome: RoundOutcome) -> list[Attempt]:
    wake_sent, answered = set(outcome.wake_sent), set(outcome.answered)
    return [Attempt(host, host in wake_sent, host in answered) for host in outcome.stragglers]


def _finish(location: str, watch_id: int, status: str, moment: datetime) -> None:
    with open_store(location) as store:
        store.finish_watch(watch_id, status, now=moment)


def _opening(current: Watch, continued: bool, zone: str | None) -> str:
    until = _local(current.until, zone)
    if continued:
        since = _local(current.started_at, zone)
        return (
            f"agentroll watch: continuing the watch started {since} ({current.rounds} round(s) so far), "
            f"until {until}, every {duration(current.every_seconds)}"
        )
    return f"agentroll watch: until {until}, every {duration(current.every_seconds)}"


def _summary(outcome: RoundOutcome) -> str:
    # Whether a PC that answered woke for the packet or was switched on by its user, nobody knows here.
    silent = len(outcome.stragglers) - len(outcome.answered)
    return (
        f"agentroll watch: round {outcome.number}: {len(outcome.wake_sent)} magic packet(s) sent, "
        f"{len(outcome.answered)} answered and deployed to, {silent} silent"
    )


def _local(moment: datetime, zone: str | None) -> str:
    return moment.astimezone(timezone(zone or DEFAULT_TIMEZONE)).strftime("%Y-%m-%d %H:%M")


def _listing(hosts: Sequence[str], shown: int = 8) -> str:
    rest = len(hosts) - shown
    return ", ".join(hosts[:shown]) + (f" and {rest} more" if rest > 0 else "")
