"""The state store: an embedded SQLite database of runs and of what each run observed on each host.

Observations are only ever appended; a host's current view is the latest observation of each
aspect. Every write is its own ``BEGIN IMMEDIATE`` transaction in WAL mode with a generous busy
timeout, so two ``ansible-playbook`` runs (or a run and a report) can share one database without
losing or corrupting anything, and a run killed half-way leaves everything it recorded so far.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from agentroll.model import Aspect, HostView, Observation, Run

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 30_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    playbook TEXT NOT NULL,
    inventory TEXT,
    limit_expr TEXT,
    check_mode INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'running'
);
CREATE TABLE IF NOT EXISTS observations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    host TEXT NOT NULL,
    aspect TEXT NOT NULL,
    value_json TEXT NOT NULL,
    observed_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS observations_by_host_aspect ON observations (host, aspect, observed_at, id);
CREATE INDEX IF NOT EXISTS observations_by_run ON observations (run_id);
"""

#: Words that mark a key as holding a secret (matched as whole words: ``api_key``, ``registrationKey``).
SECRET_WORDS = frozenset(
    {"password", "passwd", "pwd", "passphrase", "secret", "token", "key", "credential", "credentials"}
)
_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")


class StoreError(Exception):
    """The state database cannot be opened or used; the message names its path."""


def default_state_path() -> Path:
    """$AGENTROLL_STATE, else ${XDG_STATE_HOME:-~/.local/state}/agentroll/state.sqlite."""
    explicit = os.environ.get("AGENTROLL_STATE")
    if explicit:
        return Path(explicit).expanduser()
    state_home = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state_home).expanduser() / "agentroll" / "state.sqlite"


def is_secret_key(key: str) -> bool:
    """True when a key names a secret: one of its words (snake, kebab or camel case) is a secret word."""
    words = [word.lower() for word in _WORD_SPLIT.split(key) if word]
    return any(word in SECRET_WORDS or word.rstrip("s") in SECRET_WORDS for word in words)


def scrub(value: Any) -> Any:
    """Drop every mapping key that looks like a secret, at any depth."""
    if isinstance(value, Mapping):
        return {str(k): scrub(v) for k, v in value.items() if not is_secret_key(str(k))}
    if isinstance(value, (list, tuple)):
        return [scrub(item) for item in value]
    return value


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def _to_text(moment: datetime) -> str:
    """Fixed-width UTC ISO text, so that text order is time order inside SQLite."""
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {moment.isoformat()} has no time zone; agentroll stores UTC")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _from_text(text: str | None) -> datetime | None:
    """Parse a stored timestamp (None stays None)."""
    return datetime.fromisoformat(text) if text else None


