"""What the store needs from a database: the seam between ``Store`` and its SQLite and PostgreSQL backends.

``Store`` writes portable SQL with ``?`` placeholders; a backend runs it, spells the few statements
that differ, takes the right locks and turns its driver's errors into ``StoreError``.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

Row = tuple[Any, ...]


class StoreError(Exception):
    """The state store cannot be opened or used; the message names it (a URL's password masked)."""


class IntegrityViolation(StoreError):
    """A write broke a constraint of the schema (e.g. an observation for a run that does not exist)."""


class Backend(Protocol):
    """One connection to one state database."""

    dialect: str

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> None:
        """Run one statement (atomic on its own outside a transaction)."""

    def query(self, sql: str, parameters: Sequence[Any] = ()) -> list[Row]:
        """Run one statement and return every row."""

    def rows(self, sql: str, parameters: Sequence[Any] = ()) -> Generator[Row]:
        """Run one query and yield its rows as they arrive, for reads too large to hold twice.

        The caller reads the first rows while the database computes the rest; read to the end or
        ``close()`` it (which cancels the rest) before the next statement.
        """

    def write_transaction(self) -> AbstractContextManager[None]:
        """A transaction that holds the database's write lock from its start (schema changes, runs)."""

    def read_transaction(self) -> AbstractContextManager[None]:
        """A transaction in which several reads see one consistent state."""

    def table_exists(self, name: str) -> bool:
        """True when the table exists."""

    def latest_sql(self, as_of_run: bool) -> str:
        """Every (host, aspect) with a last run and its latest observation; ``?`` bounds the run if asked.

        The query's columns: host, aspect, last run, value JSON, observed at, run id. The last run is the
        latest of the host's runs that observed that aspect, or of all its runs (``Store.views`` keeps the
        largest per host); aspects this agentroll does not know may be left out.
        """

    def private_copy(self) -> Backend:
        """A private, writable copy of the database, for reading an older schema from a read-only store."""

    def close(self) -> None:
        """Close the connection."""


@contextmanager
def transaction(execute: Callable[[str], None], rollback: Callable[[], None], begin: str) -> Iterator[None]:
    """``begin``, then COMMIT when the block ends, or ``rollback()`` when anything (Ctrl-C too) leaves it.

    ``rollback`` bypasses the backend's error translation: the block's own exception is the one raised.
    """
    execute(begin)
    try:
        yield
    except BaseException:
        rollback()
        raise
    execute("COMMIT")
