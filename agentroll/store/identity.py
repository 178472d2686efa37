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
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePath

MAX_OPERATOR_LENGTH = 200
#: The clocks compared to tell a reused pid (boot time in whole seconds, ticks) are this coarse.
PROCESS_CLOCK_SLACK = timedelta(seconds=2)


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


def still_running(pid: int, since: datetime) -> bool:
    """True while the process that started a run at ``since`` lives: its pid exists and (where the
    system says when a process started) it is not a younger process that was given the same pid."""
    if not process_alive(pid):
        return False
    started = process_started_at(pid)
    return started is None or started <= since + PROCESS_CLOCK_SLACK


def process_started_at(pid: int) -> datetime | None:
    """When a process started (from Linux's /proc), or None where that cannot be known."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
        boot = next(line for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime "))
        # The fields after the parenthesised command name start at field 3; starttime is field 22.
        ticks = int(stat[stat.rindex(")") + 2 :].split()[19])
        return datetime.fromtimestamp(int(boot.split()[1]) + ticks / os.sysconf("SC_CLK_TCK"), UTC)
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _one_line(text: str) -> str:
    """Control characters out, one line, bounded: the operator is free text from the environment."""
    cleaned = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return cleaned[:MAX_OPERATOR_LENGTH]