class Store:
    """One connection to the state database; usable as a context manager and from several threads."""

    def __init__(self, path: str | Path, *, since_run: int | None = None) -> None:
        """Open (creating if needed) the database at ``path`` and bring its schema up.

        ``since_run`` opens a read window: ``runs()`` and ``views()`` then see only runs with that
        id or a later one, as if the earlier runs had never happened (writes are unaffected). The
        demo uses it to report on its own runs in a database that also holds earlier ones.
        """
        self.path = Path(path)
        self.since_run = since_run
        # One connection may be shared by the threads of a callback; sqlite3 serialises, we lock.
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as error:
            raise StoreError(f"state store {self.path}: cannot open: {error}") from None
        try:
            self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA foreign_keys = ON")
            self._create_schema()
        except sqlite3.DatabaseError as error:
            self._db.close()
            raise StoreError(f"state store {self.path} is not a usable SQLite database: {error}") from None

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (the data is already committed)."""
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that takes the write lock up front (no deadlock on upgrade)."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.DatabaseError as error:
                raise StoreError(f"state store {self.path}: {error}") from None
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")

    def _create_schema(self) -> None:
        """Create the tables once and record the schema version; refuse a newer one."""
        with self._transaction() as db:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            row = db.execute("SELECT max(version) FROM schema_version").fetchone()
            version = row[0]
            if version is None:
                db.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
            elif version > SCHEMA_VERSION:
                raise StoreError(
                    f"state store {self.path} has schema version {version}; "
                    f"this agentroll knows version {SCHEMA_VERSION} at most"
                )

    def _read(self, sql: str, parameters: Iterable[Any] = ()) -> list[sqlite3.Row]:
        """Run a read query; SQLite errors become a ``StoreError`` naming the database."""
        with self._lock:
            try:
                cursor = self._db.execute(sql, tuple(parameters))
                return cursor.fetchall()
            except sqlite3.DatabaseError as error:
                raise StoreError(f"state store {self.path}: {error}") from None

    def start_run(
        self,
        playbook: str,
        *,
        inventory: str | None = None,
        limit: str | None = None,
        check_mode: bool = False,
        started_at: datetime | None = None,
    ) -> int:
        """Record the start of a run and return its id (ids grow with time)."""
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO runs (started_at, playbook, inventory, limit_expr, check_mode, status)"
                " VALUES (?, ?, ?, ?, ?, 'running')",
                (_to_text(started_at or utc_now()), playbook, inventory, limit, int(check_mode)),
            )
            run_id = cursor.lastrowid
        if run_id is None:
            raise StoreError(f"state store {self.path}: no id for the new run")
        return run_id

    def record(
        self,
        run_id: int,
        host: str,
        observations: Iterable[tuple[Aspect | str, Mapping[str, Any]]],
        observed_at: datetime | None = None,
    ) -> None:
        """Append observations of one host in one transaction; secret-looking keys are dropped first."""
        moment = _to_text(observed_at or utc_now())
        rows = []
        for aspect, value in observations:
            try:
                aspect_name = Aspect(aspect).value
            except ValueError:
                raise ValueError(f"host '{host}': unknown observation aspect {aspect!r}") from None
            try:
                value_json = json.dumps(scrub(value), ensure_ascii=False, sort_keys=True)
            except (TypeError, ValueError) as error:
                raise ValueError(
                    f"host '{host}', aspect '{aspect_name}': value is not JSON: {error}"
                ) from None
            rows.append((run_id, host, aspect_name, value_json, moment))
        if not rows:
            return
        with self._transaction() as db:
            try:
                db.executemany(
                    "INSERT INTO observations (run_id, host, aspect, value_json, observed_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    rows,
                )
            except sqlite3.IntegrityError:
                raise ValueError(f"host '{host}': run {run_id} does not exist in {self.path}") from None

    def finish_run(self, run_id: int, status: str, finished_at: datetime | None = None) -> None:
        """Mark a run finished with ``status`` (e.g. ``ok``, ``failed``, ``interrupted``)."""
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE runs SET finished_at = ?, status = ? WHERE id = ?",
                (_to_text(finished_at or utc_now()), status, run_id),
            )
            if cursor.rowcount == 0:
                raise ValueError(f"run {run_id} does not exist in {self.path}")

    def runs(self) -> list[Run]:
        """Every recorded run (of the read window, see ``since_run``), oldest first."""
        rows = self._read(
            "SELECT id, started_at, finished_at, playbook, limit_expr, check_mode, status"
            " FROM runs WHERE (?1 IS NULL OR id >= ?1) ORDER BY id",
            (self.since_run,),
        )
        return [
            Run(
                id=row[0],
                started_at=_from_text(row[1]) or utc_now(),
                finished_at=_from_text(row[2]),
                playbook=row[3],
                limit=row[4],
                check_mode=bool(row[5]),
                status=row[6],
            )
            for row in rows
        ]

    def views(
        self, hosts: Iterable[str] | None = None, *, as_of_run: int | None = None
    ) -> dict[str, HostView]:
        """The latest observation of each aspect per host, optionally as it stood after run ``as_of_run``.

        Hosts never observed are absent from the result (their state is ``unknown``).
        """
        wanted = None if hosts is None else set(hosts)
        # "Latest" is by observation time, then by insertion order for ties.
        rows = self._read(
            """
            SELECT host, aspect, value_json, observed_at, run_id, last_run_id FROM (
                SELECT host, aspect, value_json, observed_at, run_id,
                       max(run_id) OVER (PARTITION BY host) AS last_run_id,
                       row_number() OVER (
                           PARTITION BY host, aspect ORDER BY observed_at DESC, id DESC
                       ) AS rank
                FROM observations
                WHERE (?1 IS NULL OR run_id <= ?1) AND (?2 IS NULL OR run_id >= ?2)
            ) WHERE rank = 1
            """,
            (as_of_run, self.since_run),
        )
        latest: dict[str, dict[Aspect, Observation]] = {}
        last_run: dict[str, int] = {}
        for host, aspect, value_json, observed_at, run_id, last_run_id in rows:
            if wanted is not None and host not in wanted:
                continue
            try:
                aspect_key = Aspect(aspect)
            except ValueError:
                continue  # an aspect written by a newer agentroll: not ours to interpret
            latest.setdefault(host, {})[aspect_key] = Observation(
                host=host,
                aspect=aspect_key,
                value=json.loads(value_json),
                observed_at=_from_text(observed_at) or utc_now(),
                run_id=run_id,
            )
            last_run[host] = last_run_id
        return {
            host: HostView(host=host, latest=aspects, last_run_id=last_run[host])
            for host, aspects in sorted(latest.items())
        }

    def last_run_id(self) -> int:
        """The id of the latest run recorded (0 when there is none), whatever the read window."""
        rows = self._read("SELECT coalesce(max(id), 0) FROM runs")
        return int(rows[0][0])

    def hosts_observed(self, after_run: int) -> int:
        """How many distinct hosts the runs after ``after_run`` have observed so far (for progress)."""
        rows = self._read("SELECT count(DISTINCT host) FROM observations WHERE run_id > ?", (after_run,))
        return int(rows[0][0])
