"""Goal 7: ``make setup`` from a fresh clone with an empty pip cache, timed.

The clone is of the checkout's last commit; pip gets a throw-away ``PIP_CACHE_DIR``, so every
package is downloaded again (from the registry, as on a new machine). Debian packages that only
``make test`` installs are not part of it.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
GOAL_SECONDS = 90.0


def fresh_clone_setup_seconds() -> float:
    """Wall seconds of ``scripts/bootstrap`` in a fresh clone with an empty pip cache."""
    with tempfile.TemporaryDirectory(prefix="agentroll-bench-setup-") as scratch:
        clone, cache = Path(scratch) / "clone", Path(scratch) / "pip-cache"
        subprocess.run(["git", "clone", "--quiet", str(PROJECT_ROOT), str(clone)], check=True)
        head = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "rev-parse", "HEAD"], check=True, capture_output=True, text=True
        ).stdout.strip()
        subprocess.run(["git", "-C", str(clone), "checkout", "--quiet", head], check=True)
        env = {**os.environ, "PIP_CACHE_DIR": str(cache)}
        env.pop("VIRTUAL_ENV", None)
        started = time.perf_counter()
        done = subprocess.run([str(clone / "scripts" / "bootstrap")], env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"set-up of a fresh clone failed: {done.stderr.strip()[-1000:]}")
        return seconds
