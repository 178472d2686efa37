"""The embedded backend: one SQLite file in WAL mode, or an in-memory database.

Durability: WAL with ``synchronous=NORMAL``. A committed write is in the write-ahead log before the
call returns, so it survives the process being killed (SIGKILL, a crash); a power cut or an
operating-system crash may lose the last commits before the next checkpoint, never corrupt the file.
Concurrency: readers never block; writers take turns with a 30-second busy timeout.

Read-only stores are opened with ``mode=ro``; a WAL database in a directory this process cannot write
cannot get its ``-shm`` file, so there it is opened ``immutable=1`` (safe because nobody can be
writing it then), unless an unmerged ``-wal`` file would be ignored: that is refused with advice.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Generator, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from agentroll.store.backend import IntegrityViolation, Row, StoreError, transaction

BUSY_TIMEOUT_MS = 30_000

_LATEST = """
SELECT p.host, p.aspect, p.last_run, o.value_json, o.observed_at, o.run_id
FROM (SELECT host, aspect, max(run_id) AS last_run FROM observations {where} GROUP BY host, aspect) AS p
JOIN observations AS o ON o.id = (
    SELECT i.id FROM observations AS i
    WHERE i.host = p.host AND i.aspect = p.aspect {also}
    ORDER BY i.observed_at DESC, i.id DESC LIMIT 1
)
"""


class SqliteBackend:
    """A connection to a SQLite database (``path`` None: in memory)."""

    dialect = "sqlite"

    def __init__(self, path: Path | None, shown: str, *, readonly: bool = False) -> None:
        self.shown = shown
        if path is None:
            self._db = self._connect(":memory:")
            self._db.execute("PRAGMA foreign_keys = ON")
        elif readonly:
            self._db = self._connect_readonly(path)
        else:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise StoreError(f"state store {shown}: cannot open: {error}") from None
            self._db = self._connect(str(path))
            self._prepare_for_writing()

    def _connect(self, target: str, *, uri: bool = False) -> sqlite3.Connection:
        try:
            return sqlite3.connect(
                target,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,  # autocommit: one statement is one transaction unless we BEGIN
                check_same_thread=False,  # the Store serialises access with its own lock
                uri=uri,
            )
        except sqlite3.Error as error:
            raise StoreError(f"state store {self.shown}: cannot open: {error}") from None

    def _prepare_for_writing(self) -> None:
        try:
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.execute("PRAGMA foreign_keys = ON")
        except sqlite3.DatabaseError as error:
            self._db.close()
            raise StoreError(f"state store {self.shown} is not a usable SQLite database: {error}") from None

    def _connect_readonly(self, path: Path) -> sqlite3.Connection:
        if not path.is_file():
            raise StoreError(f"state store {self.shown} does not exist")
        target = f"file:{quote(str(path.resolve()))}"
        db = self._connect(f"{target}?mode=ro", uri=True)
        try:
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return db
        except sqlite3.DatabaseError as error:
            db.close()
            if os.access(path.parent, os.W_OK) or not self._is_ro_wal_problem(error):
                raise StoreError(
                    f"state store {self.shown} is not a usable SQLite database: {error}"
                ) from None
        wal = Path(f"{path}-wal")
        if wal.exists() and wal.stat().st_size > 0:
            raise StoreError(
                f"state store {self.shown}: its write-ahead log {wal.name} holds data that cannot be read "
                "from a directory this user cannot write; open it once where it can be written"
            )
        return self._connect(f"{target}?mode=ro&immutable=1", uri=True)

    @staticmethod
    def _is_ro_wal_problem(error: sqlite3.DatabaseError) -> bool:
        """SQLite's ways of saying it could not create the WAL index (-shm) next to the database."""
        text = str(error).lower()
        return "readonly" in text or "read-only" in text or "unable to open" in text

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> None:
        try:
            self._db.execute(sql, parameters)
        except sqlite3.IntegrityError as error:
            raise IntegrityViolation(f"state store {self.shown}: {error}") from None
        except sqlite3.Error as error:
            raise StoreError(f"state store {self.shown}: {error}") from None

    def query(self, sql: str, parameters: Sequence[Any] = ()) -> list[Row]:
        try:
            return self._db.execute(sql, parameters).fetchall()
        except sqlite3.IntegrityError as error:
            raise IntegrityViolation(f"state store {self.shown}: {error}") from None
        except sqlite3.Error as error:
            raise StoreError(f"state store {self.shown}: {error}") from None

    def rows(self, sql: str, parameters: Sequence[Any] = ()) -> Generator[Row]:
        try:
            yield from self._db.execute(sql, parameters)
        except sqlite3.Error as error:
            raise StoreError(f"state store {self.shown}: {error}") from None

    @contextmanager
    def write_transaction(self) -> Iterator[None]:
        # IMMEDIATE takes the write lock up front: no deadlock when a reader would upgrade.
        with self._transaction("BEGIN IMMEDIATE"):
            yield

    @contextmanager
    def read_transaction(self) -> Iterator[None]:
        with self._transaction("BEGIN"):
            yield

    def _transaction(self, begin: str) -> AbstractContextManager[None]:
        return transaction(self.execute, lambda: self._db.execute("ROLLBACK"), begin)

    def table_exists(self, name: str) -> bool:
        rows = self.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
        return bool(rows)

    def latest_sql(self, as_of_run: bool) -> str:
        if as_of_run:
            return _LATEST.format(where="WHERE run_id <= ?", also="AND i.run_id <= ?")
        return _LATEST.format(where="", also="")

    def private_copy(self) -> SqliteBackend:
        copy = SqliteBackend(None, self.shown)
        try:
            self._db.backup(copy._db)
        except sqlite3.Error as error:
            copy.close()
            raise StoreError(f"state store {self.shown}: cannot read it: {error}") from None
        return copy

    def close(self) -> None:
        self._db.close()
