# Copyright: (c) 2026, agentroll maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an agentroll.toolkit plugin says when the Python package it adapts cannot be imported.

The plugins are thin adapters over the Python package ``agentroll``. Without it (a controller or
an execution environment that only got the collection) a plugin must fail with one line that names
the missing package, the Python that lacks it and the command that installs it, never with a
traceback. The collection carries the package's source and ``pyproject.toml`` at its root, so that
command is exact: ``pip install <this collection>`` installs ``agentroll`` with its pinned
dependencies.

Plugins import this module only after their own ``import agentroll…`` failed, so that loading them
by path (as unit tests do) needs nothing but the package itself.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from ansible.errors import AnsibleFilterError

#: The collection's root, which holds the ``agentroll`` package and its ``pyproject.toml``.
COLLECTION_ROOT = Path(__file__).resolve().parents[2]


def missing_package_message(plugin: str, error: ImportError) -> str:
    """One line: the plugin, the Python package it cannot import, for which Python, and the fix."""
    python = sys.executable or "python3"
    missing = error.name or ""
    if not isinstance(error, ModuleNotFoundError) or not missing:
        problem = f"the Python package 'agentroll' cannot be imported by {python} ({error})"
    elif missing == "agentroll":
        problem = f"the Python package 'agentroll' is not installed for {python}"
    elif missing.startswith("agentroll."):
        problem = (
            f"the Python package 'agentroll' of {python} has no '{missing}' (not this collection's version)"
        )
    else:
        top = missing.partition(".")[0]
        problem = f"the Python package '{top}', which agentroll needs, is not installed for {python}"
    return (
        f"{plugin}: {problem}; install it with: "
        f"{shlex.quote(python)} -m pip install {shlex.quote(str(COLLECTION_ROOT))} "
        "(AWX: use the execution environment built from agentroll's execution-environment.yml)"
    )


def unavailable_filter(name: str, error: ImportError) -> Callable[..., NoReturn]:
    """A stand-in for the filter ``name`` that fails with ``missing_package_message`` when used."""
    message = missing_package_message(f"agentroll.toolkit.{name}", error)

    def fail(*_args: Any, **_kwargs: Any) -> NoReturn:
        raise AnsibleFilterError(message)

    return fail
