# Copyright: (c) 2026, agentroll maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fill, in ansible-playbook's own process, caches that every worker would otherwise fill again.

Ansible runs each task on each PC in a worker forked from its main process, and a worker's caches
die with it. What the main process has cached before it forks, every worker inherits for free.
ansible-core says as much of its own Jinja lexer ("pre-generate the default cached lexer before
forking"); this module does it, from the coverage callback's playbook start, before the first
fork, for what a per-PC task of the toolkit would otherwise load or compile in every worker.
"""

from __future__ import annotations

#: The toolkit's filters that a task evaluates on every PC (the agent role's settle.yml). Finding
#: one loads the collection's filter files and what they import: about 13 ms in each worker.
PER_PC_FILTERS = ("agentroll.toolkit.agentroll_service_needs_repair",)


def warm_worker_caches() -> list[str]:
    """Fill the caches below; the names of those filled (an older ansible-core may lack one)."""
    return [name for name, fill in (("patterns", _compile_patterns), ("filters", _load_filters)) if fill()]


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
