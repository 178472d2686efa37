# Copyright: (c) 2026, agentroll maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fill, in ansible-playbook's own process, caches that every worker would otherwise fill again.

Ansible runs each task on each PC in a worker forked from its main process, and a worker's caches
die with it. What the main process has cached before it forks, every worker inherits for free.
ansible-core says as much of its own Jinja lexer ("pre-generate the default cached lexer before
forking"); this module does it, from the warm_workers callback's playbook start, before the
first fork, for what a per-PC task would otherwise look up, load or compile in every worker.

Every step is an optimisation only: one that fails (an ansible-core that moved a private name) is
left out, and the workers fill that cache themselves as they always did.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterable, Iterator
from typing import Any

#: The toolkit's filters that a task evaluates on every PC (the agent role's settle.yml). Finding
#: one loads the collection's filter files and what they import: about 13 ms in each worker.
PER_PC_FILTERS = ("agentroll.toolkit.agentroll_service_needs_repair",)

#: Modules that the toolkit's action plugins run on the PC, which no task names itself.
MODULES_RUN_BY_ACTIONS = {"agentroll.toolkit.agent_package": ("ansible.windows.win_package",)}


def warm_worker_caches(playbook: Any = None) -> list[str]:
    """Fill the caches below; the names of those filled (an older ansible-core may lack one).

    ``playbook``, Ansible's loaded playbook, names the tasks whose plugins are looked up.
    """
    steps: tuple[tuple[str, Callable[[], bool]], ...] = (
        ("patterns", _compile_patterns),
        ("filters", _load_filters),
        ("result-fields", _map_result_fields),
        ("module-json", _import_module_json),
        ("plugins", lambda: _resolve_plugins(task_actions(playbook)) if playbook is not None else False),
    )
    return [name for name, fill in steps if fill()]


def task_actions(playbook: Any) -> set[str]:
    """The action of every task and handler of the playbook's plays, imported roles included.

    Dynamic includes are not loaded before they run, so their tasks are not among them.
    """
    actions: set[str] = set()
    for play in playbook.get_plays():
        blocks = [*play.pre_tasks, *play.tasks, *play.post_tasks, *play.handlers]
        for role in play.roles:
            blocks += [*role.get_task_blocks(), *role.get_handler_blocks(play=play)]
        actions.update(task.action for task in _tasks_in(blocks) if isinstance(task.action, str))
    return actions


def _tasks_in(blocks: Iterable[Any]) -> Iterator[Any]:
    for item in blocks:
        children = getattr(item, "block", None)
        if children is None:
            yield item
            continue
        yield from _tasks_in([*children, *(item.rescue or ()), *(item.always or ())])


def _compile_patterns() -> bool:
    """Compile the PowerShell dependency finder's patterns into ``re``'s cache.

    ``PSModuleDepFinder`` compiles its patterns in its constructor, once per PowerShell module call,
    in the worker; ``re.compile`` keeps compiled patterns in a per-process cache, which a fork
    inherits.
    """
    try:
        from ansible.executor.powershell.module_manifest import PSModuleDepFinder

        PSModuleDepFinder()
    except Exception:  # an ansible-core without it: the workers compile the patterns themselves
        return False
    return True


def _load_filters() -> bool:
    """Load the per-PC filters' plugin files once; the loader keeps their modules for the forks."""
    try:
        from ansible.plugins.loader import filter_loader

        return all(filter_loader.get(name) is not None for name in PER_PC_FILTERS)
    except Exception:  # not found or not loadable here: each worker loads them itself
        return False


def _map_result_fields() -> bool:
    """Build the map a worker reads its task's result through (cached per process, for each source).

    It resolves the type hints of every field of Ansible's task result, in every worker of every
    task, skipped ones included: about 5 ms of each worker's CPU.
    """
    try:
        from ansible._internal._task import UnifiedTaskResult

        for source_is_module in (True, False):
            UnifiedTaskResult.get_result_key_to_resolved_field_mapping(source_is_module=source_is_module)
    except Exception:  # moved in this ansible-core: each worker builds it
        return False
    return True


def _import_module_json() -> bool:
    """Import the JSON profiles a module's arguments and result go through, and WinRM's codec."""
    try:
        from ansible.module_utils._internal._json import (
            get_module_serialization_profile_name,
            get_serialization_module,
        )

        for controller_to_module in (True, False):
            get_serialization_module(get_module_serialization_profile_name("legacy", controller_to_module))
        codecs.lookup("utf-16-le")  # a PowerShell command line is UTF-16-LE, base64-encoded
    except Exception:  # moved in this ansible-core: each worker imports them
        return False
    return True


def _resolve_plugins(actions: Iterable[str]) -> bool:
    """Look up each action's plugin and module as a worker does, and scan a PowerShell module's
    dependencies: the loaders keep the paths found, and the module utilities' packages stay imported.
    """
    try:
        from ansible.plugins.loader import action_loader, module_loader
    except Exception:
        return False
    resolved = True
    for action in sorted(actions):
        try:
            if not action_loader.get_with_context(action, class_only=True).plugin_load_context.resolved:
                action_loader.get_with_context("ansible.legacy.normal", class_only=True)
            for module in (action, *MODULES_RUN_BY_ACTIONS.get(action, ())):
                _scan_powershell_module(module_loader, module)
        except Exception:  # a task Ansible will fail on, or a loader that changed: left to the worker
            resolved = False
    return resolved


def _scan_powershell_module(module_loader: Any, name: str) -> None:
    from ansible.executor.module_common import _get_ansible_module_fqn
    from ansible.executor.powershell.module_manifest import PSModuleDepFinder

    module_loader.find_plugin_with_context(name)
    found = module_loader.find_plugin_with_context(name, ".ps1")
    if not found.resolved or not str(found.plugin_resolved_path).endswith(".ps1"):
        return
    finder = PSModuleDepFinder()
    finder.scan_exec_script("module_wrapper.ps1")
    path = found.plugin_resolved_path
    with open(path, "rb") as source:
        finder.scan_module(source.read(), fqn=_get_ansible_module_fqn(path), powershell=True)
