"""Why a PC is where it is: structured reasons, kept as data until a report renders them.

A reason is a code plus the values that make it concrete (measured, required, exit code, cause),
e.g. ``Reason("ram", {"measured": 1024, "required": 2048})``. Observations, assessments and the
report JSON carry reasons as plain mappings (``{"code": "ram", "measured": 1024, "required":
2048}``); only a renderer turns them into words, in the reader's language: the code's English
template (``TEMPLATES``) is the gettext msgid, translated first, then filled with the values. A
value may itself be a reason (``step_failed`` carries the error), a list (shown comma-separated),
or a key that ``LABELS`` names in words (steps, facts).

A reason recorded by an older agentroll, or by a producer that only has a sentence, reads back as
the code ``text`` and is shown as it was written; when the sentence is exactly the English of a code
without values (``connection refused``, ``computer rename``) or one of ``KNOWN_SENTENCES``,
``meaning`` reads it as that code, and it is shown (and acted on) as such.

Adding a reason: add its code and English template here (marked ``N_`` so that the extractor
finds it), its translation to ``agentroll/locale/*/LC_MESSAGES/agentroll.po``, and produce
``Reason(code, values).as_value()``.
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from agentroll.i18n import N_, NP_

#: The code of a reason that is only a sentence (recorded by an older agentroll, or free text).
TEXT = "text"

#: English template of each reason code; ``{name}`` placeholders are filled from the reason's
#: values after translation. The templates are the msgids of the translations.
TEMPLATES: dict[str, str] = {
    TEXT: "{text}",
    # Eligibility: measured against required (agentroll.eligibility).
    "os": N_("OS {os} (build {build}) not supported"),
    "os_build": N_("OS {os} build {measured} < {required}"),
    "architecture": N_("architecture {measured} not in {required}"),
    "ram": N_("RAM {measured} MB < {required} MB"),
    "disk": N_("free space on {drive} {measured} MB < {required} MB"),
    "system_drive_space": N_("free space on the system drive {measured} MB < {required} MB"),
    "powershell": N_("PowerShell {measured} < {required}"),
    "unknown_fact": N_("{fact} unknown"),
    # The plan (agentroll.plan).
    "never_probed": N_("eligibility unknown: never probed"),
    "unmanageable": N_("unmanageable"),
    "unmanageable_because": N_("unmanageable: {cause}"),
    "license_waiting": N_("waiting for a license: {unit} has {licenses} licenses, {eligible} eligible PCs"),
    "license_held": N_(
        "waiting for a license: {unit} has {licenses} licenses, {unknown} held for PCs not probed yet"
    ),
    "over_allocation": N_("over allocation: {unit} has {licenses} licenses, {installed} PCs with the agent"),
    "rename_no_agent": N_("not renamed: the agent is not on it and this run does not install it"),
    "rename_server": N_(
        "not renamed: a {product_type} (set agentroll_hostname_rename_servers: true to rename servers)"
    ),
    "rename_type_unknown": N_("not renamed: not known to be a workstation"),
    # Host states (agentroll.states).
    "service_stopped": N_("service {service} is stopped"),
    "service_missing": N_("service {service} is missing"),
    "service_state_unknown": N_("service {service} state unknown"),
    "agent_service_stopped": N_("agent service is stopped"),
    "agent_service_missing": N_("agent service is missing"),
    "agent_service_state_unknown": N_("agent service state unknown"),
    "name_mismatch": N_('computer name "{computer_name}" != standard "{standard_name}"'),
    "pending_name_mismatch": N_('pending computer name "{pending_name}" != standard "{standard_name}"'),
    "name_unknown": N_('computer name unknown, standard "{standard_name}"'),
    "reboot_pending": N_("reboot pending"),
    "step_failed": N_("{step}: {error}"),
    "step_failed_silently": N_("{step} failed"),
    "unknown_failure": N_("unknown failure"),
    # Why a reboot is pending: the probe module's words (reboot_pending_reasons), and the installer.
    "reboot_rename": N_("computer rename"),
    "reboot_windows_update": N_("windows update"),
    "reboot_servicing": N_("component based servicing"),
    "reboot_file_rename": N_("pending file rename operations"),
    "installer_exit_code": N_("installer exit code {exit_code}"),
    "installer_checksum_mismatch": N_("the offline kit's installer does not match its SHA-256"),
    "reboot_installer": N_("installer requested a reboot (exit code {exit_code})"),
    # Contact: why a PC could not be reached or managed.
    "connection_refused": N_("connection refused"),
    "timed_out": N_("timed out"),
    "credentials_rejected": N_("credentials rejected"),
    "connection_dropped": N_("connection dropped"),
    "host_not_found": N_("host not found"),
    "certificate_untrusted": N_("certificate not trusted"),
    "certificate_name_mismatch": N_("certificate name mismatch"),
    "wol_no_answer": N_("Wake-on-LAN sent, no answer"),
    "powershell_too_old": N_("PowerShell older than {required}: cannot be managed remotely"),
    "details_hidden": N_("failed (details hidden: the task handles secrets)"),
    # What to do next about a PC (agentroll.next_steps): its state and causes, turned into an action.
    "next_first_run": N_("not contacted yet: the next run checks it"),
    "next_install": N_("the next run installs the agent"),
    "next_wait_license": N_("waiting for a license: {unit} has none left (see the license advice)"),
    "next_start_service": N_(
        "the next run starts the agent's service; if it stops again, reinstall the agent"
    ),
    "next_rename": N_("the next run renames it to its standard name"),
    "next_rename_server_or_by_hand": N_(
        "no run renames a {product_type}: rename it by hand or leave it, or set "
        "agentroll_hostname_rename_servers: true and run again"
    ),
    "next_rename_by_hand": N_(
        "no run renames it (not known to be a workstation): rename it by hand or leave it"
    ),
    "next_check_registration": N_(
        "the agent does not report to its server: check its registration key and server, or reinstall it"
    ),
    "next_open_server": N_(
        "let it reach the management server {server} (its firewall, the network's, a proxy), then run again"
    ),
    "next_reboot_rename": N_("restart it to finish the rename"),
    "next_reboot": N_("restart it; the next run checks it"),
    "next_fix_or_release": N_("to take the agent: {fixes}; otherwise its license can go to another unit"),
    "next_release": N_("its license can go to another unit"),
    "next_enable_remote_management": N_(
        "enable WinRM and PowerShell 5.1 on it (guide: docs/onboarding.en.md), or let its license go"
    ),
    "next_switch_on_or_enable_winrm": N_(
        "switch it on; if it is on, enable WinRM (guide: docs/onboarding.en.md)"
    ),
    "next_switch_on_or_open_firewall": N_(
        "switch it on; if it is on, let the controller through its firewall (WinRM, port 5985/5986)"
    ),
    "next_check_credentials": N_(
        "check the WinRM user and password in the inventory's vault, and that the account is an "
        "administrator of the PC"
    ),
    "next_check_network": N_("check its network cable and the WinRM service, then run again"),
    "next_check_address": N_("check its address or DNS name in the inventory"),
    "next_trust_certificate": N_(
        "trust its WinRM certificate on the controller (ansible_winrm_ca_trust_path) or issue it from "
        "the district's certificate authority"
    ),
    "next_fix_certificate_name": N_(
        "its certificate is for another name: connect by the name it carries, or issue it for this address"
    ),
    "next_switch_on_by_hand": N_(
        "switch it on by hand, and enable Wake-on-LAN in its BIOS and network card settings"
    ),
    "next_check_reachable": N_("check that it is on and that WinRM answers, then run again"),
    "next_installer_failed": N_(
        "the installer failed with code {exit_code}: read its log on the PC (free space, a pending "
        "restart, an older agent), then run again"
    ),
    "next_installer_busy": N_("another installation was running on it: the next run tries again"),
    "next_interrupted": N_("interrupted during {step}: the next run checks it"),
    "next_check_on_site": N_("it did not come back after its restart: check it on site, then run again"),
    "next_read_log": N_("read the run's log at the {step} step, fix what it says, then run again"),
    "next_fix_error": N_("fix the error shown, then run again"),
    # Requirement fixes, listed by next_fix_or_release.
    "fix_ram": N_("add RAM to at least {required} MB"),
    "fix_disk": N_("free {missing} MB on {drive}"),
    "fix_system_disk": N_("free {missing} MB on the system drive"),
    "fix_os": N_("upgrade Windows to {supported}"),
    "fix_os_build": N_("update Windows to build {required} or later"),
    "fix_architecture": N_("replace it with a PC of architecture {required}"),
    "fix_powershell": N_("install PowerShell {required} (Windows Management Framework)"),
    "fix_unknown_fact": N_("find out why its {fact} cannot be read (see the run's warnings)"),
    # A step interrupted before its result arrived, and a reboot that never came back (agentroll.observe).
    "interrupted": N_("interrupted during {step}; the next run checks"),
    "reboot_timeout": N_("did not come back within {seconds} s of its reboot"),
    # The agent's check-in (the probe, agentroll.states) and the console's view (agentroll.console).
    "server_unreachable": N_("cannot reach the management server {server}"),
    "agent_silent": N_("the agent last reached its management server {days} days before the probe"),
    "console_not_listed": N_("installed, but not on the console"),
    "console_not_listed_reachable": N_(
        "installed and reaches its server, but not on the console: it may report to another server"
    ),
    "console_never_reported": N_("on the console, but it never reported"),
    "console_stale": N_("the console last heard from it {days} days before the export"),
    "console_rename_pending": N_(
        'the console shows "{console_name}": renaming to "{standard_name}" is pending'
    ),
    "console_old_name": N_(
        'renamed to "{standard_name}"; the console still shows "{console_name}" until the agent reports'
    ),
}


#: Values that are keys of a vocabulary, shown in words: value name → key → English label. The
#: value name is the translation context; a key not listed is shown as it is (a task's own name).
LABELS: dict[str, dict[str, str]] = {
    "step": {
        "preflight": NP_("step", "preflight"),
        "probe": NP_("step", "probe"),
        "plan": NP_("step", "plan"),
        "install": NP_("step", "install"),
        "service": NP_("step", "service"),
        "rename": NP_("step", "rename"),
        "reboot": NP_("step", "reboot"),
        "verify": NP_("step", "verify"),
    },
    "fact": {
        "os_build": NP_("fact", "OS build"),
        "architecture": NP_("fact", "architecture"),
        "ram_mb": NP_("fact", "RAM"),
        "system_free_mb": NP_("fact", "free space on the system drive"),
        "powershell_version": NP_("fact", "PowerShell version"),
    },
}

#: The probe module's words for why a reboot is pending, and their codes.
REBOOT_CAUSES: dict[str, str] = {
    TEMPLATES[code]: code
    for code in ("reboot_rename", "reboot_windows_update", "reboot_servicing", "reboot_file_rename")
}


class Translator(Protocol):
    """What rendering needs of a catalogue (``gettext.NullTranslations`` and ``i18n.Catalog`` fit)."""

    def gettext(self, message: str, /) -> str: ...

    def pgettext(self, context: str, message: str, /) -> str: ...


#: English: the msgids themselves.
ENGLISH: Translator = gettext.NullTranslations()


@dataclass(frozen=True)
class Reason:
    """One reason: a stable code and the JSON-ready values its template needs."""

    code: str
    values: Mapping[str, Any] = field(default_factory=dict)

    def as_value(self) -> dict[str, Any]:
        """The JSON form stored in observations and reports: ``{"code": ..., **values}``."""
        return {"code": self.code, **self.values}

    @classmethod
    def from_value(cls, value: Any) -> Reason:
        """A reason from its JSON form; a bare string (older stores) becomes a ``text`` reason."""
        if isinstance(value, Reason):
            return value
        if isinstance(value, Mapping) and value.get("code"):
            values = {str(key): item for key, item in value.items() if key != "code"}
            return cls(str(value["code"]), values)
        return cls(TEXT, {"text": str(value)})

    def render(self, translator: Translator) -> str:
        """The reason in the translator's language; unknown codes or missing values stay readable."""
        if self.code == TEXT:
            meant = meaning(self)
            if meant is not self:
                return meant.render(translator)
            sentence = str(self.values.get("text", ""))
            return translator.gettext(sentence) if sentence else sentence
        shown = {key: _shown(key, value, translator) for key, value in self.values.items()}
        template = TEMPLATES.get(self.code)
        if template is not None:
            try:
                return translator.gettext(template).format(**shown)
            except (KeyError, IndexError, ValueError):
                pass
        details = ", ".join(f"{key} {value}" for key, value in shown.items())
        label = self.code.replace("_", " ")
        return f"{label}: {details}" if details else label

    def english(self) -> str:
        """The reason in English."""
        return self.render(ENGLISH)


