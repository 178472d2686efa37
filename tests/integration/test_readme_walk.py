"""The README's walk, command by command, as written: every fenced ``sh`` block marked
``<!-- walk -->`` is read from the README itself and each of its lines runs with bash in a fresh
copy of the checkout (its tracked files, the set-up's ``.venv`` and collections), against the
example simulated fleet: the real-district walk on the inventory ``roster import`` makes (roster,
fleet with its CA, connection and agent profile, vault, preflight, site, reports), then the
simulated fleet's own block. A line's trailing comment ``# exit N: why`` is the exit status it
documents (0 otherwise). The other ``sh`` blocks must name real programs, playbooks, options,
inventories and units, or placeholders in ``<…>``. The README drifting from the code fails this
test."""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentroll.inventory.loader import host_variables
from agentroll.roster import read_table
from agentroll.sim.fleet import Fleet

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
MARK = re.compile(r"^<!-- walk\b.*-->$")
COMMENT = re.compile(r"\s+#\s(?P<comment>.*)$")
EXIT = re.compile(r"^exit (?P<status>\d+)\b")
#: The example fleet listens on fixed addresses (127.30.0.x): one walk at a time on this machine.
LOCK = Path("/tmp/agentroll-example-fleet.lock")
EXAMPLE = ROOT / "inventory" / "example"
#: What the real-district walk must do, in this order (each, the start of one of its commands).
DISTRICT_WALK = (
    ".venv/bin/agentroll roster import",
    ".venv/bin/agentroll sim start agentroll/sim/example-fleet.yml --ca-cert inventory/konplong/",
    "cp inventory/example/group_vars/all/connection.yml inventory/konplong/",
    "printf %s 'Agentr0ll!Demo' | .venv/bin/ansible-vault encrypt_string --vault-password-file",
    "cp inventory/example/group_vars/all/agent.yml inventory/konplong/",
    ".venv/bin/ansible-playbook playbooks/preflight.yml -i inventory/konplong --vault-password-file",
    ".venv/bin/ansible-playbook playbooks/site.yml -i inventory/konplong --vault-password-file",
    ".venv/bin/agentroll report -i inventory/konplong",
    ".venv/bin/agentroll sim stop",
)
#: Programs a README command may start besides the set-up's ``.venv/bin/`` and ``scripts/``.
OTHER_PROGRAMS = {"make", "cp", "export", "sudo", "echo", "ansible-builder"}
SEPARATORS = {"|", "||", "&&", "&", ";"}
REDIRECTS = {">", ">>"}
SUB_COMMAND = re.compile(r"[a-z][a-z-]*")
#: The inventory the walk imports, which commands outside it may use as they are.
WALK_INVENTORY = "inventory/konplong"


def walk_commands(text: str) -> list[tuple[str, int]]:
    """Each command of the marked blocks, in order, with the exit status its comment documents."""
    commands = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if not MARK.match(line.strip()):
            continue
        assert lines[index + 1].strip() == "```sh", f"README line {index + 1}: a walk mark must precede ```sh"
        for body in lines[index + 2 :]:
            if body.strip() == "```":
                break
            found = COMMENT.search(body)
            command = body[: found.start()] if found else body
            if not command.strip():
                continue
            documented = EXIT.match(found["comment"]) if found else None
            commands.append((command.strip(), int(documented["status"]) if documented else 0))
    return commands


def test_the_walk_commands_are_read_from_the_readme() -> None:
    text = "<!-- walk -->\n```sh\nls -l   # exit 0: fine\n\necho `x`  # `not run`\nfalse  # exit 1: no\n```\n"
    assert walk_commands(text) == [("ls -l", 0), ("echo `x`", 0), ("false", 1)]


def sh_commands(text: str) -> list[tuple[int, str]]:
    """Each command line (README line number, text without its comment) of the unmarked sh blocks."""
    commands = []
    lines = text.splitlines()
    inside, marked = False, False
    for number, line in enumerate(lines, start=1):
        if line.strip() == "```sh":
            inside, marked = True, bool(MARK.match(lines[number - 2].strip()))
        elif inside and line.strip() == "```":
            inside = False
        elif inside and not marked and line.strip():
            found = COMMENT.search(line)
            commands.append((number, (line[: found.start()] if found else line).strip()))
    return commands


