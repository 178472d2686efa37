# Copyright: (c) 2026, agentroll maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation of the action plugin plugins/action/agent_package.py.

DOCUMENTATION = r"""
---
module: agent_package
short_description: Put the agent's installer on a Windows PC and install it, keeping its arguments secret
version_added: 0.2.0
description:
  - Copies the installer from the controller to O(dest) on the PC with the connection's own file
    transfer, then runs M(ansible.windows.win_package) there with C(no_log), and returns only the
    outcome (V(changed), RV(installed), RV(rc), RV(reboot_required), and on failure a message with
    the install arguments hidden, e.g. C(installer exit code 1603)).
  - Because the arguments never reach the result, the task needs no C(no_log) of its own, so the
    coverage callback records the install the moment the result arrives.
  - Check mode contacts nothing and changes nothing; it reports the install it would do.
  - An option the task leaves out is read from the agent profile's variable named with it below, so
    the agent role's task gives none (an argument is compiled by Jinja for each PC; a variable read
    by the action is templated only when it holds a template). An argument the task gives wins.
options:
  src:
    description:
      - The installer on the controller (a path, looked up like any role file).
      - Default, and required without it, V(agentroll_agent_installer_local).
    type: path
  dest:
    description:
      - Where the installer goes on the PC (its directory must exist).
      - Default, and required without it, V(agentroll_agent_remote_path).
    type: str
  product_id:
    description:
      - The product id (an MSI's product code) that tells whether the agent is installed.
      - Default V(agentroll_agent_product_id).
    type: str
    default: ""
  creates_service:
    description:
      - The agent's service, which tells whether it is installed when there is no product id.
      - Default, when there is no product id, V(agentroll_agent_service_name).
    type: str
    default: ""
  arguments:
    description:
      - Installer arguments; may hold a registration key, never returned or logged.
      - Default V(agentroll_agent_install_arguments).
    type: str
    default: ""
  checksum:
    description:
      - The installer's SHA-256; win_package refuses a file that differs.
      - Default, and required without it, V(agentroll_agent_installer_sha256).
    type: str
  expected_return_code:
    description:
      - Installer exit codes that mean success (3010 and 1641 mean a reboot is pending).
      - Default V(agentroll_agent_expected_return_codes), else the list below.
    type: list
    elements: int
    default: [0, 3010, 1641]
attributes:
  check_mode:
    support: full
    description: Reports the install it would do without contacting the PC.
  diff_mode:
    support: none
    description: Nothing to diff.
  platform:
    platforms: windows
    description: Windows PCs over WinRM.
seealso:
  - module: ansible.windows.win_package
author:
  - agentroll maintainers
"""

EXAMPLES = r"""
- name: Install the agent package
  agentroll.toolkit.agent_package:
    src: /srv/agent/agent.msi
    dest: C:\Windows\Temp\agent.msi
    product_id: "{6D1C2F5A-7B3E-4C1A-9E55-A6E0C0FFEE01}"
    arguments: "{{ agentroll_agent_install_arguments }}"
    checksum: "{{ agentroll_agent_installer_sha256 }}"
  register: agentroll_agent_install
"""

RETURN = r"""
installed:
  description: Whether the agent is installed after the task (also when it already was).
  returned: always
  type: bool
rc:
  description: The installer's exit code (null in check mode).
  returned: always
  type: int
reboot_required:
  description: Whether the agent waits for a reboot (installer exit code 3010 or 1641).
  returned: always
  type: bool
msg:
  description: On failure, what failed, with the install arguments hidden.
  returned: failure
  type: str
  sample: installer exit code 1603
"""
