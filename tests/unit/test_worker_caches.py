"""What a worker would look up, load or compile is done before Ansible forks it.

Each check runs in a process of its own, single-threaded as ansible-playbook is when it forks: it
warms up (or not) as the coverage callback does, forks as Ansible does, and counts in the child
what a worker's first PowerShell module call would still have to do.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from plugin_files import PLUGINS

REPO = PLUGINS.parent

#: argv: warm|cold, the warm-up module's path, a playbook or "-" (none). Prints the steps warmed,
#: the playbook's task actions, then what the forked child still did (JSON).
FORKED_WORKER = """
import importlib.util, json, os, re, sys, typing

re.purge()
mode, script, playbook_path = sys.argv[1:4]
spec = importlib.util.spec_from_file_location("worker_caches", script)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)

playbook = None
if playbook_path != "-":
    from ansible import constants as C
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.playbook import Playbook
    from ansible.plugins.loader import init_plugin_loader
    from ansible.vars.manager import VariableManager

    init_plugin_loader(C.COLLECTIONS_PATHS)
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources="localhost,")
    variables = VariableManager(loader=loader, inventory=inventory)
    playbook = Playbook.load(playbook_path, variable_manager=variables, loader=loader)

warmed = module.warm_worker_caches(playbook) if mode == "warm" else []
actions = sorted(module.task_actions(playbook)) if playbook is not None else []
read, write = os.pipe()
if os.fork() == 0:
    from ansible._internal._task import UnifiedTaskResult
    from ansible.executor.powershell.module_manifest import PSModuleDepFinder
    from ansible.plugins.loader import module_loader

    counts = {"compiled": 0, "type_hints": 0, "listdir": 0}

    def counting(name, real):
        def call(*args, **kwargs):
            counts[name] += 1
            return real(*args, **kwargs)
        return call

    re._compiler.compile = counting("compiled", re._compiler.compile)
    typing.get_type_hints = counting("type_hints", typing.get_type_hints)
    os.listdir = counting("listdir", os.listdir)
    UnifiedTaskResult.from_action_result_dict({"changed": False})
    finder = PSModuleDepFinder()
    if playbook is not None:
        found = module_loader.find_plugin_with_context("agentroll.toolkit.win_agentroll_probe", ".ps1")
        finder.scan_exec_script("module_wrapper.ps1")
        with open(found.plugin_resolved_path, "rb") as source:
            finder.scan_module(source.read(), powershell=True)
    os.write(write, json.dumps(counts).encode())
    os._exit(0)
os.close(write)
child = b""
while chunk := os.read(read, 4096):
    child += chunk
os.wait()
print(json.dumps({"warmed": warmed, "actions": actions, "child": json.loads(child)}))
"""


def _forked_worker(mode: str, playbook: str = "-") -> dict[str, object]:
    script = str(PLUGINS / "plugin_utils" / "worker_caches.py")
    done = subprocess.run(
        [sys.executable, "-c", FORKED_WORKER, mode, script, playbook],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,  # the checkout's ansible.cfg: the collection is found under ./collections
    )
    return json.loads(done.stdout.splitlines()[-1])


def test_a_worker_forked_after_the_warm_up_finds_patterns_and_result_fields_ready() -> None:
    warm = _forked_worker("warm")
    assert {"patterns", "result-fields", "module-json"} <= set(warm["warmed"])
    assert warm["child"]["compiled"] == 0
    assert warm["child"]["type_hints"] == 0


def test_without_the_warm_up_a_worker_compiles_and_resolves_them_itself() -> None:
    cold = _forked_worker("cold")["child"]
    assert cold["compiled"] >= 5
    assert cold["type_hints"] >= 1


@pytest.fixture(scope="module")
def collection_linked() -> None:
    if not (REPO / "collections" / "ansible_collections" / "agentroll" / "toolkit").exists():
        pytest.fail("the collection is not linked under ./collections: run scripts/bootstrap (make setup)")


@pytest.mark.usefixtures("collection_linked")
def test_the_playbook_s_tasks_are_found_through_imported_roles_and_their_handlers() -> None:
    actions = set(_forked_worker("cold", "playbooks/site.yml")["actions"])
    assert {
        "agentroll.toolkit.win_agentroll_probe",
        "agentroll.toolkit.agent_package",
        "ansible.windows.win_hostname",
        "ansible.windows.win_reboot",  # the reboot role's handler
    } <= actions


@pytest.mark.usefixtures("collection_linked")
def test_a_worker_finds_the_probe_module_and_its_utilities_without_searching() -> None:
    warm = _forked_worker("warm", "playbooks/verify.yml")
    assert {"plugins", "filters"} <= set(warm["warmed"])
    assert warm["child"]["listdir"] == 0
    assert _forked_worker("cold", "playbooks/verify.yml")["child"]["listdir"] >= 1