def simple_commands(line: str) -> list[list[str]]:
    """The words of each simple command of a shell line, without assignments and redirections."""
    words = [word.strip("[]") for word in shlex.split(line)]
    commands: list[list[str]] = [[]]
    skip = False
    for word in words:
        if word in SEPARATORS:
            commands.append([])
        elif word in REDIRECTS:
            skip = True
        elif skip:
            skip = False
        elif commands[-1] or not re.match(r"^[A-Z_]+=", word):
            commands[-1].append(word)
    return [command for command in commands if command]


def options_of(program: list[str]) -> str:
    """The ``--help`` text of a program (for ``agentroll``, of its sub-command and sub-sub-command)."""
    texts = []
    for depth in range(len(program)):
        done = subprocess.run([*program[: depth + 1], "--help"], cwd=ROOT, capture_output=True, text=True)
        if done.returncode == 0:
            texts.append(done.stdout)
    return "\n".join(texts)


def command_problems(text: str, helps: dict[tuple[str, ...], str]) -> list[str]:
    """What is wrong with the commands outside the walk: a program that is not the set-up's, a
    playbook, option, inventory or unit that does not exist and is not a placeholder in ``<…>``.
    ``helps`` caches ``--help`` texts by program and sub-commands."""
    units = {row["code"] for _, row in read_table(EXAMPLE / "roster" / "units.csv", "units").rows}
    problems = []
    for number, line in sh_commands(text):
        for words in simple_commands(line):
            program, where = words[0], f"README line {number}: "
            if not (program.startswith((".venv/bin/", "scripts/")) or program in OTHER_PROGRAMS):
                problems.append(f"{where}program {program}")
            if program.startswith(".venv/bin/") and not (ROOT / program).exists():
                problems.append(f"{where}no {program}")
            for option, value in itertools.pairwise([*words, ""]):
                if option == "--":  # what follows goes to ansible-playbook
                    break
                if option == "-i" and not (
                    "<" in value or value == WALK_INVENTORY or (ROOT / value).exists()
                ):
                    problems.append(f"{where}inventory {value}")
                if option == "--unit" and not ("<" in value or value in units):
                    problems.append(f"{where}unit {value}")
                if option.startswith("playbooks/") and not (ROOT / option).is_file():
                    problems.append(f"{where}playbook {option}")
                if option.startswith("--") and program.startswith(".venv/bin/") and (ROOT / program).exists():
                    path = (program, *itertools.takewhile(SUB_COMMAND.fullmatch, words[1:3]))
                    if path not in helps:
                        helps[path] = options_of([str(ROOT / program), *path[1:]])
                    if option.split("=")[0] not in helps[path]:
                        problems.append(f"{where}option {option} of {' '.join(path)}")
    return problems


@pytest.mark.slow
def test_the_other_readme_commands_are_valid_or_templates() -> None:
    helps: dict[tuple[str, ...], str] = {}
    assert command_problems(README.read_text(encoding="utf-8"), helps) == []
    drifted = (
        "```sh\nansible-playbook playbooks/site.yml -i inventory/nowhere\n"
        ".venv/bin/agentroll report -i inventory/<district> --unit XYZ --no-such-option  # a comment\n"
        ".venv/bin/agentroll rerun -i inventory/konplong -- --forks 20 --unit <UNIT>\n```\n"
    )
    assert command_problems(drifted, helps) == [
        "README line 2: program ansible-playbook",
        "README line 2: inventory inventory/nowhere",
        "README line 3: unit XYZ",
        "README line 3: option --no-such-option of .venv/bin/agentroll report",
    ]


