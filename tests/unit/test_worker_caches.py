"""The patterns a PowerShell module call compiles are compiled before Ansible forks its workers."""

from __future__ import annotations

import os
import re

from plugin_files import load_plugin_file


def _patterns_a_worker_compiles() -> int:
    """How many patterns a forked worker compiles to build a PowerShell module's dependency finder."""
    read, write = os.pipe()
    child = os.fork()
    if child == 0:
        try:
            from ansible.executor.powershell.module_manifest import PSModuleDepFinder

            compiled: list[object] = []
            real_compile = re._compiler.compile  # type: ignore[attr-defined]

            def counting_compile(*args: object, **kwargs: object) -> object:
                compiled.append(args[0])
                return real_compile(*args, **kwargs)

            re._compiler.compile = counting_compile  # type: ignore[attr-defined]
            PSModuleDepFinder()
            os.write(write, str(len(compiled)).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as answer:
        count = answer.read()
    os.waitpid(child, 0)
    return int(count)


def test_a_worker_forked_after_the_warm_up_finds_the_patterns_compiled() -> None:
    re.purge()
    assert "patterns" in load_plugin_file("plugin_utils/worker_caches.py").warm_worker_caches()
    assert _patterns_a_worker_compiles() == 0


def test_without_the_warm_up_a_worker_compiles_them_itself() -> None:
    re.purge()
    assert _patterns_a_worker_compiles() >= 5
