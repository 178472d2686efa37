"""``Store``: runs and the observations they made, over a SQLite or PostgreSQL backend.

Observations are only ever appended; a host's current view is the latest observation of each aspect
(by observation time, then by insertion order). Each ``record`` call is one atomic statement: the
callback writes a result the moment it arrives, so a run killed half-way keeps everything it
recorded, and two runs at once lose nothing.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any

from agentroll.model import Aspect, HostView, Observation, Run
from agentroll.store.backend import Backend, IntegrityViolation, StoreError
from agentroll.store.console import ConsoleTables
from agentroll.store.coordination import CoordinationTables
from agentroll.store.identity import controller_name, current_operator, still_running
from agentroll.store.location import POSTGRESQL, Location, LocationError, parse_location
from agentroll.store.receipts import ReceiptTables
from agentroll.store.schema import MIGRATIONS, SCHEMA_VERSION
from agentroll.store.secrets import scrub
from agentroll.store.times import from_text as _from_text
from agentroll.store.times import to_text as _to_text

#: A run still marked running by another controller (whose processes cannot be checked from here)
#: is taken as interrupted after this long without recording anything.
SILENT_RUN_LIMIT = timedelta(hours=12)

_OBSERVATION_COLUMNS = 5
_RUN_COLUMNS = (
    "id, started_at, finished_at, playbook, limit_expr, check_mode, status, operator, controller, pid"
)
# The callback records every result through here: lookups and one encoder made once, not per call.
_ASPECT_NAMES = {aspect.value: aspect.value for aspect in Aspect}  # a StrEnum member finds its value
_to_json = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode
# Reading: stored values are compact JSON written by _to_json, so the raw decoder (no whitespace
# handling around it) reads them; the report reads tens of thousands at a time.
_ASPECTS = {aspect.value: aspect for aspect in Aspect}
_decode_raw = json.JSONDecoder().raw_decode


def _from_json(text: str) -> Any:
    return _decode_raw(text)[0]


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


@lru_cache(maxsize=16)
def _insert_observations_sql(rows: int) -> str:
    """One INSERT of ``rows`` observations: a single statement is a single atomic write."""
    values = ", ".join(["(?, ?, ?, ?, ?)"] * rows)
    return f"INSERT INTO observations (run_id, host, aspect, value_json, observed_at) VALUES {values}"


def _connect(location: Location, readonly: bool) -> Backend:
    if location.dialect == POSTGRESQL:
        from agentroll.store.postgresql import PostgresBackend

        assert location.url is not None
        return PostgresBackend(location.url, location.shown, readonly=readonly)
    from agentroll.store.sqlite import SqliteBackend

    return SqliteBackend(location.path, location.shown, readonly=readonly)


class Store(CoordinationTables, ReceiptTables, ConsoleTables):
    """One connection to the state store; a context manager, usable from several threads.

    ``location`` is a path, ``sqlite:///PATH``, ``postgresql://…`` or ``:memory:``. Opening for
    writing creates the store if needed, applies missing schema migrations and marks runs whose
    process is gone as ``interrupted``. ``readonly`` never writes: a SQLite file must exist and may
    sit where this user cannot write.
    """

    def __init__(self, location: str | Path, *, readonly: bool = False) -> None:
        try:
            self.location = parse_location(location)
        except LocationError as error:
            raise StoreError(str(error)) from None
        self.shown = self.location.shown
        #: The SQLite file (None for PostgreSQL or in memory).
        self.path = self.location.path
        self.readonly = readonly
        # One connection may be shared by the threads of a callback; every call takes this lock.
        self._lock = threading.RLock()
        self._reading = False
        self._interrupted_runs: dict[int, datetime] = {}
        self._backend = _connect(self.location, readonly)
        try:
            self._bring_schema_up()
            self._find_interrupted_runs()
        except BaseException:
            self._backend.close()
            raise

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (everything recorded is already committed)."""
        with self._lock:
            self._backend.close()

    # -- schema ---------------------------------------------------------------------------------

    def schema_version(self) -> int:
        """The schema version of the database (0: not an agentroll store yet)."""
        with self._lock:
            if not self._backend.table_exists("schema_version"):
                return 0
            return int(self._backend.query("SELECT coalesce(max(version), 0) FROM schema_version")[0][0])

    def _bring_schema_up(self) -> None:
        version = self._checked_version()
        if version == SCHEMA_VERSION:
            return
        if self.readonly:
            if version == 0:
                raise StoreError(f"state store {self.shown} holds no agentroll data")
            # Never write to a store opened for reading: read an upgraded private copy instead.
            copy = self._backend.private_copy()
            self._backend.close()
            self._backend = copy
        with self._lock, self._backend.write_transaction():
            # Again under the lock: another process may have migrated it meanwhile.
            for migration in MIGRATIONS[self._checked_version() :]:
                for statement in migration.sql(self._backend.dialect):
                    self._backend.execute(statement)
                self._backend.execute("INSERT INTO schema_version (version) VALUES (?)", (migration.version,))

    def _checked_version(self) -> int:
        try:
            version = self.schema_version()
        except StoreError as error:
            if self._backend.dialect == POSTGRESQL:
                raise
            reason = str(error).removeprefix(f"state store {self.shown}: ")
            raise StoreError(f"state store {self.shown} is not a usable SQLite database: {reason}") from None
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"state store {self.shown} has schema version {version}; "
                f"this agentroll knows version {SCHEMA_VERSION} at most: upgrade agentroll"
            )
        return version

    # -- runs -----------------------------------------------------------------------------------

    def start_run(
        self,
        playbook: str,
        *,
        inventory: str | None = None,
        limit: str | None = None,
        check_mode: bool = False,
        started_at: datetime | None = None,
        operator: str | None = None,
        controller: str | None = None,
        pid: int | None = None,
    ) -> int:
        """Record the start of a run and return its id (ids grow with time).

        ``operator`` defaults to ``identity.current_operator()``, ``controller`` to this machine's
        host name and ``pid`` to this process: the process whose end means the run is over.
        """
        row = self._write_returning(
            "INSERT INTO runs (started_at, playbook, inventory, limit_expr, check_mode, status,"
            " operator, controller, pid) VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?) RETURNING id",
            (
                _to_text(started_at or utc_now()),
                playbook,
                inventory,
                limit,
                int(check_mode),
                operator if operator is not None else current_operator(),
                controller if controller is not None else controller_name(),
                pid if pid is not None else os.getpid(),
            ),
        )
        return int(row[0])

    def finish_run(self, run_id: int, status: str, finished_at: datetime | None = None) -> None:
        """Mark a run finished with ``status`` (e.g. ``ok``, ``failed``, ``interrupted``)."""
        row = self._write_returning(
            "UPDATE runs SET finished_at = ?, status = ? WHERE id = ? RETURNING id",
            (_to_text(finished_at or utc_now()), status, run_id),
        )
        if row is None:
            raise ValueError(f"run {run_id} does not exist in {self.shown}")

    def runs(self) -> list[Run]:
        """Every recorded run, oldest first (runs found interrupted show so, even read-only)."""
        rows = self._query(f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY id")
        runs = []
        for run_id, started, finished, playbook, limit, check_mode, status, operator, controller, pid in rows:
            ended = self._interrupted_runs.get(run_id) if status == "running" else None
            if ended is not None:
                status, finished = "interrupted", _to_text(ended)
            runs.append(
                Run(
                    id=run_id,
                    started_at=_from_text(started),
                    finished_at=_from_text(finished) if finished else None,
                    playbook=playbook,
                    limit=limit,
                    check_mode=bool(check_mode),
                    status=status,
                    operator=operator,
                    controller=controller,
                    pid=pid,
                )
            )
        return runs

    def last_run_id(self) -> int:
        """The id of the latest run recorded (0 when there is none)."""
        return int(self._query("SELECT coalesce(max(id), 0) FROM runs")[0][0])

    def hosts_observed(self, after_run: int) -> int:
        """How many distinct hosts the runs after ``after_run`` have observed so far (for progress)."""
        rows = self._query("SELECT count(DISTINCT host) FROM observations WHERE run_id > ?", (after_run,))
        return int(rows[0][0])

    def _find_interrupted_runs(self) -> None:
        """Runs still marked running whose process is gone: marked interrupted (only noted if read-only).

        Gone means: on this controller, the process that started the run no longer exists (or its pid
        now belongs to a younger process); on another controller (whose processes cannot be seen
        from here), nothing recorded for ``SILENT_RUN_LIMIT``. The run then ends at its last sign of
        life.
        """
        here, now = controller_name(), utc_now()
        running = self._query("SELECT id, controller, pid, started_at FROM runs WHERE status = 'running'")
        for run_id, controller, pid, started_at in running:
            ours = controller == here and pid is not None
            if ours and still_running(pid, _from_text(started_at)):
                continue
            # Its newest observation, found from the end of the table (no index by run: see schema).
            newest = self._query(
                "SELECT observed_at FROM observations WHERE run_id = ? ORDER BY id DESC LIMIT 1", (run_id,)
            )
            last_seen = _from_text(max(started_at, newest[0][0] if newest else started_at))
            if ours or now - last_seen > SILENT_RUN_LIMIT:
                self._interrupted_runs[run_id] = last_seen
        if self.readonly:
            return
        for run_id, last_seen in self._interrupted_runs.items():
            self._write(
                "UPDATE runs SET status = 'interrupted', finished_at = ? WHERE id = ? AND status = 'running'",
                (_to_text(last_seen), run_id),
            )
        self._interrupted_runs.clear()

    # -- observations ---------------------------------------------------------------------------

    def record(
        self,
        run_id: int,
        host: str,
        observations: Iterable[tuple[Aspect | str, Mapping[str, Any]]],
        observed_at: datetime | None = None,
    ) -> None:
        """Append observations of one host in one atomic write; secret-looking keys are dropped first."""
        moment = _to_text(observed_at or utc_now())
        parameters: list[Any] = []
        for aspect, value in observations:
            try:
                aspect_name = _ASPECT_NAMES.get(aspect)
            except TypeError:  # unhashable: not an aspect either
                aspect_name = None
            if aspect_name is None:
                raise ValueError(f"host '{host}': unknown observation aspect {aspect!r}")
            try:
                value_json = _to_json(scrub(value))
            except (TypeError, ValueError) as error:
                raise ValueError(
                    f"host '{host}', aspect '{aspect_name}': value is not JSON: {error}"
                ) from None
            parameters += (run_id, host, aspect_name, value_json, moment)
        if not parameters:
            return
        try:
            self._write(_insert_observations_sql(len(parameters) // _OBSERVATION_COLUMNS), parameters)
        except IntegrityViolation:
            raise ValueError(f"host '{host}': run {run_id} does not exist in {self.shown}") from None

    def views(
        self, hosts: Iterable[str] | None = None, *, as_of_run: int | None = None
    ) -> dict[str, HostView]:
        """The latest observation of each aspect per host, optionally as it stood after run ``as_of_run``.

        Hosts never observed are absent from the result (their state is ``unknown``).
        """
        wanted = None if hosts is None else set(hosts)
        bounds = () if as_of_run is None else (as_of_run, as_of_run)
        latest: dict[str, dict[Aspect, Observation]] = {}
        last_run: dict[str, int] = {}
        moments: dict[str, datetime] = {}  # one record() call shares one moment among its rows
        current_host, aspects = None, None  # rows come grouped by host: look each one up once
        with self._rows(self._backend.latest_sql(as_of_run is not None), bounds) as rows:
            for host, aspect, aspect_last_run, value_json, observed_at, run_id in rows:
                if host != current_host:
                    current_host = host
                    aspects = latest.setdefault(host, {}) if wanted is None or host in wanted else None
                if aspects is None:
                    continue
                if aspect_last_run > last_run.get(host, 0):
                    last_run[host] = aspect_last_run
                aspect_key = _ASPECTS.get(aspect)
                if aspect_key is None:
                    continue  # an aspect written by a newer agentroll: not ours to interpret
                moment = moments.get(observed_at)
                if moment is None:
                    moment = moments[observed_at] = _from_text(observed_at)
                aspects[aspect_key] = Observation(
                    host=host,
                    aspect=aspect_key,
                    value=_from_json(value_json),
                    observed_at=moment,
                    run_id=run_id,
                )
        return {
            host: HostView(host=host, latest=aspects, last_run_id=last_run[host])
            for host, aspects in sorted(latest.items())
            if aspects
        }

    def timelines(
        self, aspect: Aspect, hosts: Iterable[str] | None = None
    ) -> dict[str, list[tuple[int, Mapping[str, Any]]]]:
        """Every observation of one aspect per host, in observation order, as ``(run_id, value)``.

        Equal values share one object: treat them as read-only.
        """
        wanted = None if hosts is None else set(hosts)
        parsed: dict[str, Mapping[str, Any]] = {}
        series: dict[str, list[tuple[int, Mapping[str, Any]]]] = {}
        current_host, timeline = None, None  # the rows come ordered by host
        with self._rows(
            "SELECT host, run_id, value_json FROM observations WHERE aspect = ?"
            " ORDER BY host, aspect, observed_at, id",  # aspect is fixed: the index order, no sort
            (Aspect(aspect).value,),
        ) as rows:
            for host, run_id, value_json in rows:
                if host != current_host:
                    current_host = host
                    timeline = series.setdefault(host, []) if wanted is None or host in wanted else None
                if timeline is None:
                    continue
                value = parsed.get(value_json)
                if value is None:
                    value = parsed[value_json] = _from_json(value_json)
                timeline.append((run_id, value))
        return series

    @contextmanager
    def reading(self) -> Iterator[Store]:
        """Make the reads inside the block see one consistent state of the store."""
        with self._lock:
            if self._reading:
                yield self
                return
            with self._backend.read_transaction():
                self._reading = True
                try:
                    yield self
                finally:
                    self._reading = False

    @contextmanager
    def writing(self) -> Iterator[Store]:
        """Make the writes inside the block one transaction, under the store's write lock."""
        self._refuse_if_readonly()
        with self._lock, self._backend.write_transaction():
            yield self

    # -- plumbing -------------------------------------------------------------------------------

    def _query(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._backend.query(sql, parameters)

    @contextmanager
    def _rows(self, sql: str, parameters: Sequence[Any] = ()) -> Iterator[Iterator[tuple[Any, ...]]]:
        """The rows of a large read as they arrive, under the lock; leaving the block ends the read.

        Ended at once, not whenever the iterator is collected: a read cut short by an error would
        otherwise still hold the connection when the transaction around it rolls back.
        """
        with self._lock:
            rows = self._backend.rows(sql, parameters)
            try:
                yield rows
            finally:
                rows.close()

    def _write(self, sql: str, parameters: Sequence[Any]) -> None:
        self._refuse_if_readonly()
        with self._lock:
            self._backend.execute(sql, parameters)

    def _write_returning(self, sql: str, parameters: Sequence[Any]) -> tuple[Any, ...] | None:
        self._refuse_if_readonly()
        with self._lock:
            rows = self._backend.query(sql, parameters)
        return rows[0] if rows else None

    def _refuse_if_readonly(self) -> None:
        if self.readonly:
            raise StoreError(f"state store {self.shown} is open read-only")
