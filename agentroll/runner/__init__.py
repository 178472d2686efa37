"""The one way agentroll starts ``ansible-playbook``: ansible-runner's Python interface and its events.

``run_playbook(PlaybookRun(...))`` runs a playbook with an inventory, limit, extra variables,
environment and forks, and returns a ``RunResult`` (status, exit code, play recap, step counts,
log). Progress speaks in the operator's terms ("probe 120/192", "installing 34/80") from the event
stream (``agentroll.runner.progress``); ``ProgressLine`` shows it on a terminal or in a log;
``stoppable()`` lets Ctrl-C and SIGTERM stop a run in order. The demo, ``agentroll rerun`` and
``make bench`` all start their runs here.
"""

from agentroll.runner.display import ProgressLine
from agentroll.runner.playbook import PlaybookRun, RunResult, Snapshot, run_playbook
from agentroll.runner.progress import Progress, StepCount
from agentroll.runner.signals import Terminated, stoppable

__all__ = [
    "PlaybookRun",
    "Progress",
    "ProgressLine",
    "RunResult",
    "Snapshot",
    "StepCount",
    "Terminated",
    "run_playbook",
    "stoppable",
]
