<#
.SYNOPSIS
    The agentroll offline kit: check this PC, install the monitoring agent, rename the PC to its
    standard name and write a receipt, on a PC the district's controller cannot reach.

.DESCRIPTION
    Made by `agentroll bundle --unit CODE -o DIR` for one unit and run by Install-Agent.cmd
    (double-click it) from the kit's folder on a USB stick or a share. It reads kit.json beside it:
    the agent (installer file, its SHA-256, product id, service, expected exit codes), the agent's
    requirements, and the table of the unit's PCs by MAC address with each one's standard name.

    1. Finds this PC in the table by the MAC address of one of its network cards.
    2. Reads what the controller's probe reads (OS, build, product type, architecture, RAM, free
       space on the system drive, PowerShell, pending reboot, the agent) and checks the requirements.
    3. If eligible and the agent is missing: checks the installer's SHA-256 and runs it silently.
    4. If the agent is there and this is a workstation: renames the PC to its standard name (it
       takes effect at the next restart).
    5. Writes a receipt (receipts\<host>-<time>.json, format agentroll.receipt/1) that the IT team
       imports with `agentroll receipts import DIR`, then offers to restart.

    It changes nothing on a PC that is not in the table, is below the requirements, or whose
    installer does not match its checksum. Run it again at any time: it does only what is missing.

.PARAMETER NoRestart
    Do not offer to restart at the end (for a person who restarts later).
