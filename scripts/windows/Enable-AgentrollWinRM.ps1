#Requires -Version 5.1
#Requires -RunAsAdministrator

# Copyright: (c) 2026, agentroll maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

<#
.SYNOPSIS
Makes this PC manageable by agentroll over WinRM, the safe way.

.DESCRIPTION
Run it once as administrator, or push it as a computer start-up script by Group Policy
(docs/onboarding.en.md). It:
  - sets the WinRM service to start automatically and starts it;
  - creates the listener: HTTPS on port 5986 with a certificate (the one named by
    -CertificateThumbprint, else a valid certificate this computer already has for its name, else
    a new self-signed one), or, with -Transport Http, HTTP on 5985, where NTLM and Kerberos
    encrypt every message;
  - turns Basic authentication off, keeps Negotiate on and AllowUnencrypted off, so that neither
    a password nor a message ever crosses the network in clear;
  - allows the listener's port only from the controller's addresses (a firewall rule of its own,
    every network profile) and disables Windows' built-in "Windows Remote Management (HTTP-In)"
    rules, which allow any address;
  - with -LocalAccount, sets LocalAccountTokenFilterPolicy to 1 so that a local administrator
    account keeps its rights over the network; without it that policy is left as it is.
Each setting is read first and changed only when it differs, so a second run changes nothing. The
script returns one line per setting (what it was, what is wanted, and changed / unchanged), writes
the same to its log, and with -WhatIf changes nothing and says what it would change.

.PARAMETER ControllerAddress
The address(es) agentroll connects from: IP addresses, subnets (10.0.5.0/24) or ranges
(10.0.5.20-10.0.5.25). Nothing else may reach the WinRM port.

.PARAMETER Transport
Https (default): a listener on 5986 with a certificate. Http: a listener on 5985 for NTLM or
Kerberos with message encryption.

.PARAMETER CertificateThumbprint
The certificate of the HTTPS listener, from the computer's personal store (Cert:\LocalMachine\My).

.PARAMETER LocalAccount
agentroll logs on with a local account of this PC (workgroup PCs): allow its administrator rights
over the network (LocalAccountTokenFilterPolicy = 1).

.PARAMETER LogPath
Where each run appends what it found and changed; default
%ProgramData%\agentroll\enable-winrm.log. Nothing is written with -WhatIf.

.EXAMPLE
.\Enable-AgentrollWinRM.ps1 -ControllerAddress 10.0.5.20 -WhatIf

.EXAMPLE
.\Enable-AgentrollWinRM.ps1 -ControllerAddress 10.0.5.20 -Transport Http -LocalAccount
#>
[CmdletBinding(SupportsShouldProcess = $true)]
param(
    [Parameter(Mandatory = $true)]
    [ValidateNotNullOrEmpty()]
    [string[]]$ControllerAddress,

    [ValidateSet('Https', 'Http')]
    [string]$Transport = 'Https',

    [ValidatePattern('^[0-9A-Fa-f]{40}$')]
    [string]$CertificateThumbprint,

    [switch]$LocalAccount,

    [string]$LogPath = (Join-Path -Path $env:ProgramData -ChildPath 'agentroll\enable-winrm.log')
)

$ErrorActionPreference = 'Stop'

$serverAuthentication = '1.3.6.1.5.5.7.3.1'
$listenerPort = @{ Https = 5986; Http = 5985 }[$Transport]
$firewallRuleName = "agentroll-WinRM-$Transport-In"
$results = [System.Collections.Generic.List[object]]@()

Function Add-Result {
    param([string]$Setting, [string]$Was, [string]$Wanted, [string]$Result)
    $results.Add([PSCustomObject]@{ Setting = $Setting; Was = $Was; Wanted = $Wanted; Result = $Result })
}

Function Set-Setting {
    <#
    .SYNOPSIS
    Runs $Change when the setting is not what is wanted (unless -WhatIf), and records the outcome.
    #>
    # Its own ShouldProcess, so that the script's -WhatIf and -Confirm reach it.
    [CmdletBinding(SupportsShouldProcess = $true)]
    param(
        [Parameter(Mandatory = $true)][string]$Setting,
        [AllowEmptyString()][string]$Current,
        [Parameter(Mandatory = $true)][string]$Wanted,
        [Parameter(Mandatory = $true)][scriptblock]$Change
    )
    if ($Current -eq $Wanted) {
        Add-Result -Setting $Setting -Was $Current -Wanted $Wanted -Result 'unchanged'
    }
    elseif ($PSCmdlet.ShouldProcess($Setting, "set to '$Wanted' (it is '$Current')")) {
        $null = $Change.Invoke()
        Add-Result -Setting $Setting -Was $Current -Wanted $Wanted -Result 'changed'
    }
    else {
        Add-Result -Setting $Setting -Was $Current -Wanted $Wanted -Result 'would change'
    }
}

