"""The commands the shipped PowerShell may use on Windows PowerShell 5.1, and the ones it may not.

``ALLOWED`` maps each cmdlet to the module that documents it in the Windows PowerShell 5.1
reference (learn.microsoft.com/powershell/module/<module>/?view=powershell-5.1). NetSecurity and
PKI ship with Windows 8 / Server 2012 and later, the oldest systems Ansible can manage with
PowerShell 5.1 (WMF 5.1); the rest come with PowerShell itself. Add a cmdlet here only after
checking it is in that reference, under its module.
"""

from __future__ import annotations

_CORE = "Microsoft.PowerShell.Core"
_MANAGEMENT = "Microsoft.PowerShell.Management"
_UTILITY = "Microsoft.PowerShell.Utility"
_CIM = "CimCmdlets"
_WSMAN = "Microsoft.WSMan.Management"
_NETSECURITY = "NetSecurity (Windows 8 / Server 2012 and later)"
_PKI = "PKI (Windows 8 / Server 2012 and later)"

ALLOWED: dict[str, str] = {
    "ForEach-Object": _CORE,
    "Out-Null": _CORE,
    "Set-StrictMode": _CORE,
    "Where-Object": _CORE,
    "Add-Content": _MANAGEMENT,
    "Get-ChildItem": _MANAGEMENT,
    "Get-Content": _MANAGEMENT,
    "Get-ItemProperty": _MANAGEMENT,
    "Get-Service": _MANAGEMENT,
    "Join-Path": _MANAGEMENT,
    "New-Item": _MANAGEMENT,
    "New-ItemProperty": _MANAGEMENT,
    "Rename-Computer": _MANAGEMENT,
    "Restart-Computer": _MANAGEMENT,
    "Set-Content": _MANAGEMENT,
    "Set-Service": _MANAGEMENT,
    "Split-Path": _MANAGEMENT,
    "Start-Process": _MANAGEMENT,
    "Start-Service": _MANAGEMENT,
    "Test-Path": _MANAGEMENT,
    "ConvertFrom-Json": _UTILITY,
    "ConvertTo-Json": _UTILITY,
    "Get-Date": _UTILITY,
    "Get-FileHash": _UTILITY,
    "Read-Host": _UTILITY,
    "Select-Object": _UTILITY,
    "Sort-Object": _UTILITY,
    "Write-Host": _UTILITY,
    "Write-Warning": _UTILITY,
    "Get-CimInstance": _CIM,
    "Get-WSManInstance": _WSMAN,
    "New-WSManInstance": _WSMAN,
    "Set-WSManInstance": _WSMAN,
    "Disable-NetFirewallRule": _NETSECURITY,
    "Get-NetFirewallAddressFilter": _NETSECURITY,
    "Get-NetFirewallPortFilter": _NETSECURITY,
    "Get-NetFirewallRule": _NETSECURITY,
    "New-NetFirewallRule": _NETSECURITY,
    "Set-NetFirewallRule": _NETSECURITY,
    "New-SelfSignedCertificate": _PKI,
}

#: Cmdlets that exist only in PowerShell 7 (not in Windows PowerShell 5.1), with the version.
POWERSHELL_7_ONLY: dict[str, str] = {
    "ConvertFrom-Markdown": "6.1",
    "ConvertFrom-CliXml": "7.5",
    "ConvertTo-CliXml": "7.5",
    "Get-Error": "7.0",
    "Get-MarkdownOption": "6.1",
    "Get-PSSubsystem": "7.3",
    "Get-SecureRandom": "7.4",
    "Get-Uptime": "6.0",
    "Join-String": "6.2",
    "Remove-Alias": "6.0",
    "Remove-Service": "6.0",
    "Set-MarkdownOption": "6.1",
    "Show-Markdown": "6.1",
    "Test-Json": "6.1",
    "Get-ExperimentalFeature": "6.2",
    "Enable-ExperimentalFeature": "6.2",
    "Disable-ExperimentalFeature": "6.2",
}

#: Built-in aliases of Windows PowerShell 5.1 (``Get-Alias``) and the command each stands for.
#: Scripts spell commands out: aliases differ between versions and hosts (``curl``, ``sc``).
ALIASES: dict[str, str] = {
    "%": "ForEach-Object",
    "?": "Where-Object",
    "ac": "Add-Content",
    "cat": "Get-Content",
    "cd": "Set-Location",
    "chdir": "Set-Location",
    "clc": "Clear-Content",
    "clear": "Clear-Host",
    "cls": "Clear-Host",
    "compare": "Compare-Object",
    "copy": "Copy-Item",
    "cp": "Copy-Item",
    "cpi": "Copy-Item",
    "curl": "Invoke-WebRequest",
    "del": "Remove-Item",
    "diff": "Compare-Object",
    "dir": "Get-ChildItem",
    "echo": "Write-Output",
    "erase": "Remove-Item",
    "fl": "Format-List",
    "foreach": "ForEach-Object",
    "ft": "Format-Table",
    "gc": "Get-Content",
    "gci": "Get-ChildItem",
    "gcim": "Get-CimInstance",
    "gcm": "Get-Command",
    "gi": "Get-Item",
    "gm": "Get-Member",
    "gp": "Get-ItemProperty",
    "gps": "Get-Process",
    "group": "Group-Object",
    "gsv": "Get-Service",
    "gwmi": "Get-WmiObject",
    "iex": "Invoke-Expression",
    "ipmo": "Import-Module",
    "irm": "Invoke-RestMethod",
    "iwr": "Invoke-WebRequest",
    "kill": "Stop-Process",
    "ls": "Get-ChildItem",
    "md": "mkdir",
    "measure": "Measure-Object",
    "mi": "Move-Item",
    "move": "Move-Item",
    "mv": "Move-Item",
    "ni": "New-Item",
    "ps": "Get-Process",
    "pwd": "Get-Location",
    "rd": "Remove-Item",
    "ri": "Remove-Item",
    "rm": "Remove-Item",
    "rmdir": "Remove-Item",
    "sajb": "Start-Job",
    "sasv": "Start-Service",
    "sc": "Set-Content",
    "select": "Select-Object",
    "sleep": "Start-Sleep",
    "sls": "Select-String",
    "sort": "Sort-Object",
    "sp": "Set-ItemProperty",
    "spsv": "Stop-Service",
    "start": "Start-Process",
    "tee": "Tee-Object",
    "type": "Get-Content",
    "wget": "Invoke-WebRequest",
    "where": "Where-Object",
    "write": "Write-Output",
}


def command_problem(name: str | None, local_functions: set[str]) -> str | None:
    """Why a command may not be used, or None when it may (an allowed cmdlet or a local function)."""
    if name is None:
        return "invokes a command through a variable (& $x): the command cannot be checked"
    if name.lower() in local_functions:
        return None
    canonical = {cmdlet.lower(): cmdlet for cmdlet in ALLOWED}.get(name.lower())
    if canonical is not None:
        return None if canonical == name else f"spell {name} as documented: {canonical}"
    if name.lower() in ALIASES:
        return f"{name} is an alias: write {ALIASES[name.lower()]}"
    ps7 = {cmdlet.lower(): (cmdlet, version) for cmdlet, version in POWERSHELL_7_ONLY.items()}.get(
        name.lower()
    )
    if ps7 is not None:
        return f"{ps7[0]} exists only in PowerShell {ps7[1]} and later, not in Windows PowerShell 5.1"
    return (
        f"{name} is not a Windows PowerShell 5.1 cmdlet on the allow-list (tests/powershell/ps_commands.py)"
    )
