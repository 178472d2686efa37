"""Outside the repository, without the Python package: every plugin says what to install, in one line.

The collection is installed as AWX's project sync installs it, away from the checkout, and Ansible
runs with a ``sitecustomize`` on ``PYTHONPATH`` that makes ``import agentroll`` fail as it fails on a
controller or in an execution environment that only got the collection. The real preflight playbook
runs by its FQCN against a simulated PC: its first plugin (the transport check's filter) fails its
task with the one-line message (exit code 2, no traceback, no "Unexpected Exception"; the plan
action's line comes from the same function), the coverage callback warns once and records
nothing. The filters fail their tasks with the same message; ``ansible-doc`` still documents every
plugin.
"""

from __future__ import annotations

import importlib.util
import json
import re
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from agentroll.sim.testing import PROJECT_ROOT, running_fleet
from tests.awx.support import plain_copy, project_sync, run, tool
from tests.integration.support import Pc, fleet_spec, write_inventory

pytestmark = [pytest.mark.integration]

BLOCKER = textwrap.dedent(
    """\
    import sys


    class BlockAgentroll:
        def find_spec(self, name, path=None, target=None):
            if name == "agentroll" or name.startswith("agentroll."):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None


    sys.meta_path.insert(0, BlockAgentroll())
    """
)
FILTERS = (
    "agentroll_transliterate",
    "agentroll_short_name",
    "agentroll_valid_name",
    "agentroll_selftest",
    "agentroll_transport_problems",
    "agentroll_profile_unfilled",
)
FILTER_PLAYBOOK = [
    {
        "name": "Use every filter",
        "hosts": "localhost",
        "gather_facts": False,
        "tasks": [
            {
                "name": f"Filter {name}",
                "ansible.builtin.debug": {"msg": f"{{{{ 'Phạm Văn Thắng' | agentroll.toolkit.{name} }}}}"},
                "ignore_errors": True,
            }
            for name in FILTERS
        ],
    }
]


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("missing-package")
    project = plain_copy(workdir / "project")
    collections = workdir / "collections"
    synced = project_sync(project, collections)
    assert synced.returncode == 0, synced.stdout + synced.stderr
    (workdir / "blocker").mkdir()
    (workdir / "blocker" / "sitecustomize.py").write_text(BLOCKER, encoding="utf-8")
    elsewhere = workdir / "elsewhere"
    elsewhere.mkdir()
    env = {
        "PYTHONPATH": str(workdir / "blocker"),
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        "ANSIBLE_CALLBACKS_ENABLED": "agentroll.toolkit.coverage",
        "AGENTROLL_STATE": str(workdir / "state.sqlite"),
        "AGENTROLL_REPORT_DIR": str(workdir / "reports"),
    }
    pcs = [Pc("vp-01", "vp", {"computer_name": "VP-PC01"})]
    with running_fleet(fleet_spec(pcs), transport="ntlm") as handle:
        units = {"vp": {"code": "VP", "name": "Văn phòng", "licenses": 1}}
        inventory = write_inventory(handle, workdir / "inventory", pcs, units)
        preflight = run(
            [tool("ansible-playbook"), "-i", str(inventory), "agentroll.toolkit.preflight"],
            cwd=elsewhere,
            env=env,
        )
    (elsewhere / "filters.yml").write_text(json.dumps(FILTER_PLAYBOOK, ensure_ascii=False), encoding="utf-8")
    filters = run([tool("ansible-playbook"), "filters.yml"], cwd=elsewhere, env=env)
    docs = {
        kind: run([tool("ansible-doc"), "--json", "-t", kind, *names], cwd=elsewhere, env=env)
        for kind, names in {
            "callback": ["agentroll.toolkit.coverage"],
            "module": ["agentroll.toolkit.plan", "agentroll.toolkit.win_agentroll_probe"],
            "filter": [f"agentroll.toolkit.{name}" for name in FILTERS],
        }.items()
    }
    yield {
        "workdir": workdir,
        "collection": collections / "ansible_collections" / "agentroll" / "toolkit",
        "preflight": preflight,
        "filters": filters,
        "docs": docs,
    }