Function ConvertTo-FirewallAddress {
    <#
    .SYNOPSIS
    The controller address as Windows Firewall writes it back (an IPv4 prefix as a mask, /32 as
    the bare address), so that a second run compares like with like; anything that is not an
    address, a subnet or a range is refused: the rule must name the controller.
    #>
    param([Parameter(Mandatory = $true)][string]$Address)
    $text = $Address.Trim()
    $ip = $null
    if ([System.Net.IPAddress]::TryParse($text, [ref]$ip)) {
        return $ip.ToString()
    }
    $range = $text.Split('-')
    if ($range.Count -eq 2 -and [System.Net.IPAddress]::TryParse($range[0], [ref]$ip) -and
        [System.Net.IPAddress]::TryParse($range[1], [ref]$ip)) {
        return $text
    }
    $subnet = $text.Split('/')
    $prefix = 0
    if ($subnet.Count -eq 2 -and [System.Net.IPAddress]::TryParse($subnet[0], [ref]$ip) -and
        [int]::TryParse($subnet[1], [ref]$prefix)) {
        if ($ip.AddressFamily -eq [System.Net.Sockets.AddressFamily]::InterNetworkV6 -and $prefix -ge 1 -and $prefix -le 128) {
            return $text
        }
        if ($prefix -eq 32) {
            return $ip.ToString()
        }
        if ($prefix -ge 1 -and $prefix -lt 32) {
            $bits = [uint32]([Math]::Pow(2, 32) - [Math]::Pow(2, 32 - $prefix))
            $mask = [System.Net.IPAddress]::new([byte[]]@(($bits -shr 24) -band 255, ($bits -shr 16) -band 255, ($bits -shr 8) -band 255, $bits -band 255))
            return "$($ip.ToString())/$($mask.ToString())"
        }
    }
    throw "ControllerAddress '$Address' is not an IP address, a subnet (10.0.5.0/24) or a range (10.0.5.20-10.0.5.25): the firewall rule must name the controller"
}

