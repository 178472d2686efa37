"""The shared backend: a PostgreSQL database reached with psycopg 3, for several controllers at once.

The connection is in autocommit mode, so one statement is one transaction (one round trip per
recorded result); schema changes run under a transaction-scoped advisory lock. Writers set
``synchronous_commit = off`` (see ``__init__``); a read-only store sets ``default_transaction_read_only``.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from agentroll.model import Aspect
from agentroll.store.backend import IntegrityViolation, Row, StoreError, transaction

#: The advisory lock that serialises schema migrations (any constant unique to agentroll).
MIGRATION_LOCK = 0x61676E74726F6C6C  # "agntroll"
CONNECT_TIMEOUT_S = 10
#: Rows per chunk of a streamed read (``rows``): large enough that a chunk's overhead is nothing.
STREAM_CHUNK_ROWS = 1000

# Every aspect this agentroll knows, in the index's order (constants: safe to write into the SQL).
_KNOWN_ASPECTS = ", ".join(f"('{aspect}')" for aspect in sorted(aspect.value for aspect in Aspect))

# One pass over the table finds each host's last run (grouped by host alone: far cheaper than by host
# and aspect); then one index probe per host and known aspect finds the latest observation, host by
# host along the index, so the rows start flowing at once and come grouped by host.
_LATEST = f"""
SELECT p.host, a.aspect, p.last_run, l.value_json, l.observed_at, l.run_id
FROM (SELECT host, max(run_id) AS last_run FROM observations {{where}} GROUP BY host ORDER BY host) AS p
CROSS JOIN (VALUES {_KNOWN_ASPECTS}) AS a (aspect)
CROSS JOIN LATERAL (
    SELECT i.value_json, i.observed_at, i.run_id FROM observations AS i
    WHERE i.host = p.host AND i.aspect = a.aspect {{also}}
    ORDER BY i.observed_at DESC, i.id DESC LIMIT 1
) AS l
"""


class PostgresBackend:
    """A connection to a PostgreSQL database given by a ``postgresql://`` URL."""

    dialect = "postgresql"

    def __init__(self, url: str, shown: str, *, readonly: bool = False) -> None:
        self.shown = shown
        try:
            import psycopg
            from psycopg.conninfo import conninfo_to_dict
        except ImportError:
            raise StoreError(
                f"state store {shown}: a PostgreSQL store needs the Python package psycopg "
                "(pip install 'psycopg[binary]')"
            ) from None
        self._psycopg = psycopg
        self._sql: dict[str, str] = {}
        try:
            settings = conninfo_to_dict(url)
            timeout = {} if "connect_timeout" in settings else {"connect_timeout": CONNECT_TIMEOUT_S}
            self._db = psycopg.connect(url, autocommit=True, **timeout)
            self._cursor = self._db.cursor()  # one cursor for every statement: cheaper per result
        except psycopg.Error as error:
            raise StoreError(f"state store {shown}: cannot connect: {_first_line(error)}") from None
        if readonly:
            self.execute("SET default_transaction_read_only = on")
        else:
            # The same promise as SQLite's WAL with synchronous=NORMAL: a committed result survives
            # the controller being killed (it is on the server); a crash of the database server
            # itself may lose the last fraction of a second of commits, never corrupt anything.
            # The callback then waits for one round trip per result, not for a disk flush.
            self.execute("SET synchronous_commit = off")

    def _spelled(self, sql: str) -> str:
        """Portable ``?`` placeholders in psycopg's ``%s`` spelling (converted once per statement)."""
        spelled = self._sql.get(sql)
        if spelled is None:
            spelled = self._sql[sql] = sql.replace("?", "%s")
        return spelled

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> None:
        self._run(sql, parameters, fetch=False)

    def query(self, sql: str, parameters: Sequence[Any] = ()) -> list[Row]:
        return self._run(sql, parameters, fetch=True)

    def rows(self, sql: str, parameters: Sequence[Any] = ()) -> Generator[Row]:
        # Chunks of rows as the server sends them: the caller decodes one while the next travels.
        with self._translated_errors():
            yield from self._cursor.stream(self._spelled(sql), parameters, size=STREAM_CHUNK_ROWS)

    def _run(self, sql: str, parameters: Sequence[Any], *, fetch: bool) -> list[Row]:
        with self._translated_errors():
            self._cursor.execute(self._spelled(sql), parameters)
            return self._cursor.fetchall() if fetch else []

    @contextmanager
    def _translated_errors(self) -> Iterator[None]:
        try:
            yield
        except self._psycopg.errors.IntegrityError as error:
            raise IntegrityViolation(f"state store {self.shown}: {_first_line(error)}") from None
        except self._psycopg.Error as error:
            raise StoreError(f"state store {self.shown}: {_first_line(error)}") from None

    @contextmanager
    def write_transaction(self) -> Iterator[None]:
        with self._transaction("BEGIN"):
            self.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK,))
            yield

    @contextmanager
    def read_transaction(self) -> Iterator[None]:
        with self._transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"):
            yield

    def _transaction(self, begin: str) -> AbstractContextManager[None]:
        return transaction(self.execute, lambda: self._db.execute("ROLLBACK"), begin)

    def table_exists(self, name: str) -> bool:
        # A plain catalog query sees what another session committed while we waited for the
        # migration lock (to_regclass() could answer from this session's stale catalog cache).
        rows = self.query(
            "SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = ?",
            (name,),
        )
        return bool(rows)

    def latest_sql(self, as_of_run: bool) -> str:
        if as_of_run:
            return _LATEST.format(where="WHERE run_id <= ?", also="AND i.run_id <= ?")
        return _LATEST.format(where="", also="")

    def private_copy(self) -> PostgresBackend:
        raise StoreError(
            f"state store {self.shown} has an older schema and is opened read-only: "
            "open it once for writing (any playbook run does) to upgrade it"
        )

    def close(self) -> None:
        self._db.close()


def _first_line(error: BaseException) -> str:
    """A driver message on one line (libpq adds detail lines)."""
    return next((line.strip() for line in str(error).splitlines() if line.strip()), type(error).__name__)
