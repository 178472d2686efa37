# Copyright: (c) 2026, agentroll maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation of the action plugin plugins/action/plan.py, which runs on the controller only.

DOCUMENTATION = r"""
---
module: plan
short_description: Plan eligibility, standard names, license grants and reallocation for a district
version_added: 0.1.0
description:
  - Runs C(agentroll.plan.build_plan) on the controller. For every host of the district inventory
    it computes whether it can take the agent (with the reasons when not), its standard name and whether it
    must be renamed, whether it holds one of its unit's licenses (and why not), whether this run
    should install the agent, and the license moves between units the district should consider.
  - Hosts of the play are judged by their probe results given in O(probes); every other host by its
    latest observations in the state store, so that licenses held elsewhere in a unit count on a
    C(--limit) rerun.
  - Use it once per play with C(run_once=true); its result is then registered for every host.
  - Fails (and, with C(any_errors_fatal), stops the play before any host is touched) when the
    requirements are malformed or two hosts' explicit standard names collide or are invalid.
  - Never contacts a host and never changes anything.
options:
  probes:
    description:
      - The probe result (M(agentroll.toolkit.win_agentroll_probe)) of each host of the play, by
        inventory hostname; failed or skipped results are ignored.
      - Typically every play host's registered probe, read from C(hostvars) (see the example).
    type: dict
    required: true
  requirements:
    description: The agent's requirements (C(agentroll_agent_requirements)).
    type: dict
    required: true
  template:
    description:
      - The standard-name format (Jinja2), overriding the inventory's C(agentroll_name_template).
      - Omitted means the inventory's template, else the default C(UNITCODE-SHORT).
    type: str
  state:
    description:
      - The state database; omitted means the coverage callback's C(state) option,
        C($AGENTROLL_STATE), or the default location.
    type: path
  inventory:
    description: The district inventory; omitted means the first inventory source of the run.
    type: path
  rename_servers:
    description:
      - Rename servers and domain controllers too (C(agentroll_hostname_rename_servers)).
      - By default only workstations that run the agent, or get it in this run, are renamed; a PC
        out of that scope gets C(rename=false) and C(rename_withheld) says why.
    type: bool
    default: false
  installs:
    description:
      - Whether this run installs the agent. When false (C(rename.yml)), a PC that has no agent yet
        is out of the rename scope even if it would get one.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same in check mode.
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
- name: Compute the plan for every host (once per play, on the controller)
  agentroll.toolkit.plan:
    probes: >-
      {{ dict(ansible_play_hosts | zip(ansible_play_hosts
         | map('extract', hostvars, 'agentroll_preflight_probe'))) }}
    requirements: "{{ agentroll_agent_requirements }}"
  register: agentroll_preflight_plan
  run_once: true
  any_errors_fatal: true
"""

RETURN = r"""
hosts:
  description:
    - The plan of every inventory host, keyed by inventory hostname.
    - "C(reasons) and C(license_reason) are reasons as data, e.g.
      C({code: ram, measured: 1024, required: 2048}) (codes and English wording in
      C(agentroll/reasons.py)); C(summary) says them in words."
  returned: success
  type: dict
  sample:
    snv-03:
      host: snv-03
      unit: SNV
      eligible: true
      reasons: []
      standard_name: SNV-THANGPV
      computer_name: MAYPHUONG
      rename: true
      installed: false
      license_granted: true
      install: true
      license_reason: null
      repair_service: false
      reboot: false
      rename_withheld: null
      product_type: workstation
      would_reboot: true
reallocation:
  description: Advised license moves between units.
  returned: success
  type: list
  elements: dict
  sample: [{from: SYT, to: SNV, licenses: 2}]
play_hosts:
  description: The hosts of the play the plan was made for.
  returned: success
  type: list
  elements: str
summary:
  description: Human-readable lines for the dry run (one per play host, then totals and advice).
  returned: success
  type: list
  elements: str
"""
