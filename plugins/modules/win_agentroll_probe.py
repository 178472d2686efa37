# Copyright: (c) 2026, agentroll maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This is a documentation stub; the module is win_agentroll_probe.ps1 beside it.

DOCUMENTATION = r"""
---
module: win_agentroll_probe
short_description: Gather everything agentroll needs to know about a Windows PC in one invocation
version_added: 0.1.0
description:
  - Reads, in one module invocation, the PC's identity (computer name and any pending rename), its
    operating system, architecture, memory, system drive size and free space, PowerShell version,
    whether a reboot is pending and why, and whether the monitoring agent is installed and its
    service is running.
  - Uses CIM (C(Win32_OperatingSystem), C(Win32_ComputerSystem), C(Win32_LogicalDisk),
    C(Win32_Service)) and the registry (pending-rename and pending-reboot keys, the uninstall keys).
  - Never changes anything; always returns C(changed=false). Supports check mode.
  - With O(agent_server) it also checks, from the PC, that the management server answers on its
    TCP port (the agent's check-in), and reads the agent's own last-contact time where the agent
    profile says it is kept.
  - Only the operating system query is essential. When another query fails (computer system, system
    drive, service, uninstall keys) the module warns, saying what is unknown, which query failed and
    why, and returns those fields as null rather than a guess.
  - Every WinRM module invocation costs the controller about 85 ms of CPU; this module replaces
    the five or so separate fact, registry and service look-ups a play would otherwise need.
  - Each option the task does not give is read, by the module's action plugin, from the agent
    profile variable of the same name prefixed with C(agentroll_) (O(agent_server) from
    C(agentroll_agent_server)), so a play that has the agent role's defaults needs no arguments.
options:
  agent_product_id:
    description:
      - The agent's product id (for an MSI, its product code C({GUID})), looked up under the
        uninstall registry keys (64-bit and 32-bit views).
    type: str
  agent_service_name:
    description:
      - The agent's Windows service name; its state and start mode are returned.
      - When neither O(agent_product_id) nor O(agent_display_name) is given, the agent counts as
        installed when this service exists.
    type: str
  agent_display_name:
    description:
      - The agent's display name in Programs and Features, used when O(agent_product_id) is not
        given or not found.
    type: str
  agent_server:
    description:
      - The management server the agent reports to, C(host:port) (C([v6address]:port) for IPv6).
      - When given, the module opens a TCP connection to it from the PC, bounded by
        O(agent_server_timeout_ms), and returns in RV(checkin) whether it answered. An agent that
        cannot reach its server does not report to the central console.
    type: str
  agent_server_timeout_ms:
    description: How long the connection to O(agent_server) may take, in milliseconds.
    type: int
    default: 2000
  agent_last_contact_key:
    description:
      - The registry key (e.g. C(HKLM:\SOFTWARE\Vendor\Agent)) of the value where the agent keeps
        the time it last reached its server; with O(agent_last_contact_value).
      - The value may be a date text (ISO 8601), Unix seconds or a FILETIME.
    type: str
  agent_last_contact_value:
    description: The name of that registry value.
    type: str
  agent_last_contact_file:
    description:
      - A file the agent rewrites each time it reaches its server; its last write time is the
        agent's last contact. Used when no registry value is given.
    type: str
notes:
  - Works on Windows 8.1, 10, 11 and Windows Server 2012 R2 and later with PowerShell 5.1.
  - On a host with PowerShell older than 5.1 (e.g. Windows 7 as shipped) Ansible cannot run any
    module; the task fails with Ansible's PowerShell-version message and agentroll records the
    host as C(unmanageable).
seealso:
  - module: ansible.windows.win_reboot_info
  - module: ansible.windows.win_service_info
author:
  - agentroll maintainers
"""

EXAMPLES = r"""
- name: Probe the PC once, for the agent the profile variables (agentroll_agent_*) describe
  agentroll.toolkit.win_agentroll_probe: {}
  register: agentroll_preflight_probe

- name: Probe the PC for another agent than the profile's
  agentroll.toolkit.win_agentroll_probe:
    agent_service_name: OtherAgent
    agent_server: ""
  register: other_agent_probe
"""

RETURN = r"""
computer_name:
  description: The computer name in effect now.
  returned: always
  type: str
  sample: MAYPHUONG
pending_computer_name:
  description: The name the PC takes at its next reboot, or null when no rename is pending.
  returned: always
  type: str
  sample: SNV-THANGPV
os_caption:
  description: The operating system's caption.
  returned: always
  type: str
  sample: Microsoft Windows 10 Pro
os_build:
  description: The operating system's build number.
  returned: always
  type: int
  sample: 19045
product_type:
  description:
    - C(workstation), C(server) or C(domain_controller); C(unknown), with a warning, when
      Win32_OperatingSystem gives no product type it knows.
  returned: always
  type: str
  sample: workstation
architecture:
  description: C(x64), C(x86) or C(arm64).
  returned: always
  type: str
  sample: x64
ram_mb:
  description: Installed memory in MiB; null, with a warning, when Windows does not give it.
  returned: always
  type: int
  sample: 8192
system_drive:
  description: The system drive letter.
  returned: always
  type: str
  sample: "C:"
system_size_mb:
  description: The system drive's size in MiB; null, with a warning, when the drive could not be read.
  returned: always
  type: int
  sample: 256000
system_free_mb:
  description: Free space on the system drive in MiB; null, with a warning, when the drive could not be read.
  returned: always
  type: int
  sample: 120000
powershell_version:
  description: The PowerShell version running the module.
  returned: always
  type: str
  sample: 5.1.19041.4648
reboot_pending:
  description: Whether Windows waits for a reboot.
  returned: always
  type: bool
  sample: false
reboot_pending_reasons:
  description: Why a reboot is pending (servicing, Windows Update, file renames, computer rename).
  returned: always
  type: list
  elements: str
  sample: []
agent:
  description: The monitoring agent as this PC has it.
  returned: always
  type: dict
  contains:
    installed:
      description:
        - Whether the agent product (or, without a product id, its service) is present.
        - Null, with a warning, when the uninstall keys (or the service) could not be read.
      type: bool
    product_id:
      description: The product id found, or null.
      type: str
    display_name:
      description: The display name found, or null.
      type: str
    version:
      description: The installed version, or null.
      type: str
    service_name:
      description: The agent's service name.
      type: str
    service_state:
      description:
        - C(running), C(stopped), C(missing), or null when no service name was given or the service
          query failed (with a warning).
      type: str
    service_start_mode:
      description: C(auto), C(manual), C(disabled), or null.
      type: str
checkin:
  description:
    - The agent's check-in as seen from the PC; null when none of O(agent_server),
      O(agent_last_contact_key) or O(agent_last_contact_file) is given.
  returned: always
  type: dict
  contains:
    server:
      description: The management server checked, as given; null when not given.
      type: str
      sample: soc.example.gov.vn:8443
    reachable:
      description: Whether the TCP connection opened within the timeout; null when not checked.
      type: bool
      sample: false
    error:
      description: Why it did not, e.g. C(no answer within 2000 ms) or the socket's message.
      type: str
      sample: No connection could be made because the target machine actively refused it
    last_contact:
      description: The agent's own last contact with its server (UTC, ISO 8601); null when unknown.
      type: str
      sample: "2026-11-20T08:15:00Z"
"""
