"""Rerun a playbook on the stragglers until none is left or the rounds run out (``agentroll rerun``).

Each round asks the report for the hosts a rerun should target (``report_from_store``, the code
path of ``agentroll stragglers`` and of the coverage callback), writes them to a file, and runs the
playbook with ``--limit @FILE`` through ``agentroll.runner``. The coverage callback records every
round in the state store and rewrites the district-wide report, so a rerun on a subset never
shrinks the report to that subset.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agentroll.inventory import load_inventory
from agentroll.model import Inventory
from agentroll.report import report_from_store, write_atomic
from agentroll.runner import PlaybookRun, RunResult, run_playbook
from agentroll.store import StoreError, default_state_location, open_store

DEFAULT_PLAYBOOK = Path("playbooks") / "site.yml"
DEFAULT_ROUNDS = 3


class RerunError(Exception):
    """The loop cannot go on (no state yet, a round that did not run); one line for the operator."""


@dataclass
class RerunOutcome:
    """What the loop did: the stragglers of each round, how each run ended, and who is left."""

    rounds: list[list[str]] = field(default_factory=list)
    results: list[RunResult] = field(default_factory=list)
    remaining: list[str] = field(default_factory=list)

    @property
    def converged(self) -> bool:
        """No straggler is left."""
        return not self.remaining


def stragglers(inventory: Inventory, state: str, template: str | None = None) -> list[str]:
    """The hosts a rerun should target, as the report names them (``state``: a path or a URL)."""
    with open_store(state, readonly=True) as store:
        return list(report_from_store(inventory, store, template=template)["stragglers"])


def _echo_to_stderr(run: PlaybookRun) -> RunResult:
    """A round as the command line runs it: ansible-playbook's output on stderr."""
    return run_playbook(run, echo=sys.stderr)


def rerun(
    inventory: Path,
    *,
    playbook: str | Path = DEFAULT_PLAYBOOK,
    rounds: int = DEFAULT_ROUNDS,
    state: str | Path | None = None,
    limit_file: Path | None = None,
    extra_args: Sequence[str] = (),
    forks: int | None = None,
    env: Mapping[str, str] | None = None,
    pause: float = 0.0,
    template: str | None = None,
    stop_when_unchanged: bool = False,
    run_round: Callable[[PlaybookRun], RunResult] = _echo_to_stderr,
    say: Callable[[str], None] = lambda text: print(text, file=sys.stderr),
) -> RerunOutcome:
    """Run ``playbook`` on the stragglers up to ``rounds`` times; stop as soon as none is left.

    ``state`` is the state store, a path or a URL (default: ``$AGENTROLL_STATE``, else the default
    location);
    it is handed to the runs in their environment, with ``env``. With ``stop_when_unchanged``, the
    loop also stops when a round left exactly the stragglers it started with. ``run_round`` runs
    one round (default: the runner, ansible-playbook's output on stderr).
    """
    if rounds < 1:
        raise ValueError("rounds must be at least 1")
    district = load_inventory(inventory)
    location = str(state) if state is not None else default_state_location()
    try:
        with open_store(location, readonly=True):
            pass
    except StoreError as error:
        raise RerunError(f"{error}: run a playbook first, or give --state") from None
    run_env = {**(env or {}), "AGENTROLL_STATE": location}
    report_dir = run_env.get("AGENTROLL_REPORT_DIR") or os.environ.get("AGENTROLL_REPORT_DIR") or "reports"
    limit_file = limit_file or Path(report_dir) / "rerun-limit.txt"
    outcome = RerunOutcome()
    for number in range(1, rounds + 1):
        hosts = stragglers(district, location, template)
        if not hosts:
            say(f"no straggler left after {number - 1} round(s)")
            return outcome
        if stop_when_unchanged and outcome.rounds and hosts == outcome.rounds[-1]:
            say(f"round {number - 1} changed nothing: stopping")
            outcome.remaining = hosts
            return outcome
        outcome.rounds.append(hosts)
        say(f"round {number}/{rounds} on {len(hosts)} straggler(s): {', '.join(hosts)}")
        write_atomic(limit_file, "".join(f"{host}\n" for host in hosts))
        run = PlaybookRun(
            playbook,
            inventory,
            limit=f"@{limit_file.resolve()}",
            env=run_env,
            forks=forks,
            args=tuple(extra_args),
            hosts=len(hosts),
        )
        result = run_round(run)
        outcome.results.append(result)
        if not result.completed:
            raise RerunError(f"round {number}: ansible-playbook stopped with exit code {result.rc}")
        say(f"round {number} ended with exit code {result.rc}")
        if pause and number < rounds:
            time.sleep(pause)
    outcome.remaining = stragglers(district, location, template)
    say(f"{len(outcome.remaining)} straggler(s) left after {rounds} round(s)")
    return outcome
