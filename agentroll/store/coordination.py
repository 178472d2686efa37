"""Who is working on which PCs right now, kept in the store so that it holds across processes.

**Leases.** A run that changes PCs (install, rename, reboot) first takes a lease on each of them;
a PC whose lease another live holder has is left alone by that run. A holder is a process on a
controller: on the same controller it is alive while its pid lives and was not reused (the same
check as for runs, ``identity.still_running``); a holder on another controller, whose processes
cannot be seen from here, is taken as gone once its lease expires. A lease is never released by
anybody but its holder; it simply stops counting when its holder is gone.

**Watches.** ``agentroll watch`` keeps its loop's state in a row of ``watches`` per inventory: when
it started (the "since" of the attempts), its deadline, its interval and round count. A watch
stopped (Ctrl-C) or killed is taken over by the next ``agentroll watch`` of the same inventory,
which continues it; one whose holder is alive refuses a second watcher. Each round records one
attempt per PC it went after (a magic packet sent or not, answered or not).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from agentroll.store.backend import StoreError
from agentroll.store.identity import controller_name, current_operator, still_running
from agentroll.store.times import from_text as _time
from agentroll.store.times import to_text as _text

#: A lease taken by a process of another controller stops counting after this long.
LEASE_LIFETIME = timedelta(hours=6)
#: A watch of another controller is taken as gone this long after its next round was due.
WATCH_GRACE = timedelta(minutes=30)

_LEASE_COLUMNS = "host, purpose, operator, controller, pid, acquired_at, expires_at"
_WATCH_COLUMNS = (
    "id, inventory, started_at, until_at, every_seconds, status, finished_at, rounds, operator,"
    " controller, pid, held_since, expires_at"
)
#: A watch in one of these states may be continued by the next ``agentroll watch`` of its inventory.
OPEN_WATCH_STATES = ("running", "stopped")


@dataclass(frozen=True)
class Holder:
    """The process that holds a lease or a watch."""

    operator: str | None
    controller: str
    pid: int
    since: datetime
    expires_at: datetime

    def alive(self, now: datetime) -> bool:
        """Whether the holder still counts (see the module's docstring)."""
        if self.controller == controller_name():
            return still_running(self.pid, self.since)
        return now < self.expires_at

    def describe(self) -> str:
        """``pid 4242 on ctl-01 (Phạm Văn Thắng) since 2026-12-02T03:04:05Z``."""
        who = f" ({self.operator})" if self.operator else ""
        return f"pid {self.pid} on {self.controller}{who} since {self.since.strftime('%Y-%m-%dT%H:%M:%SZ')}"


@dataclass(frozen=True)
class Lease:
    """A PC held by a run (``purpose``: the playbook)."""

    host: str
    purpose: str
    holder: Holder


@dataclass(frozen=True)
class Watch:
    """A watch of one inventory, as the store keeps it."""

    id: int
    inventory: str
    started_at: datetime
    until: datetime
    every_seconds: float
    status: str
    rounds: int
    holder: Holder
    finished_at: datetime | None = None


class WatchBusy(StoreError):
    """Another live process watches this inventory; the message names it."""


@dataclass(frozen=True)
class Attempt:
    """One PC in one round of a watch: whether a magic packet went to it and whether it answered."""

    host: str
    wake_sent: bool
    answered: bool
    run_id: int | None = None


@dataclass(frozen=True)
class AttemptSummary:
    """A PC's attempts in the latest watch that went after it: ``answered`` of ``count`` since ``since``."""

    count: int
    answered: int
    since: datetime


class CoordinationTables:
    """Leases and watches: the ``Store`` methods over the tables of migration 3."""

    # Provided by ``Store`` (agentroll.store.core).
    _lock: Any
    _backend: Any

    def _query(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...
    def _write(self, sql: str, parameters: Sequence[Any]) -> None: ...
    def _write_returning(self, sql: str, parameters: Sequence[Any]) -> tuple[Any, ...] | None: ...
    def writing(self) -> Any: ...

    # -- leases ---------------------------------------------------------------------------------

    def acquire_leases(
        self,
        hosts: Iterable[str],
        *,
        purpose: str,
        pid: int,
        operator: str | None = None,
        now: datetime,
        lifetime: timedelta = LEASE_LIFETIME,
    ) -> dict[str, Lease]:
        """Take a lease on every host no other live holder has; return those refused, with their lease.

        The holder is process ``pid`` on this controller (a lease it already holds is renewed);
        ``operator`` defaults to ``identity.current_operator()``.
        """
        wanted = sorted(set(hosts))
        here = controller_name()
        refused: dict[str, Lease] = {}
        mine = Holder(
            operator if operator is not None else current_operator(),
            here,
            pid,
            now,
            now + lifetime,
        )
        with self.writing():
            for chunk in _chunks(wanted):
                marks = ", ".join("?" * len(chunk))
                rows = self._query(f"SELECT {_LEASE_COLUMNS} FROM leases WHERE host IN ({marks})", chunk)
                for lease in map(_lease, rows):
                    ours = lease.holder.controller == here and lease.holder.pid == pid
                    if not ours and lease.holder.alive(now):
                        refused[lease.host] = lease
                granted = [host for host in chunk if host not in refused]
                if not granted:
                    continue
                marks = ", ".join("?" * len(granted))
                self._write(f"DELETE FROM leases WHERE host IN ({marks})", granted)
                values = ", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * len(granted))
                parameters: list[Any] = []
                for host in granted:
                    parameters += (
                        host,
                        purpose,
                        mine.operator,
                        here,
                        pid,
                        _text(now),
                        _text(mine.expires_at),
                    )
                self._write(f"INSERT INTO leases ({_LEASE_COLUMNS}) VALUES {values}", parameters)
        return refused

    def release_leases(self, pid: int, hosts: Iterable[str] | None = None) -> None:
        """Give back the leases process ``pid`` of this controller holds (on ``hosts``, or all)."""
        here = controller_name()
        if hosts is None:
            self._write("DELETE FROM leases WHERE controller = ? AND pid = ?", (here, pid))
            return
        for chunk in _chunks(sorted(set(hosts))):
            marks = ", ".join("?" * len(chunk))
            self._write(
                f"DELETE FROM leases WHERE controller = ? AND pid = ? AND host IN ({marks})",
                (here, pid, *chunk),
            )

    def leases(self, now: datetime) -> list[Lease]:
        """The leases whose holders still count, by host."""
        rows = self._query(f"SELECT {_LEASE_COLUMNS} FROM leases ORDER BY host")
        return [lease for lease in map(_lease, rows) if lease.holder.alive(now)]

    # -- watches --------------------------------------------------------------------------------

    def open_watch(
        self,
        inventory: str,
        *,
        until: datetime | None,
        every_seconds: float,
        pid: int,
        now: datetime,
        default_until: datetime | None = None,
    ) -> tuple[Watch, bool]:
        """Start watching ``inventory``, or continue its open watch; return it and whether it was continued.

        The deadline is ``until``, else a continued watch's own, else ``default_until`` (a new watch
        without any raises ValueError). Raises ``WatchBusy`` when a live process watches the
        inventory already.
        """
        with self.writing():
            rows = self._query(
                f"SELECT {_WATCH_COLUMNS} FROM watches WHERE inventory = ? AND status IN (?, ?)"
                " ORDER BY id DESC LIMIT 1",
                (inventory, *OPEN_WATCH_STATES),
            )
            previous = _watch(rows[0]) if rows else None
            if previous is not None and previous.status == "running" and previous.holder.alive(now):
                raise WatchBusy(f"{inventory} is already watched by {previous.holder.describe()}")
            deadline = until or (previous.until if previous is not None else default_until)
            if deadline is None:
                raise ValueError("a new watch needs a deadline")
            expires = now + timedelta(seconds=every_seconds) + WATCH_GRACE
            operator, here = current_operator(), controller_name()
            if previous is not None:
                self._write(
                    "UPDATE watches SET status = 'running', until_at = ?, every_seconds = ?, operator = ?,"
                    " controller = ?, pid = ?, held_since = ?, expires_at = ? WHERE id = ?",
                    (
                        _text(deadline),
                        every_seconds,
                        operator,
                        here,
                        pid,
                        _text(now),
                        _text(expires),
                        previous.id,
                    ),
                )
                watch_id = previous.id
            else:
                row = self._write_returning(
                    "INSERT INTO watches (inventory, started_at, until_at, every_seconds, status, rounds,"
                    " operator, controller, pid, held_since, expires_at)"
                    " VALUES (?, ?, ?, ?, 'running', 0, ?, ?, ?, ?, ?) RETURNING id",
                    (
                        inventory,
                        _text(now),
                        _text(deadline),
                        every_seconds,
                        operator,
                        here,
                        pid,
                        _text(now),
                        _text(expires),
                    ),
                )
                assert row is not None
                watch_id = int(row[0])
            return self.watch(watch_id), previous is not None

    def watch(self, watch_id: int) -> Watch:
        """The watch with this id."""
        rows = self._query(f"SELECT {_WATCH_COLUMNS} FROM watches WHERE id = ?", (watch_id,))
        if not rows:
            raise ValueError(f"watch {watch_id} does not exist")
        return _watch(rows[0])

    def record_round(self, watch_id: int, attempts: Sequence[Attempt], *, now: datetime) -> int:
        """Record one round's attempts (one transaction) and keep the watch alive; return the round number."""
        with self.writing():
            watch = self.watch(watch_id)
            number = watch.rounds + 1
            expires = now + timedelta(seconds=watch.every_seconds) + WATCH_GRACE
            self._write(
                "UPDATE watches SET rounds = ?, expires_at = ? WHERE id = ?",
                (number, _text(expires), watch_id),
            )
            for chunk in _chunks(list(attempts), 100):
                values = ", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * len(chunk))
                parameters: list[Any] = []
                for attempt in chunk:
                    parameters += (
                        watch_id,
                        number,
                        attempt.host,
                        _text(now),
                        int(attempt.wake_sent),
                        int(attempt.answered),
                        attempt.run_id,
                    )
                self._write(
                    "INSERT INTO watch_attempts"
                    f" (watch_id, round, host, attempted_at, wake_sent, answered, run_id) VALUES {values}",
                    parameters,
                )
        return number

    def finish_watch(self, watch_id: int, status: str, *, now: datetime) -> None:
        """End a watch: ``done`` (no PC left), ``deadline`` (passed) or ``stopped`` (continued next time)."""
        finished = None if status == "stopped" else _text(now)
        self._write(
            "UPDATE watches SET status = ?, finished_at = ? WHERE id = ?", (status, finished, watch_id)
        )

    def attempt_summaries(self, hosts: Iterable[str] | None = None) -> dict[str, AttemptSummary]:
        """Per host, its attempts in the latest watch that went after it."""
        wanted = None if hosts is None else set(hosts)
        rows = self._query(
            "SELECT a.host, count(*), sum(a.answered), min(a.attempted_at) FROM watch_attempts AS a"
            " JOIN (SELECT host, max(watch_id) AS watch_id FROM watch_attempts GROUP BY host) AS latest"
            " ON latest.host = a.host AND latest.watch_id = a.watch_id GROUP BY a.host"
        )
        return {
            host: AttemptSummary(int(count), int(answered or 0), _time(since))
            for host, count, answered, since in rows
            if wanted is None or host in wanted
        }


def _chunks(items: Sequence[Any], size: int = 500) -> list[Sequence[Any]]:
    """``items`` in slices small enough for one statement's parameters."""
    return [items[start : start + size] for start in range(0, len(items), size)]


def _lease(row: Sequence[Any]) -> Lease:
    host, purpose, operator, controller, pid, acquired_at, expires_at = row
    return Lease(host, purpose, Holder(operator, controller, int(pid), _time(acquired_at), _time(expires_at)))


def _watch(row: Sequence[Any]) -> Watch:
    (
        watch_id,
        inventory,
        started_at,
        until_at,
        every,
        status,
        finished_at,
        rounds,
        operator,
        controller,
        pid,
        held_since,
        expires_at,
    ) = row
    return Watch(
        id=int(watch_id),
        inventory=inventory,
        started_at=_time(started_at),
        until=_time(until_at),
        every_seconds=float(every),
        status=status,
        rounds=int(rounds),
        holder=Holder(operator, controller, int(pid), _time(held_since), _time(expires_at)),
        finished_at=_time(finished_at) if finished_at else None,
    )
