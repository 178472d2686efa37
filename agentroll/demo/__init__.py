"""``agentroll demo``: the Kon Plông district end to end, real ansible-playbook, simulated fleet.

The steps are the ones an IT team would take, each a real ``ansible-playbook`` run over WinRM
started through ``agentroll.runner``:

1. start the simulated Windows fleet of ``inventory/demo/fleet.yml`` in this process (with its
   control API), after checking that the inventory's connection variables reach it;
2. dry run (``playbooks/preflight.yml``): eligibility summary, reallocation advice, coverage before;
3. ``playbooks/site.yml``: install, rename, reboot, verify;
4. the watch (``agentroll.watch``) on the stragglers, every 20 s until 40 s after the laptops of
   the district are switched on: Wake-on-LAN brings the switched-off PCs back, the watch catches
   the laptops, ``site.yml`` deploys to whoever answers;
5. the offline kit of the commune beyond the network (``agentroll.bundle``, as a kit for the
   simulated fleet: the one kind that may carry the toolkit's sample agent), run on its PCs by a
   simulated person (``agentroll.sim.kit``), its receipts imported (``agentroll.receipts``);
6. coverage after, per unit, and every report format (English and Vietnamese) in the report folder.

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
