"""``agentroll demo``: the Kon Plông district end to end, real ansible-playbook, simulated fleet.

The steps are the ones an IT team would take, each a real ``ansible-playbook`` run over WinRM
started through ``agentroll.runner``:

1. start the simulated Windows fleet of ``inventory/demo/fleet.yml`` in this process (with its
   control API), after checking that the inventory's connection variables reach it;
2. dry run (``playbooks/preflight.yml``): eligibility summary, reallocation advice, coverage before;
3. ``playbooks/site.yml``: install, rename, reboot, verify;
4. switch the PCs that were off back on (through the fleet's control API) and rerun ``site.yml`` on
   the stragglers (``agentroll.rerun``) until nothing changes, at most 3 rounds;
5. coverage after, per unit, and every report format (English and Vietnamese) in the report folder.

Every demo starts from an empty state database, so "before" is what this demo's dry run found:
``state/demo.sqlite`` in the checkout (the previous one kept as ``.previous``), or the one
``$AGENTROLL_STATE`` names if it holds no run yet. The fleet is stopped whatever happens (errors,
Ctrl-C, SIGTERM).

Modules: ``settings`` (paths and options), ``fleet`` (the fleet's life and the connection check),
``state`` (the fresh state database), ``phases`` (one playbook run with its progress line),
``summary`` (what is printed and the report files), ``steps`` (the demo in order), ``command``
(the sub-command).
"""

from agentroll.demo.command import register

__all__ = ["register"]
