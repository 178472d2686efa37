"""Rerun a playbook on the stragglers until none is left or the rounds run out.

Each round asks ``agentroll stragglers`` (the same code path as the coverage report) for the hosts a
rerun should target, writes them to a file, and runs ``ansible-playbook … --limit @FILE``. The
coverage callback records every round in the state store and rewrites the district-wide report, so
a rerun on a subset never shrinks the report to that subset.

    python -m agentroll.rerun -i inventory/<district> [--rounds 3] [--playbook playbooks/site.yml]
                              [--state PATH] [--pause SECONDS] [-- extra ansible-playbook args]

ansible-playbook's output goes to stderr; stdout lists the stragglers left at the end, one a line.
Exit status: 0 when no straggler is left, 1 when some remain after the last round, 2 on a usage
or inventory error.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

Runner = Callable[[list[str]], int]


@dataclass
class RerunOutcome:
    """What the rerun loop did: the stragglers before each round, and those left at the end."""

    rounds: list[list[str]] = field(default_factory=list)
    remaining: list[str] = field(default_factory=list)

    @property
    def converged(self) -> bool:
        return not self.remaining


def stragglers(
    inventory: Path, output: Path, state: Path | None = None, template: str | None = None
) -> list[str]:
    """Run ``agentroll stragglers -i INVENTORY -o OUTPUT`` and return the hosts it wrote, one a line.

    OUTPUT is then exactly the file ``ansible-playbook --limit @OUTPUT`` reads.
    """
    from agentroll.cli import main as cli_main

    argv = ["stragglers", "-i", str(inventory), "-o", str(output)]
    if state is not None:
        argv += ["--state", str(state)]
    if template:
        argv += ["--template", template]
    output.parent.mkdir(parents=True, exist_ok=True)
    status = cli_main(argv)
    if status != 0:
        raise RuntimeError(f"agentroll stragglers exited with status {status}")
    return [line.strip() for line in output.read_text(encoding="utf-8").splitlines() if line.strip()]


def _ansible_playbook() -> str:
    local = PROJECT_ROOT / ".venv" / "bin" / "ansible-playbook"
    return str(local) if local.exists() else "ansible-playbook"


def _run(command: list[str]) -> int:
    """Run ansible-playbook with its output on our stderr: stdout carries only the hosts left."""
    return subprocess.run(command, cwd=PROJECT_ROOT, stdout=sys.stderr, check=False).returncode


def rerun(
    inventory: Path,
    *,
    playbook: Path = Path("playbooks/site.yml"),
    rounds: int = 3,
    state: Path | None = None,
    limit_file: Path | None = None,
    extra_args: Sequence[str] = (),
    pause: float = 0.0,
    template: str | None = None,
    stop_when_unchanged: bool = False,
    runner: Runner = _run,
    say: Callable[[str], None] = lambda text: print(text, file=sys.stderr),
) -> RerunOutcome:
    """Run ``playbook`` on the stragglers up to ``rounds`` times; stop as soon as none is left.

    With ``stop_when_unchanged``, also stop when a round left exactly the stragglers it started
    with (another round would only repeat it).
    """
    if rounds < 1:
        raise ValueError("rounds must be at least 1")
    outcome = RerunOutcome()
    limit_file = limit_file or Path(os.environ.get("AGENTROLL_REPORT_DIR", "reports")) / "rerun-limit.txt"
    env_state = {"AGENTROLL_STATE": str(state)} if state is not None else {}
    os.environ.update(env_state)
    for number in range(1, rounds + 1):
        hosts = stragglers(inventory, limit_file, state, template)
        if not hosts:
            say(f"agentroll rerun: no straggler left after {number - 1} round(s)")
            return outcome
        if stop_when_unchanged and outcome.rounds and hosts == outcome.rounds[-1]:
            say(f"agentroll rerun: round {number - 1} changed nothing: stopping")
            outcome.remaining = hosts
            return outcome
        outcome.rounds.append(hosts)
        say(f"agentroll rerun: round {number}/{rounds} on {len(hosts)} straggler(s): {', '.join(hosts)}")
        command = [
            _ansible_playbook(),
            "-i",
            str(inventory),
            str(playbook),
            "--limit",
            f"@{limit_file}",
            *extra_args,
        ]
        status = runner(command)
        say(f"agentroll rerun: round {number} ended with status {status}")
        if pause and number < rounds:
            time.sleep(pause)
    outcome.remaining = stragglers(inventory, limit_file, state, template)
    say(f"agentroll rerun: {len(outcome.remaining)} straggler(s) left after {rounds} round(s)")
    return outcome


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rerun-stragglers",
        description="Rerun a playbook on the stragglers until none is left or the rounds run out.",
    )
    parser.add_argument("-i", "--inventory", required=True, type=Path, help="inventory file or directory")
    parser.add_argument("--playbook", type=Path, default=Path("playbooks/site.yml"), help="playbook to rerun")
    parser.add_argument("--rounds", type=int, default=3, help="at most this many reruns (default 3)")
    parser.add_argument("--state", type=Path, default=None, help="state database (default: $AGENTROLL_STATE)")
    parser.add_argument("--limit-file", type=Path, default=None, help="where to write the --limit @FILE list")
    parser.add_argument("--pause", type=float, default=0.0, help="seconds to wait between rounds")
    parser.add_argument("--template", default=None, help="standard-name format (Jinja2)")
    parser.add_argument("extra", nargs=argparse.REMAINDER, help="after --: extra ansible-playbook arguments")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    extra = [arg for arg in args.extra if arg != "--"] if args.extra else []
    try:
        outcome = rerun(
            args.inventory,
            playbook=args.playbook,
            rounds=args.rounds,
            state=args.state,
            limit_file=args.limit_file,
            extra_args=extra,
            pause=args.pause,
            template=args.template,
        )
    except (RuntimeError, ValueError, OSError) as error:
        print(f"rerun-stragglers: {error}", file=sys.stderr)
        return 2
    for host in outcome.remaining:
        print(host)
    return 0 if outcome.converged else 1


if __name__ == "__main__":
    sys.exit(main())
