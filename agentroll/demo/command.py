"""The ``agentroll demo`` sub-command: options, signals, exit status."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from agentroll.demo.settings import DEFAULT_FORKS, DemoError, settings_from_args
from agentroll.demo.steps import run_demo
from agentroll.demo.summary import print_outcome
from agentroll.runner.signals import Terminated, stoppable
from agentroll.store import StoreError


def register(subparsers: Any) -> None:
    """Add ``agentroll demo`` to the main command."""
    parser = subparsers.add_parser(
        "demo",
        help="the Kon Plông district end to end: simulated fleet, real ansible-playbook, reports",
        description=(
            "Start the simulated fleet of inventory/demo, dry-run, deploy, watch the stragglers "
            "(Wake-on-LAN, PCs switched on later), reach a commune's PCs with the offline kit and write "
            "every report. State: $AGENTROLL_STATE (a new or "
            "empty database), else state/demo.sqlite (started afresh). "
            "Reports: $AGENTROLL_REPORT_DIR, else reports/demo/."
        ),
    )
    parser.add_argument(
        "-i", "--inventory", type=Path, default=None, help="demo inventory (default: inventory/demo)"
    )
    parser.add_argument("--fleet", type=Path, default=None, help="fleet file (default: INVENTORY/fleet.yml)")
    parser.add_argument(
        "--forks",
        type=_positive,
        default=DEFAULT_FORKS,
        help=f"ansible-playbook forks (default {DEFAULT_FORKS})",
    )
    parser.add_argument("--lang", choices=("en", "vi"), default="en", help="language of the printed report")
    parser.set_defaults(func=command_demo)


def _positive(text: str) -> int:
    """An integer of at least 1 (argparse type)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def command_demo(args: argparse.Namespace) -> int:
    """``agentroll demo``; exit status 0, 1 on a demo error, 130 on Ctrl-C, 143 on SIGTERM."""
    settings = settings_from_args(args)
    try:
        with stoppable():
            outcome = run_demo(settings, sys.stdout)
        print_outcome(settings, outcome, sys.stdout)
        return 0
    except (DemoError, StoreError) as error:
        print(f"\nagentroll demo: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nagentroll demo: interrupted; the fleet is stopped, the state kept", file=sys.stderr)
        return 130
    except Terminated:
        print("\nagentroll demo: terminated; the fleet is stopped, the state kept", file=sys.stderr)
        return 143