def _shown(key: str, value: Any, translator: Translator) -> str:
    """One value in words: nested reasons rendered, lists joined, vocabulary keys named."""
    if isinstance(value, Mapping) and value.get("code"):
        return Reason.from_value(value).render(translator)
    if isinstance(value, list | tuple):
        return ", ".join(_shown(key, item, translator) for item in value)
    if value is None:
        return ""
    vocabulary = LABELS.get(key)
    if vocabulary is not None and str(value) in vocabulary:
        return translator.pgettext(key, vocabulary[str(value)])
    return str(value)


#: Sentences other programs write that reach the store as they are (``text`` reasons), and the
#: reason each means. ansible-core's PowerShell bootstrap says this on a PC older than PowerShell 5.1.
KNOWN_SENTENCES: dict[str, Reason] = {
    "Ansible requires PowerShell v5.1": Reason("powershell_too_old", {"required": "5.1"}),
}
#: Codes whose English needs no value, by that English (``connection refused`` → its code).
_CODE_OF_SENTENCE: dict[str, str] = {
    template: code for code, template in TEMPLATES.items() if code != TEXT and "{" not in template
}
#: Sentences with a number that the agent role and the callback write as text: the exit code of an
#: installer that failed (``installer exit code 1603``).
_NUMBERED_SENTENCES: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"installer exit code (-?\d+)"), "installer_exit_code", "exit_code"),
)


def meaning(reason: Reason) -> Reason:
    """A ``text`` reason read as the reason it means, when its sentence is a known one, an installer's
    exit code, or exactly the English of a code without values (``connection refused``, written by an
    older agentroll); any other reason as it is."""
    if reason.code != TEXT:
        return reason
    sentence = str(reason.values.get("text", "")).strip()
    if sentence in KNOWN_SENTENCES:
        return KNOWN_SENTENCES[sentence]
    for pattern, code, name in _NUMBERED_SENTENCES:
        if found := pattern.fullmatch(sentence):
            return Reason(code, {name: int(found.group(1))})
    code = _CODE_OF_SENTENCE.get(sentence)
    return Reason(code) if code else reason


def text(sentence: str) -> Reason:
    """A free-text reason (an error message the PC or Ansible gave, already one line)."""
    return Reason(TEXT, {"text": sentence})


def reboot_cause(words: str) -> Reason:
    """A reboot cause as the probe module words it (``computer rename``), as a reason."""
    code = REBOOT_CAUSES.get(words.strip().lower())
    return Reason(code) if code else text(words)
