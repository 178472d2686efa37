# Copyright: (c) 2026, agentroll maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation of the action plugin plugins/action/lease.py, which runs on the controller only.

DOCUMENTATION = r"""
---
module: lease
short_description: Take this run's lease on the PCs it is about to change, in the agentroll state store
version_added: 0.1.0
description:
  - Takes a lease in the state store on every host of O(hosts) for the C(ansible-playbook) process
    that runs the task, and returns the hosts another live run holds (RV(refused)), so that the play
    can leave them alone (C(ansible.builtin.meta) C(end_host)). Two runs never change one PC at
    once, be they two C(agentroll watch) processes, a watch and a manual run, or two operators
    sharing a PostgreSQL store.
  - A lease counts while its holder lives; on the same controller that is its process, on another
    controller (an AWX job's container) until it expires, six hours after it was taken. Nobody but
    its holder ever removes it, and it stops counting when its holder is gone.
  - Use it once per play with C(run_once=true); its result is then registered for every host.
  - In check mode it takes no lease and only reports the hosts another run holds.
options:
  hosts:
    description: The hosts to lease; omitted means every host of the play still in it.
    type: list
    elements: str
  purpose:
    description: What the lease is for, shown to the runs it keeps out; omitted means the play's name.
    type: str
  state:
    description:
      - The state store; omitted means the coverage callback's C(state) option,
        C($AGENTROLL_STATE), or the default location.
    type: str
attributes:
  check_mode:
    support: full
    description: Takes no lease in check mode.
  diff_mode:
    support: none
    description: Nothing to diff.
  platform:
    platforms: all
    description: Runs on the controller.
author:
  - agentroll maintainers
"""

EXAMPLES = r"""
- name: Lease the PCs this run is about to change
  agentroll.toolkit.lease:
    purpose: site.yml
  register: agentroll_site_lease
  run_once: true

- name: Leave the PCs another run is changing
  ansible.builtin.meta: end_host
  when: inventory_hostname in agentroll_site_lease.refused
"""

RETURN = r"""
granted:
  description: The hosts this run now holds (none in check mode).
  returned: always
  type: list
  elements: str
refused:
  description: Each host another live run holds, with what holds it.
  returned: always
  type: dict
  sample: {"vp-01": "site.yml holds it: pid 4242 on ctl-01 (Phạm Văn Thắng) since 2026-12-02T03:04:05Z"}
"""
