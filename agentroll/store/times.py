"""How the store writes times: fixed-width UTC ISO text, so that text order is time order in any database."""

from __future__ import annotations

from datetime import UTC, datetime


def to_text(moment: datetime) -> str:
    """A timezone-aware time as the store keeps it (a naive one is refused: agentroll stores UTC)."""
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {moment.isoformat()} has no time zone; agentroll stores UTC")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def from_text(text: str) -> datetime:
    """A time the store kept, timezone-aware."""
    return datetime.fromisoformat(text)
