"""The central console's endpoint exports, as imported: the ``Store`` methods over ``console_exports``.

An export is one row (its entries as one JSON document: they are always read together), written in
one transaction; the same export (same digest) is recorded once. The report uses the one with the
latest export time.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agentroll.store.times import from_text, to_text


@dataclass(frozen=True)
class StoredExport:
    """An export as the store keeps it; ``entries`` in ``ConsoleEntry.as_value`` form."""

    id: int
    exported_at: datetime
    imported_at: datetime
    source: str
    digest: str
    inventory: str | None
    entries: tuple[Mapping[str, Any], ...]


class ConsoleTables:
    """Console exports imported into the store."""

    # Provided by ``Store`` (agentroll.store.core).
    def _query(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...
    def _write_returning(self, sql: str, parameters: Sequence[Any]) -> tuple[Any, ...] | None: ...
    def writing(self) -> Any: ...

    def record_console_export(
        self,
        *,
        exported_at: datetime,
        source: str,
        digest: str,
        entries: Sequence[Mapping[str, Any]],
        inventory: str | None,
        now: datetime,
    ) -> tuple[int, bool]:
        """Record an export; return its id and whether it is new (False: the same one was imported)."""
        with self.writing():
            known = self._query("SELECT id FROM console_exports WHERE digest = ?", (digest,))
            if known:
                return int(known[0][0]), False
            row = self._write_returning(
                "INSERT INTO console_exports (exported_at, imported_at, source, digest, inventory, entries,"
                " entries_json) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    to_text(exported_at),
                    to_text(now),
                    source,
                    digest,
                    inventory,
                    len(entries),
                    json.dumps(list(entries), ensure_ascii=False, sort_keys=True, separators=(",", ":")),
                ),
            )
            assert row is not None
            return int(row[0]), True

    def latest_console_export(self) -> StoredExport | None:
        """The export with the latest export time (the latest imported among equals), or None."""
        rows = self._query(
            "SELECT id, exported_at, imported_at, source, digest, inventory, entries_json"
            " FROM console_exports ORDER BY exported_at DESC, id DESC LIMIT 1"
        )
        if not rows:
            return None
        export_id, exported_at, imported_at, source, digest, inventory, entries_json = rows[0]
        return StoredExport(
            id=int(export_id),
            exported_at=from_text(exported_at),
            imported_at=from_text(imported_at),
            source=source,
            digest=digest,
            inventory=inventory,
            entries=tuple(json.loads(entries_json)),
        )
