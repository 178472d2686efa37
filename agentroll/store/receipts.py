"""Receipts of the offline kit, recorded once each: the ``Store`` methods over the ``receipts`` table.

An import is one transaction: the run that stands for it (playbook ``offline-kit``), every receipt's
observations at the time the receipt was written, and one row per receipt; a receipt whose id is
already known is not recorded again. Nothing of an import is kept when any part of it fails.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agentroll.model import Aspect
from agentroll.store.times import to_text

#: The playbook name of the run an import of receipts is recorded as.
OFFLINE_KIT_RUN = "offline-kit"


@dataclass(frozen=True)
class ReceiptRecord:
    """One receipt ready to record: its id, the PC, when it was written and what it says."""

    receipt_id: str
    host: str
    written_at: datetime
    observations: Sequence[tuple[Aspect, Mapping[str, Any]]]


class ReceiptTables:
    """The receipts an import recorded."""

    # Provided by ``Store`` (agentroll.store.core).
    def _query(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...
    def _write(self, sql: str, parameters: Sequence[Any]) -> None: ...
    def writing(self) -> Any: ...
    def start_run(self, playbook: str, **details: Any) -> int: ...
    def finish_run(self, run_id: int, status: str, finished_at: datetime | None = None) -> None: ...
    def record(
        self,
        run_id: int,
        host: str,
        observations: Iterable[tuple[Aspect | str, Mapping[str, Any]]],
        observed_at: datetime | None = None,
    ) -> None: ...

    def known_receipts(self, receipt_ids: Iterable[str]) -> set[str]:
        """Which of these receipt ids have been imported already."""
        wanted = sorted(set(receipt_ids))
        known: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            rows = self._query(f"SELECT receipt_id FROM receipts WHERE receipt_id IN ({marks})", chunk)
            known.update(row[0] for row in rows)
        return known

    def import_receipts(
        self, receipts: Sequence[ReceiptRecord], *, inventory: str | None, now: datetime
    ) -> tuple[int | None, list[ReceiptRecord]]:
        """Record the receipts not imported yet as one run; return its id (None when all were known)
        and the receipts it recorded."""
        with self.writing():
            known = self.known_receipts(receipt.receipt_id for receipt in receipts)
            fresh = [receipt for receipt in receipts if receipt.receipt_id not in known]
            if not fresh:
                return None, []
            run_id = self.start_run(OFFLINE_KIT_RUN, inventory=inventory, started_at=now)
            for receipt in sorted(fresh, key=lambda receipt: receipt.written_at):
                self.record(run_id, receipt.host, receipt.observations, observed_at=receipt.written_at)
                self._write(
                    "INSERT INTO receipts (receipt_id, run_id, host, written_at) VALUES (?, ?, ?, ?)",
                    (receipt.receipt_id, run_id, receipt.host, to_text(receipt.written_at)),
                )
            self.finish_run(run_id, "ok", finished_at=now)
        return run_id, fresh
