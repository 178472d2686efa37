"""Looking at a state store behind agentroll's back, on either backend (for the store's tests)."""

from __future__ import annotations

import sqlite3
from typing import Any

from agentroll.store.location import parse_location


def raw_query(location: str, sql: str, parameters: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run SQL (``?`` placeholders) on the store's database directly and return the rows."""
    parsed = parse_location(location)
    if parsed.path is not None:
        with sqlite3.connect(parsed.path) as db:
            return db.execute(sql, parameters).fetchall()
    import psycopg

    with psycopg.connect(location) as db:
        cursor = db.execute(sql.replace("?", "%s"), parameters)
        return cursor.fetchall() if cursor.description else []


def everything_stored(location: str) -> str:
    """Every byte the store keeps: the SQLite files (WAL included), or every row of every table."""
    parsed = parse_location(location)
    if parsed.path is not None:
        files = sorted(parsed.path.parent.glob(parsed.path.name + "*"))
        return "".join(path.read_bytes().decode("utf-8", errors="replace") for path in files)
    rows = raw_query(location, "SELECT * FROM runs") + raw_query(location, "SELECT * FROM observations")
    return "\n".join(str(row) for row in rows)
