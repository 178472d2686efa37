"""The patterns a PowerShell module call compiles are compiled before Ansible forks its workers.

Each check runs in a process of its own, single-threaded as ansible-playbook is when it forks.
"""

from __future__ import annotations

import subprocess
import sys

from plugin_files import PLUGINS

#: Warm up (or not) as the coverage callback does, fork as Ansible does, and count in the child the
#: patterns that building a PowerShell module's dependency finder sends to the regex compiler.
FORKED_WORKER = """
import importlib.util, os, re, sys

re.purge()
if sys.argv[1] == "warm":
    spec = importlib.util.spec_from_file_location("worker_caches", sys.argv[2])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    print(",".join(module.warm_worker_caches()))
read, write = os.pipe()
if os.fork() == 0:
    from ansible.executor.powershell.module_manifest import PSModuleDepFinder

    compiled = []
    real_compile = re._compiler.compile
    re._compiler.compile = lambda *args, **kwargs: compiled.append(args[0]) or real_compile(*args, **kwargs)
    PSModuleDepFinder()
    os.write(write, str(len(compiled)).encode())
    os._exit(0)
os.close(write)
print(os.read(read, 64).decode())
os.wait()
"""


def _forked_worker(mode: str) -> list[str]:
    script = str(PLUGINS / "plugin_utils" / "worker_caches.py")
    done = subprocess.run(
        [sys.executable, "-c", FORKED_WORKER, mode, script], capture_output=True, text=True, check=True
    )
    return done.stdout.split()


def test_a_worker_forked_after_the_warm_up_finds_the_patterns_compiled() -> None:
    warmed, compiled_in_the_worker = _forked_worker("warm")
    assert "patterns" in warmed.split(",")
    assert compiled_in_the_worker == "0"


def test_without_the_warm_up_a_worker_compiles_them_itself() -> None:
    (compiled_in_the_worker,) = _forked_worker("cold")
    assert int(compiled_in_the_worker) >= 5
