"""Who runs a playbook, and where: recorded with every run so that several operators share one store.

The operator is ``$AGENTROLL_OPERATOR`` when set; else, inside an AWX / Automation Controller job, the
job (AWX puts its id in ``$JOB_ID`` and its own URL in ``$AWX_HOST``; the person who launched it is
only in the extra variable ``awx_user_name``, which a caller may pass explicitly); else the
operating-system user, marked with the ansible-runner run it belongs to when ansible-runner started
the playbook (it puts its artifact directory, named after the run, in ``$AWX_ISOLATED_DATA_DIR``).
"""

from __future__ import annotations

import getpass
import os
import socket
from collections.abc import Mapping
from pathlib import PurePath

MAX_OPERATOR_LENGTH = 200


def current_operator(environ: Mapping[str, str] | None = None) -> str:
    """The operator to record for a run started now (see the module's docstring)."""
    env = os.environ if environ is None else environ
    explicit = _one_line(env.get("AGENTROLL_OPERATOR", ""))
    if explicit:
        return explicit
    job = _one_line(env.get("JOB_ID", ""))
    if job:
        awx = _one_line(env.get("AWX_HOST", ""))
        return f"AWX job {job}" + (f" ({awx})" if awx else "")
    user = os_user()
    artifacts = env.get("AWX_ISOLATED_DATA_DIR", "").strip()
    if artifacts:
        return _one_line(f"{user} (ansible-runner {PurePath(artifacts).name})")
    return user


def os_user() -> str:
    """The login name, or ``uid N`` where the user has no name (e.g. a container's random uid)."""
    try:
        return _one_line(getpass.getuser()) or f"uid {os.getuid()}"
    except (OSError, KeyError):
        return f"uid {os.getuid()}"


def controller_name() -> str:
    """This machine's host name: where a run's process lives."""
    return socket.gethostname()


def process_alive(pid: int) -> bool:
    """True unless the process certainly does not exist (a process of another user counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _one_line(text: str) -> str:
    """Control characters out, one line, bounded: the operator is free text from the environment."""
    cleaned = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return cleaned[:MAX_OPERATOR_LENGTH]