#>
[CmdletBinding()]
param(
    [switch]$NoRestart
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

$KitFormat = 'agentroll.kit/1'
$ReceiptFormat = 'agentroll.receipt/1'
$UninstallRoots = @(
    'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall',
    'HKLM:\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall'
)

Function Test-Administrator {
    $identity = [Security.Principal.WindowsIdentity]::GetCurrent()
    $principal = [Security.Principal.WindowsPrincipal]::new($identity)
    return $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
}

Function Read-Kit {
    param([Parameter(Mandatory = $true)][string]$Directory)
    $path = Join-Path -Path $Directory -ChildPath 'kit.json'
    if (-not (Test-Path -LiteralPath $path)) {
        throw "kit.json is missing from $Directory: copy the whole kit folder"
    }
    $kit = Get-Content -LiteralPath $path -Raw -Encoding UTF8 | ConvertFrom-Json
    if ($kit.format -ne $KitFormat) {
        throw "kit.json is '$($kit.format)', this script reads '$KitFormat': make the kit again"
    }
    return $kit
}

Function Get-MacAddresses {
    # Every physical network card, plugged in or not: the roster may have noted either one.
    $cards = Get-CimInstance -ClassName Win32_NetworkAdapter -Filter 'PhysicalAdapter = True'
    return @($cards | Where-Object { $_.MACAddress } | ForEach-Object { ([string]$_.MACAddress).Replace(':', '-').ToUpperInvariant() })
}

Function Get-RegistryValue {
    param([string]$Path, [string]$Name)
    $item = Get-ItemProperty -LiteralPath $Path -Name $Name -ErrorAction SilentlyContinue
    if ($null -eq $item) {
        return $null
    }
    return $item.$Name
}

Function Get-ProductType {
    param([object]$Value)
    switch ("$Value") {
        '1' { 'workstation' }
        '2' { 'domain_controller' }
        '3' { 'server' }
        default { 'unknown' }
    }
}

Function Get-Architecture {
    # OSArchitecture is localised; the environment is not.
    $native = $env:PROCESSOR_ARCHITEW6432
    if (-not $native) {
        $native = $env:PROCESSOR_ARCHITECTURE
    }
    switch ($native) {
        'AMD64' { 'x64' }
        'ARM64' { 'arm64' }
        'x86' { 'x86' }
        default { "$native".ToLowerInvariant() }
    }
}

Function Get-PendingReboot {
    $reasons = [System.Collections.Generic.List[string]]@()
    if (Test-Path -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending') {
        $reasons.Add('component based servicing')
    }
    if (Test-Path -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired') {
        $reasons.Add('windows update')
    }
    if (Get-RegistryValue -Path 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager' -Name 'PendingFileRenameOperations') {
        $reasons.Add('pending file rename operations')
    }
    $active = Get-RegistryValue -Path 'HKLM:\SYSTEM\CurrentControlSet\Control\ComputerName\ActiveComputerName' -Name 'ComputerName'
    $pending = Get-RegistryValue -Path 'HKLM:\SYSTEM\CurrentControlSet\Control\ComputerName\ComputerName' -Name 'ComputerName'
    $pendingName = $null
    if ($pending -and $active -and ($pending -ne $active)) {
        $reasons.Add('computer rename')
        $pendingName = [string]$pending
    }
    return @{ reasons = $reasons; pending_name = $pendingName }
}

Function Get-Agent {
    param([Parameter(Mandatory = $true)][object]$Agent)
    $product = $null
    foreach ($root in $UninstallRoots) {
        $key = Join-Path -Path $root -ChildPath $Agent.product_id
        if ($Agent.product_id -and (Test-Path -LiteralPath $key)) {
            $product = Get-ItemProperty -LiteralPath $key
            break
        }
    }
    $service = $null
    if ($Agent.service_name) {
        $service = Get-CimInstance -ClassName Win32_Service -Filter "Name='$($Agent.service_name)'"
    }
    $state = @{
        installed = ($null -ne $product) -or (-not $Agent.product_id -and $null -ne $service)
        product_id = $null
        display_name = $null
        version = $null
        service_name = $Agent.service_name
        service_state = $null
        service_start_mode = $null
    }
    if ($product) {
        $state.product_id = $Agent.product_id
        $state.display_name = $product.DisplayName
        $state.version = $product.DisplayVersion
    }
    if ($service) {
        $state.service_state = ([string]$service.State).ToLowerInvariant()
        $state.service_start_mode = switch ([string]$service.StartMode) {
            'Auto' { 'auto' }
            'Manual' { 'manual' }
            'Disabled' { 'disabled' }
            default { ([string]$service.StartMode).ToLowerInvariant() }
        }
    }
    elseif ($Agent.service_name) {
        $state.service_state = 'missing'
    }
    return $state
}

Function Get-Probe {
    # The fields of the controller's probe (win_agentroll_probe), read the same way.
    param([Parameter(Mandatory = $true)][object]$Agent)
    $os = Get-CimInstance -ClassName Win32_OperatingSystem
    $computer = Get-CimInstance -ClassName Win32_ComputerSystem
    $drive = [string]$os.SystemDrive
    $disk = Get-CimInstance -ClassName Win32_LogicalDisk -Filter "DeviceID='$drive'"
    $reboot = Get-PendingReboot
    return [ordered]@{
        computer_name = [string]$computer.Name
        pending_computer_name = $reboot.pending_name
        os_caption = ([string]$os.Caption).Trim()
        os_build = [int]$os.BuildNumber
        product_type = Get-ProductType -Value $os.ProductType
        architecture = Get-Architecture
        ram_mb = [int64][Math]::Floor([double]$computer.TotalPhysicalMemory / 1MB)
        system_drive = $drive
        system_size_mb = [int64][Math]::Floor([double]$disk.Size / 1MB)
        system_free_mb = [int64][Math]::Floor([double]$disk.FreeSpace / 1MB)
        powershell_version = $PSVersionTable.PSVersion.ToString()
        reboot_pending = ($reboot.reasons.Count -gt 0)
        reboot_pending_reasons = @($reboot.reasons)
        agent = Get-Agent -Agent $Agent
    }
}

Function Get-Shortfalls {
    # The agent's requirements, as kit.json carries them; the OS family by product type and build.
    param([Parameter(Mandatory = $true)][object]$Kit, [Parameter(Mandatory = $true)][object]$Probe)
    $shortfalls = [System.Collections.Generic.List[string]]@()
    $requirements = $Kit.requirements
    $server = ($Probe.product_type -eq 'server') -or ($Probe.product_type -eq 'domain_controller') -or
        ($Probe.product_type -eq 'unknown' -and $Probe.os_caption -match 'server')
    $kind = if ($server) { 'server' } else { 'workstation' }
    $family = $Kit.os_families |
        Where-Object { $_.product_type -eq $kind -and $_.first_build -le $Probe.os_build } |
        Sort-Object -Property first_build -Descending |
        Select-Object -First 1
    $minimum = $null
    if ($family) {
        $supported = $requirements.os.PSObject.Properties[$family.family]
        if ($supported) {
            $minimum = $supported.Value
        }
    }
    if ($null -eq $minimum) {
        $shortfalls.Add("OS $($Probe.os_caption) (build $($Probe.os_build)) not supported")
    }
    elseif ($Probe.os_build -lt $minimum) {
        $shortfalls.Add("OS $($family.name) build $($Probe.os_build) < $minimum")
    }
    if (@($requirements.architectures) -notcontains $Probe.architecture) {
        $shortfalls.Add("architecture $($Probe.architecture) not in $(@($requirements.architectures) -join ', ')")
    }
    if ($Probe.ram_mb -lt $requirements.min_ram_mb) {
        $shortfalls.Add("RAM $($Probe.ram_mb) MB < $($requirements.min_ram_mb) MB")
    }
    if ($Probe.system_free_mb -lt $requirements.min_system_free_mb) {
        $shortfalls.Add("free space on $($Probe.system_drive) $($Probe.system_free_mb) MB < $($requirements.min_system_free_mb) MB")
    }
    if ([version]$Probe.powershell_version -lt [version]$requirements.min_powershell) {
        $shortfalls.Add("PowerShell $($Probe.powershell_version) < $($requirements.min_powershell)")
    }
    return @($shortfalls)
}

Function Install-Agent {
    # Returns @{ result; exit_code }: installed, failed or checksum_mismatch.
    param([Parameter(Mandatory = $true)][object]$Kit, [Parameter(Mandatory = $true)][string]$Directory)
    $installer = Join-Path -Path $Directory -ChildPath $Kit.agent.installer
    $actual = (Get-FileHash -LiteralPath $installer -Algorithm SHA256).Hash
    if ($actual -ne ([string]$Kit.agent.sha256).ToUpperInvariant()) {
        Write-Warning "the installer's SHA-256 is $actual, the kit expects $($Kit.agent.sha256): nothing installed"
        return @{ result = 'checksum_mismatch'; exit_code = $null }
    }
    $arguments = [string]$Kit.agent.install_arguments
    if ($installer.ToLowerInvariant().EndsWith('.msi')) {
        $process = Start-Process -FilePath 'msiexec.exe' -ArgumentList "/i `"$installer`" /qn /norestart $arguments" -Wait -PassThru
    }
    else {
        $process = Start-Process -FilePath $installer -ArgumentList $arguments -Wait -PassThru
    }
    $code = [int]$process.ExitCode
    if (@($Kit.agent.expected_return_codes) -contains $code) {
        return @{ result = 'installed'; exit_code = $code }
    }
    return @{ result = 'failed'; exit_code = $code }
}

Function Write-Receipt {
    param(
        [Parameter(Mandatory = $true)][string]$Directory,
        [Parameter(Mandatory = $true)][System.Collections.IDictionary]$Receipt
    )
    $folder = Join-Path -Path $Directory -ChildPath 'receipts'
    if (-not (Test-Path -LiteralPath $folder)) {
        New-Item -Path $folder -ItemType Directory | Out-Null
    }
    $stamp = (Get-Date).ToUniversalTime().ToString('yyyyMMddTHHmmssZ')
    $path = Join-Path -Path $folder -ChildPath "$($Receipt.host)-$stamp.json"
    $Receipt | ConvertTo-Json -Depth 6 | Set-Content -LiteralPath $path -Encoding UTF8
    return $path
}

$directory = $PSScriptRoot
if (-not (Test-Administrator)) {
    Write-Host 'Installing needs an administrator: starting again as one (answer Yes to Windows).'
    Start-Process -FilePath 'powershell.exe' -Verb RunAs -ArgumentList "-NoProfile -ExecutionPolicy Bypass -File `"$PSCommandPath`""
    return
}

$kit = Read-Kit -Directory $directory
$macs = @(Get-MacAddresses)
$entry = @($kit.pcs | Where-Object { $macs -contains $_.mac }) | Select-Object -First 1
if (-not $entry) {
    Write-Warning "this PC ($($macs -join ', ')) is not in the kit of unit $($kit.unit.code): nothing was changed; tell the IT team its MAC address"
    return
}
Write-Host "This PC is $($entry.host) of $($kit.unit.name); its standard name is $($entry.standard_name)."

$before = Get-Probe -Agent $kit.agent
$shortfalls = @(Get-Shortfalls -Kit $kit -Probe $before)
$install = @{ result = 'already_installed'; exit_code = $null }
if ($shortfalls.Count -gt 0) {
    $install = @{ result = 'not_eligible'; exit_code = $null }
    Write-Warning "this PC cannot take the agent: $($shortfalls -join '; ')"
}
elseif (-not $before.agent.installed) {
    Write-Host "Installing $($kit.agent.display_name)..."
    $install = Install-Agent -Kit $kit -Directory $directory
}

$rename = @{ result = 'not_needed'; from = $before.computer_name; to = $entry.standard_name }
$agentNow = Get-Agent -Agent $kit.agent
$target = if ($before.pending_computer_name) { $before.pending_computer_name } else { $before.computer_name }
if ($target -ne $entry.standard_name) {
    if (-not $agentNow.installed -or $before.product_type -ne 'workstation') {
        # Only PCs that run the agent, and only workstations, are renamed (the toolkit's rename scope).
        $rename.result = 'skipped'
    }
    else {
        try {
            Rename-Computer -NewName $entry.standard_name -Force -WarningAction SilentlyContinue
            $rename.result = 'renamed'
        }
        catch {
            $rename.result = 'failed'
            Write-Warning "the rename to $($entry.standard_name) failed: $($_.Exception.Message)"
        }
    }
}

$after = Get-Probe -Agent $kit.agent
$receipt = [ordered]@{
    format = $ReceiptFormat
    receipt_id = [guid]::NewGuid().ToString()
    written_at = (Get-Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ')
    kit = [ordered]@{ unit = $kit.unit.code; created_at = $kit.created_at }
    mac = $entry.mac
    macs = @($macs)
    host = $entry.host
    standard_name = $entry.standard_name
    computer_name_before = $before.computer_name
    eligible = ($shortfalls.Count -eq 0)
    shortfalls = @($shortfalls)
    install = $install
    rename = $rename
    probe = $after
}
$written = Write-Receipt -Directory $directory -Receipt $receipt
Write-Host "Receipt written: $written. Give the kit back to the IT team."

if ($after.reboot_pending -and -not $NoRestart) {
    $answer = Read-Host 'A restart finishes the installation and the rename. Restart now? (Y/N)'
    if ($answer -match '^[YyCc]') {
        Restart-Computer -Force
    }
}
