"""The demo's state database: an empty one for every demo, so that "before" is this demo's dry run."""

from __future__ import annotations

import shutil
from pathlib import Path

from agentroll.demo.settings import DEMO_STATE, DemoError, Settings, shown, shown_state
from agentroll.store import open_store
from agentroll.store.location import parse_location


def check_state_is_empty(settings: Settings) -> None:
    """A database named by ``$AGENTROLL_STATE`` belongs to the operator: never moved, so it must be empty."""
    if not settings.state_from_env:
        return
    runs = runs_recorded(settings.state)
    if runs:
        raise DemoError(
            f"AGENTROLL_STATE names {shown_state(settings)}, which holds {runs} run(s) already; the demo "
            "starts from an empty state database: name a new file, or unset AGENTROLL_STATE "
            f"(the demo then uses {shown(settings.root / DEMO_STATE)}, started afresh)"
        )


def runs_recorded(state: str) -> int:
    """How many runs the store holds; a SQLite file that does not exist yet holds none."""
    location = parse_location(state)
    if location.path is not None and not location.path.exists():
        return 0
    with open_store(state, readonly=True) as store:
        return len(store.runs())


def start_afresh(settings: Settings) -> None:
    """Set the previous demo's own database aside as ``.previous`` (the operator's is left alone)."""
    if settings.state_from_env:
        return
    state = Path(settings.state)
    state.parent.mkdir(parents=True, exist_ok=True)
    previous = state.with_name(state.name + ".previous")
    # SQLite keeps its write-ahead log beside the database; it moves with it.
    for suffix in ("", "-wal", "-shm"):
        Path(f"{previous}{suffix}").unlink(missing_ok=True)
    for suffix in ("", "-wal", "-shm"):
        current = Path(f"{state}{suffix}")
        if current.exists():
            current.rename(f"{previous}{suffix}")


def set_aside_previous_kit(kit_dir: Path) -> None:
    """Move the previous demo's offline kit out of the way as ``<kit>.previous``.

    ``agentroll bundle`` refuses a folder that is not empty (a kit is never written over); the
    demo's own kit is its output, so the demo keeps the last one and starts a new one. A folder that
    is not a kit (no ``kit.json``) is somebody else's and is left for the bundle to refuse.
    """
    if not (kit_dir / "kit.json").is_file():
        return
    previous = kit_dir.with_name(kit_dir.name + ".previous")
    if previous.exists():
        shutil.rmtree(previous)
    kit_dir.rename(previous)