Function Select-ListenerCertificate {
    <#
    .SYNOPSIS
    The certificate for the HTTPS listener: the one asked for, else one this computer has for its
    name (from the domain's certificate authority first), else $null (a self-signed one is due).
    #>
    param([string[]]$Names, [string]$CurrentThumbprint)
    $now = Get-Date
    $usable = @(Get-ChildItem -Path Cert:\LocalMachine\My | Where-Object {
            $_.HasPrivateKey -and $_.NotBefore -lt $now -and $_.NotAfter -gt $now.AddDays(30) -and
            ($_.EnhancedKeyUsageList.ObjectId -contains $serverAuthentication)
        })
    if ($CertificateThumbprint) {
        $asked = $usable | Where-Object { $_.Thumbprint -eq $CertificateThumbprint }
        if (-not $asked) {
            throw "certificate $CertificateThumbprint is not in Cert:\LocalMachine\My with its private key, for server authentication and valid for 30 days more"
        }
        return $asked
    }
    $forThisPc = @($usable | Where-Object { @($_.DnsNameList.Unicode | Where-Object { $Names -contains $_ }).Count -gt 0 })
    $current = $forThisPc | Where-Object { $_.Thumbprint -eq $CurrentThumbprint }
    if ($current) {
        return $current
    }
    $issued = @($forThisPc | Where-Object { $_.Issuer -ne $_.Subject } | Sort-Object -Property NotAfter -Descending)
    if ($issued.Count -gt 0) {
        return $issued[0]
    }
    $selfSigned = @($forThisPc | Sort-Object -Property NotAfter -Descending)
    if ($selfSigned.Count -gt 0) {
        return $selfSigned[0]
    }
    return $null
}

# --- the WinRM service -------------------------------------------------------------------------

$startMode = (Get-CimInstance -ClassName Win32_Service -Filter "Name='WinRM'").StartMode
Set-Setting -Setting 'WinRM service start mode' -Current $startMode -Wanted 'Auto' -Change {
    Set-Service -Name WinRM -StartupType Automatic
}
Set-Setting -Setting 'WinRM service state' -Current (Get-Service -Name WinRM).Status -Wanted 'Running' -Change {
    Start-Service -Name WinRM
}

if ((Get-Service -Name WinRM).Status -eq 'Running') {
    # --- authentication and encryption ---------------------------------------------------------

    $auth = Get-WSManInstance -ResourceURI winrm/config/service/auth
    Set-Setting -Setting 'WinRM Basic authentication' -Current $auth.Basic -Wanted 'false' -Change {
        Set-WSManInstance -ResourceURI winrm/config/service/auth -ValueSet @{ Basic = 'false' }
    }
    Set-Setting -Setting 'WinRM Negotiate (NTLM) authentication' -Current $auth.Negotiate -Wanted 'true' -Change {
        Set-WSManInstance -ResourceURI winrm/config/service/auth -ValueSet @{ Negotiate = 'true' }
    }
    $service = Get-WSManInstance -ResourceURI winrm/config/service
    Set-Setting -Setting 'WinRM AllowUnencrypted' -Current $service.AllowUnencrypted -Wanted 'false' -Change {
        Set-WSManInstance -ResourceURI winrm/config/service -ValueSet @{ AllowUnencrypted = 'false' }
    }

    # --- the listener --------------------------------------------------------------------------

    $selector = @{ Address = '*'; Transport = $Transport.ToUpperInvariant() }
    $listener = @(Get-WSManInstance -ResourceURI winrm/config/Listener -Enumerate) |
        Where-Object { $_.Transport -eq $selector.Transport -and $_.Address -eq '*' } |
        Select-Object -First 1
    if ($Transport -eq 'Https') {
        $names = @($env:COMPUTERNAME)
        $domain = [System.Net.NetworkInformation.IPGlobalProperties]::GetIPGlobalProperties().DomainName
        if ($domain) {
            $names += "$env:COMPUTERNAME.$domain"
        }
        $currentThumbprint = if ($listener) { [string]$listener.CertificateThumbprint } else { 'none' }
        $certificate = Select-ListenerCertificate -Names $names -CurrentThumbprint $currentThumbprint
        if (-not $certificate) {
            if ($PSCmdlet.ShouldProcess("Cert:\LocalMachine\My", "create a self-signed certificate for $($names -join ', ')")) {
                $certificate = New-SelfSignedCertificate -DnsName $names -CertStoreLocation Cert:\LocalMachine\My
                Add-Result -Setting 'HTTPS certificate' -Was 'none' -Wanted "self-signed $($certificate.Thumbprint)" -Result 'changed'
            }
            else {
                Add-Result -Setting 'HTTPS certificate' -Was 'none' -Wanted "self-signed for $($names -join ', ')" -Result 'would change'
            }
        }
        $thumbprint = if ($certificate) { $certificate.Thumbprint } else { '' }
        if (-not $certificate) {
            Add-Result -Setting 'WinRM HTTPS listener on 5986' -Was $currentThumbprint `
                -Wanted 'the new self-signed certificate' -Result 'would change'
        }
        elseif ($listener) {
            Set-Setting -Setting 'WinRM HTTPS listener certificate' -Current $currentThumbprint -Wanted $thumbprint -Change {
                Set-WSManInstance -ResourceURI winrm/config/Listener -SelectorSet $selector -ValueSet @{ CertificateThumbprint = $thumbprint }
            }
        }
        else {
            Set-Setting -Setting 'WinRM HTTPS listener on 5986' -Current 'none' -Wanted "certificate $thumbprint" -Change {
                New-WSManInstance -ResourceURI winrm/config/Listener -SelectorSet $selector -ValueSet @{
                    Hostname = $env:COMPUTERNAME
                    CertificateThumbprint = $thumbprint
                }
            }
        }
    }
    else {
        $currentListener = if ($listener) { 'present' } else { 'none' }
        Set-Setting -Setting 'WinRM HTTP listener on 5985' -Current $currentListener -Wanted 'present' -Change {
            New-WSManInstance -ResourceURI winrm/config/Listener -SelectorSet $selector
        }
    }
}
else {
    Add-Result -Setting 'WinRM authentication, encryption and listener' -Was 'not readable while WinRM is stopped' `
        -Wanted 'checked once WinRM runs' -Result 'would change'
}

# --- the firewall ------------------------------------------------------------------------------

$wantedAddresses = @($ControllerAddress | ForEach-Object { ConvertTo-FirewallAddress -Address $_ } | Sort-Object -Unique)
$rule = Get-NetFirewallRule -Name $firewallRuleName -ErrorAction SilentlyContinue
if ($rule) {
    $currentAddresses = @(($rule | Get-NetFirewallAddressFilter).RemoteAddress | Sort-Object -Unique)
    Set-Setting -Setting "firewall rule $firewallRuleName remote addresses" -Current ($currentAddresses -join ', ') `
        -Wanted ($wantedAddresses -join ', ') -Change {
        Set-NetFirewallRule -Name $firewallRuleName -RemoteAddress $wantedAddresses
    }
    $ports = $rule | Get-NetFirewallPortFilter
    Set-Setting -Setting "firewall rule $firewallRuleName port" -Current "$($ports.Protocol) $($ports.LocalPort)" `
        -Wanted "TCP $listenerPort" -Change {
        Set-NetFirewallRule -Name $firewallRuleName -Protocol TCP -LocalPort $listenerPort
    }
    Set-Setting -Setting "firewall rule $firewallRuleName" -Current "$($rule.Enabled) $($rule.Action) $($rule.Profile)" `
        -Wanted 'True Allow Any' -Change {
        Set-NetFirewallRule -Name $firewallRuleName -Enabled True -Action Allow -Profile Any
    }
}
else {
    Set-Setting -Setting "firewall rule $firewallRuleName" -Current 'none' `
        -Wanted "allow TCP $listenerPort from $($wantedAddresses -join ', ')" -Change {
        New-NetFirewallRule -Name $firewallRuleName -DisplayName "agentroll: WinRM over $Transport from the controller" `
            -Direction Inbound -Protocol TCP -LocalPort $listenerPort -RemoteAddress $wantedAddresses `
            -Action Allow -Profile Any -Enabled True
    }
}
# By name, which is not translated (the display names are); -like, for WINRM-HTTP-In-TCP-PUBLIC too.
$builtinRules = @(Get-NetFirewallRule | Where-Object { $_.Name -like 'WINRM-HTTP-In-TCP*' })
foreach ($builtin in $builtinRules) {
    Set-Setting -Setting "built-in firewall rule $($builtin.Name)" -Current "enabled $($builtin.Enabled)" `
        -Wanted 'enabled False' -Change {
        Disable-NetFirewallRule -Name $builtin.Name
    }
}

# --- the local-account token policy ------------------------------------------------------------

$policyKey = 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System'
$tokenPolicy = (Get-ItemProperty -LiteralPath $policyKey -Name LocalAccountTokenFilterPolicy -ErrorAction SilentlyContinue).LocalAccountTokenFilterPolicy
$tokenPolicyText = if ($null -eq $tokenPolicy) { 'not set' } else { [string]$tokenPolicy }
if ($LocalAccount) {
    Set-Setting -Setting 'LocalAccountTokenFilterPolicy' -Current $tokenPolicyText -Wanted '1' -Change {
        New-ItemProperty -Path $policyKey -Name LocalAccountTokenFilterPolicy -PropertyType DWord -Value 1 -Force
    }
}
else {
    Add-Result -Setting 'LocalAccountTokenFilterPolicy' -Was $tokenPolicyText -Wanted 'left as it is (no -LocalAccount)' -Result 'unchanged'
}

# --- what was done -----------------------------------------------------------------------------

if (-not $WhatIfPreference) {
    $logFolder = Split-Path -Path $LogPath -Parent
    if (-not (Test-Path -LiteralPath $logFolder)) {
        $null = New-Item -Path $logFolder -ItemType Directory
    }
    $stamp = Get-Date -Format 'yyyy-MM-ddTHH:mm:sszzz'
    $lines = @($results | ForEach-Object { "$stamp`t$($_.Result)`t$($_.Setting)`t$($_.Was) -> $($_.Wanted)" })
    Add-Content -LiteralPath $LogPath -Value $lines -Encoding UTF8
}
$results
