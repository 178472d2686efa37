# Copyright: (c) 2026, agentroll maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fill, in ansible-playbook's own process, caches that every worker would otherwise fill again.

Ansible runs each task on each PC in a worker forked from its main process, and a worker's caches
die with it. What the main process has cached before it forks, every worker inherits for free.
ansible-core says as much of its own Jinja lexer ("pre-generate the default cached lexer before
forking"); this module does it for the regular expressions that every PowerShell module call
compiles to find the module's dependencies, from the coverage callback's playbook start, before
the first fork.
"""

from __future__ import annotations


def warm_worker_caches() -> bool:
    """Compile the PowerShell dependency finder's patterns into ``re``'s cache; False if unavailable.

    ``PSModuleDepFinder`` compiles its patterns in its constructor, once per module call, in the
    worker; ``re.compile`` keeps compiled patterns in a per-process cache, which a fork inherits.
    """
    try:
        from ansible.executor.powershell.module_manifest import PSModuleDepFinder

        PSModuleDepFinder()
    except Exception:  # an ansible-core without it: the workers compile the patterns themselves
        return False
    return True
