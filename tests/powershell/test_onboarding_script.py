"""Static checks of the safety promises of scripts/windows/Enable-AgentrollWinRM.ps1.

No PowerShell runs here, so what the script promises (docs/onboarding.en.md) is checked on its
syntax tree: nothing in clear over the network, a firewall rule that names the controller, the
local-account token policy only on request, and nothing changed under -WhatIf.
"""

from __future__ import annotations

import re

import pytest
from ps_syntax import REPO_ROOT, CommandSite, command_sites

SCRIPT = REPO_ROOT / "scripts" / "windows" / "Enable-AgentrollWinRM.ps1"
SOURCE = SCRIPT.read_text(encoding="utf-8")
SITES = command_sites(SOURCE.encode())
#: Verbs of cmdlets that change the PC.
CHANGING_VERBS = ("Set-", "New-", "Start-", "Stop-", "Restart-", "Enable-", "Disable-", "Remove-", "Add-")
#: The script's own functions, which only record results.
RECORDERS = ("Set-Setting", "Add-Result")


def code_only(source: str) -> str:
    """The script without its comments and comment-based help."""
    return re.sub(r"<#.*?#>|#[^\n]*", "", source, flags=re.S)


def sites(name: str) -> list[CommandSite]:
    return [site for site in SITES if site.name == name]


def test_unencrypted_wsman_is_only_ever_turned_off() -> None:
    code = code_only(SOURCE)
    assert re.findall(r"AllowUnencrypted\s*=\s*'(\w+)'", code) == ["false"]
    assert re.findall(r"AllowUnencrypted'?\s+-Wanted\s+'(\w+)'", code) == ["false"]
    assert "WSMan:" not in code, "settings go through the *-WSManInstance calls checked here"


def test_basic_authentication_is_only_ever_turned_off_before_any_listener_is_made() -> None:
    code = code_only(SOURCE)
    assert re.findall(r"\bBasic\s*=\s*'(\w+)'", code) == ["false"]
    assert re.findall(r"Basic authentication'\s+-Current\s+\S+\s+-Wanted\s+'(\w+)'", code) == ["false"]
    assert code.index("Basic = 'false'") < code.index("New-WSManInstance")
    assert not re.search(r"-Authentication\s+Basic", code, re.I)


def test_the_firewall_rule_allows_only_the_controller_addresses() -> None:
    (rule,) = sites("New-NetFirewallRule")
    assert "-RemoteAddress $wantedAddresses" in rule.text and "-Direction Inbound" in rule.text
    assert "-LocalPort $listenerPort" in rule.text
    (update,) = [site for site in sites("Set-NetFirewallRule") if "-RemoteAddress" in site.text]
    assert "-RemoteAddress $wantedAddresses" in update.text
    # The addresses are only ever the validated controller addresses; "Any" is no address.
    assert re.findall(r"\$wantedAddresses\s*=\s*(.*)", code_only(SOURCE)) == [
        "@($ControllerAddress | ForEach-Object { ConvertTo-FirewallAddress -Address $_ }"
        " | Sort-Object -Unique)"
    ]
    assert not re.search(r"-RemoteAddress\s+['\"]?(Any|\*|LocalSubnet|Internet)", code_only(SOURCE), re.I)


def test_the_controller_address_is_required_and_keywords_are_refused() -> None:
    code = code_only(SOURCE)
    mandatory = r"\[Parameter\(Mandatory = \$true\)\]\s*\[ValidateNotNullOrEmpty\(\)\]\s*"
    assert re.search(mandatory + r"\[string\[\]\]\$ControllerAddress", code)
    function = code[
        code.index("Function ConvertTo-FirewallAddress") : code.index("Function Select-ListenerCertificate")
    ]
    # Every value it returns passed IPAddress.TryParse (the keywords Any, LocalSubnet, ... do not).
    assert function.count("TryParse") >= 4 and function.rstrip().endswith("}")
    assert re.search(r"throw \"ControllerAddress '\$Address' is not an IP address", function)


def test_the_local_account_token_policy_is_set_only_with_local_account() -> None:
    writes = [
        site
        for site in SITES
        if "LocalAccountTokenFilterPolicy" in site.text
        and site.name.startswith(CHANGING_VERBS)
        and site.name not in RECORDERS
    ]
    assert [site.name for site in writes] == ["New-ItemProperty"]
    assert "if $LocalAccount" in writes[0].enclosed_by
    assert "-PropertyType DWord -Value 1" in writes[0].text


@pytest.mark.parametrize(
    "site",
    [site for site in SITES if site.name.startswith(CHANGING_VERBS) and site.name not in RECORDERS],
    ids=lambda site: f"line {site.line} {site.name}",
)
def test_every_change_waits_for_should_process(site: CommandSite) -> None:
    """-WhatIf changes nothing: each change runs in a Set-Setting block, after ShouldProcess, or
    in the log section that -WhatIf skips."""
    guards = ("block of Set-Setting", "if $PSCmdlet.ShouldProcess(", "if -not $WhatIfPreference")
    assert any(enclosing.startswith(guards) for enclosing in site.enclosed_by), site


def test_set_setting_runs_a_change_only_after_should_process() -> None:
    code = code_only(SOURCE)
    function = code[code.index("Function Set-Setting") : code.index("Function ConvertTo-FirewallAddress")]
    assert "[CmdletBinding(SupportsShouldProcess = $true)]" in function
    assert function.count("$Change.Invoke()") == 1
    should_process = function.index("elseif ($PSCmdlet.ShouldProcess(")
    assert should_process < function.index("$Change.Invoke()") < function.index("else {", should_process)
    assert "[CmdletBinding(SupportsShouldProcess = $true)]" in code.split("param(", 1)[0]
