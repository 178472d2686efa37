"""The state store: what every run observed on every PC, in SQLite (embedded) or PostgreSQL (shared).

    store = open_store("sqlite:///var/lib/agentroll/state.sqlite")   # or a bare path
    store = open_store("postgresql://agentroll@db.example.org/agentroll")
    store = open_store(readonly=True)                                # $AGENTROLL_STATE or the default

See ``core`` (the ``Store`` API), ``schema`` (migrations), ``sqlite`` and ``postgresql`` (backends and
their durability), ``identity`` (who and where a run is) and ``secrets`` (what is never stored).
"""

from __future__ import annotations

from pathlib import Path

from agentroll.store.backend import StoreError
from agentroll.store.core import SILENT_RUN_LIMIT, Store, utc_now
from agentroll.store.location import default_state_location, default_state_path, mask_password
from agentroll.store.schema import SCHEMA_VERSION
from agentroll.store.secrets import SECRET_WORDS, is_secret_key, scrub

__all__ = [
    "SCHEMA_VERSION",
    "SECRET_WORDS",
    "SILENT_RUN_LIMIT",
    "Store",
    "StoreError",
    "default_state_location",
    "default_state_path",
    "is_secret_key",
    "mask_password",
    "open_store",
    "scrub",
    "utc_now",
]


def open_store(location: str | Path | None = None, *, readonly: bool = False) -> Store:
    """Open the state store at ``location``: a path, ``sqlite:///PATH`` or ``postgresql://…``.

    None means ``$AGENTROLL_STATE``, else the default SQLite file. ``readonly`` opens an existing
    store without ever writing to it (a SQLite file may then sit where this user cannot write).
    """
    return Store(default_state_location() if location is None else location, readonly=readonly)
