"""Where the demo reads and writes, and how it runs Ansible."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from agentroll.store.location import parse_location

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEMO_INVENTORY = Path("inventory") / "demo"
DEMO_STATE = Path("state") / "demo.sqlite"
DEMO_REPORT_DIR = Path("reports") / "demo"
DISTRICT = "Kon Plông"
#: The watch's interval, and how long after the laptops are switched on it keeps going (seconds).
WATCH_EVERY = 20.0
WATCH_MARGIN = 60.0
#: The controller's CPU is the bottleneck (each WinRM module invocation costs it ~85 ms), so more
#: forks than this buy nothing while tasks run; but win_reboot holds a fork idle for >= 5 s per PC,
#: and the linear strategy waits for the whole batch, so the reboot task wants many forks.
DEFAULT_FORKS = 40


class DemoError(Exception):
    """Something stops the demo; the message is one line for the operator."""


@dataclass(frozen=True)
class Settings:
    """Where the demo reads and writes, and how it runs Ansible."""

    root: Path
    inventory: Path
    fleet_file: Path
    #: The state store: a path or a URL (``$AGENTROLL_STATE``), else the demo's own SQLite file.
    state: str
    state_from_env: bool
    report_dir: Path
    forks: int
    lang: str

    @property
    def log_dir(self) -> Path:
        """Where each phase's ansible-playbook output goes."""
        return self.report_dir / "logs"

    @property
    def run_env(self) -> dict[str, str]:
        """What the demo's playbook runs get in their environment: its state and report folder."""
        return {
            "AGENTROLL_STATE": self.state,
            "AGENTROLL_REPORT_DIR": str(self.report_dir),
            # The callback writes its JSON after each run; the demo renders every format once, at the end.
            "AGENTROLL_REPORT_FORMATS": "json",
        }


def settings_from_args(args: argparse.Namespace, environ: Mapping[str, str] = os.environ) -> Settings:
    """Resolve the options and the environment into absolute paths."""
    root = PROJECT_ROOT
    explicit_state = environ.get("AGENTROLL_STATE")
    report_dir = environ.get("AGENTROLL_REPORT_DIR")
    inventory = (args.inventory or root / DEMO_INVENTORY).resolve()
    return Settings(
        root=root,
        inventory=inventory,
        fleet_file=(args.fleet or inventory / "fleet.yml").resolve(),
        state=_absolute_location(explicit_state) if explicit_state else str(root / DEMO_STATE),
        state_from_env=bool(explicit_state),
        report_dir=Path(report_dir).expanduser().resolve() if report_dir else root / DEMO_REPORT_DIR,
        forks=args.forks,
        lang=args.lang,
    )


def check_setup(settings: Settings) -> None:
    """The checkout has been set up (collections) and holds the demo's files."""
    collections = settings.root / "collections" / "ansible_collections"
    missing = [
        path
        for path in (
            collections / "ansible" / "windows",
            collections / "agentroll" / "toolkit" / "plugins" / "callback" / "coverage.py",
        )
        if not path.exists()
    ]
    if missing:
        raise DemoError(f"missing set-up ({shown(missing[0])}): run scripts/bootstrap (or make setup) first")
    for path in (settings.inventory, settings.fleet_file, settings.root / "playbooks" / "site.yml"):
        if not path.exists():
            raise DemoError(f"{shown(path)} does not exist")


def _absolute_location(location: str) -> str:
    """A state store path made absolute (the playbook runs work elsewhere); a URL as it is."""
    parsed = parse_location(location)
    if parsed.path is not None and parsed.url is None and not location.startswith("sqlite:"):
        return str(parsed.path.resolve())
    return location


def shown_state(settings: Settings) -> str:
    """The state store as messages show it: a path relative to here, or a URL without its password."""
    parsed = parse_location(settings.state)
    return shown(parsed.path) if parsed.path is not None else parsed.shown


def shown(path: Path) -> str:
    """A path relative to the current directory when it is inside it (shorter to read and to copy)."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