def test_the_example_roster_fleet_and_inventory_name_the_same_pcs() -> None:
    fleet = Fleet.from_file(ROOT / "agentroll" / "sim" / "example-fleet.yml")
    roster = read_table(EXAMPLE / "roster" / "pcs.csv", "pcs")
    inventory = host_variables(EXAMPLE, ["ansible_host", "agentroll_mac"])
    workstations = {row["address"] for _, row in roster.rows}
    assert workstations == {
        address for address in fleet.addresses() if fleet.host(address).product_type == "workstation"
    }
    assert {pc["ansible_host"] for pc in inventory.values()} == set(fleet.addresses())
    for pc in inventory.values():
        if pc.get("agentroll_mac"):
            assert fleet.host(pc["ansible_host"]).mac == pc["agentroll_mac"]


@pytest.fixture
def checkout(tmp_path: Path) -> Iterator[Path]:
    """A copy of the tracked files, with the set-up's virtual environment and collections."""
    copy = tmp_path / "agentroll"
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, text=True
    ).stdout.split("\0")
    for name in filter(None, tracked):
        source = ROOT / name
        if source.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    (copy / ".venv").symlink_to(ROOT / ".venv")
    collections = copy / "collections" / "ansible_collections"
    collections.mkdir(parents=True, exist_ok=True)
    for namespace in ("ansible", "community"):
        (collections / namespace).symlink_to(ROOT / "collections" / "ansible_collections" / namespace)
    (collections / "agentroll").mkdir()
    (collections / "agentroll" / "toolkit").symlink_to("../../..")
    yield copy


@pytest.mark.integration
@pytest.mark.slow
def test_the_readme_walk_runs_as_written(checkout: Path, tmp_path: Path) -> None:
    commands = walk_commands(README.read_text(encoding="utf-8"))
    steps = iter(command for command, _ in commands)
    for step in DISTRICT_WALK:
        assert any(command.startswith(step) for command in steps), (
            f"the README's walk lacks, in order: {step}"
        )
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ANSIBLE_", "AGENTROLL_"))}
    env.update(XDG_STATE_HOME=str(tmp_path / "state"), HOME=str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    LOCK.touch(exist_ok=True)
    with LOCK.open() as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            for command, expected in commands:
                done = subprocess.run(
                    ["bash", "-c", command],
                    cwd=checkout,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=600,
                )
                assert done.returncode == expected, (
                    f"{command}\nexit {done.returncode}, the README says {expected}\n"
                    f"{done.stdout[-2500:]}\n{done.stderr[-2500:]}"
                )
        finally:
            subprocess.run(
                [".venv/bin/agentroll", "sim", "stop"],
                cwd=checkout,
                env=env,
                capture_output=True,
                check=False,
            )

    report = subprocess.run(
        [".venv/bin/agentroll", "report", "-i", "inventory/konplong", "--format", "json"],
        cwd=checkout,
        env=env,
        capture_output=True,
        check=True,
        text=True,
    )
    hosts = {host["host"]: host for host in json.loads(report.stdout)["hosts"]}
    assert {name: host["state"] for name, host in hosts.items()} == {
        "vp-01": "compliant",  # renamed from MAYPHUONG
        "vp-02": "compliant",  # installed, renamed
        "vp-03": "failed",  # installer exit code 1603
        "vp-04": "unmanageable",  # Windows 7
        "tckh-01": "ineligible",  # 1024 MB of RAM
        "tckh-02": "unreachable",  # switched off
        "xa1-01": "compliant",
        "xa1-02": "compliant",
    }
    assert {name: hosts[name]["computer_name"] for name in ("vp-01", "vp-02", "xa1-02")} == {
        "vp-01": "VP-THANGPV",
        "vp-02": "VP-TUYETNTA",
        "xa1-02": "XA1-THUANA",
    }
    # The WinRM password and the registration key reached the PCs through the vault only.
    kept = [
        *(tmp_path / "state").rglob("*.sqlite*"),
        *(checkout / "reports").rglob("*"),
        *checkout.glob("*.html"),
    ]
    assert tmp_path / "state" / "agentroll" / "state.sqlite" in kept and checkout / "vp.html" in kept
    for path in filter(Path.is_file, kept):
        content = path.read_bytes()
        assert b"Agentr0ll!Demo" not in content and b"EXAMPLE-KEY" not in content, path