def _fatal_messages(output: str) -> dict[str, str]:
    """The msg of each ``fatal: [host]: FAILED! => {...}`` line, by task name."""
    found: dict[str, str] = {}
    task = ""
    for line in output.splitlines():
        if heading := re.match(r"^TASK \[(.+?)\] \*+", line):
            task = heading.group(1)
        elif line.startswith("fatal: ["):
            found[task] = json.loads(line.split(" => ", 1)[1])["msg"]
    return found


def _expected_start(plugin: str) -> str:
    return f"{plugin}: the Python package 'agentroll' is not installed for "


def test_the_preflight_stops_at_its_first_plugin_with_one_line_instead_of_crashing(
    outside: dict[str, Any],
) -> None:
    done = outside["preflight"]
    output = done.stdout + done.stderr
    assert done.returncode == 2, output[-3000:]
    assert "Traceback" not in output and "Unexpected Exception" not in output, output[-3000:]
    # The first plugin of the preflight is the transport check's filter, before any PC is contacted
    # (the plan action's own line is checked below, from the same function).
    fatal = [message for message in _fatal_messages(done.stdout).values() if "agentroll.toolkit." in message]
    assert len(fatal) == 1, output[-3000:]
    lines = [line for line in fatal[0].splitlines() if "agentroll.toolkit." in line]
    assert len(lines) == 1, fatal[0]
    assert _expected_start("agentroll.toolkit.agentroll_transport_problems") in lines[0], fatal[0]
    assert f" -m pip install {outside['collection']} " in lines[0], fatal[0]


def test_the_callback_warns_once_and_records_nothing(outside: dict[str, Any]) -> None:
    done = outside["preflight"]
    warnings = [line for line in done.stderr.splitlines() if "agentroll.toolkit.coverage" in line]
    assert len(warnings) == 1, done.stderr
    assert warnings[0].startswith("[WARNING]: " + _expected_start("agentroll.toolkit.coverage")), warnings
    assert warnings[0].endswith("; nothing is recorded"), warnings
    assert not (outside["workdir"] / "state.sqlite").exists()
    assert not (outside["workdir"] / "reports").exists()


def test_every_filter_fails_its_task_with_the_same_line(outside: dict[str, Any]) -> None:
    done = outside["filters"]
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]  # the tasks ignore their errors
    assert "Traceback" not in output
    messages = _fatal_messages(done.stdout)
    assert set(messages) == {f"Filter {name}" for name in FILTERS}, output[-3000:]
    for name in FILTERS:
        plugin_line = _expected_start(f"agentroll.toolkit.{name}")
        assert plugin_line in messages[f"Filter {name}"], messages[f"Filter {name}"]


def test_ansible_doc_documents_every_plugin_without_the_package(outside: dict[str, Any]) -> None:
    for kind, done in outside["docs"].items():
        assert done.returncode == 0, (kind, done.stderr)
        assert "Traceback" not in done.stderr
        docs = json.loads(done.stdout)
        assert docs, kind
        for name, entry in docs.items():
            assert entry["doc"]["short_description"], (kind, name)


def _plugin_utils() -> ModuleType:
    path = PROJECT_ROOT / "plugins" / "plugin_utils" / "python_package.py"
    spec = importlib.util.spec_from_file_location("agentroll_python_package", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("error", "named"),
    [
        (
            ModuleNotFoundError("No module named 'docx'", name="docx"),
            "the Python package 'docx', which agentroll",
        ),
        (
            ModuleNotFoundError("No module named 'agentroll.observe'", name="agentroll.observe"),
            "the Python package 'agentroll' of ",
        ),
        (ImportError("libssl.so.3: cannot open shared object file"), "cannot be imported by "),
    ],
)
def test_the_message_names_the_culprit_of_each_import_failure(error: ImportError, named: str) -> None:
    message = _plugin_utils().missing_package_message("agentroll.toolkit.plan", error)
    assert message.startswith("agentroll.toolkit.plan: ") and named in message, message
    assert f"-m pip install {Path(PROJECT_ROOT)} " in message, message
    assert "\n" not in message
    if not isinstance(error, ModuleNotFoundError):
        assert "libssl.so.3" in message
