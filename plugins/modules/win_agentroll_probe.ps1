#!powershell

# Copyright: (c) 2026, agentroll maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic

# One read-only invocation that gathers everything preflight, deploy, rename and verify need:
# identity (computer name, pending rename), OS, hardware, system drive, PowerShell, pending reboot
# and the agent (uninstall registry entry + service). It never changes anything, so it supports
# check mode trivially and always returns changed=false.
#
# Only the operating system query is essential. Any other query that fails leaves its fields null
# and adds a warning naming the query, the error and what is unknown because of it: a null is
# reported as unknown, never guessed (docs/architecture.md, "The probe module").

$spec = @{
    options = @{
        agent_product_id = @{ type = 'str' }
        agent_service_name = @{ type = 'str' }
        agent_display_name = @{ type = 'str' }
        agent_server = @{ type = 'str' }
        agent_server_timeout_ms = @{ type = 'int'; default = 2000 }
        agent_last_contact_key = @{ type = 'str' }
        agent_last_contact_value = @{ type = 'str' }
        agent_last_contact_file = @{ type = 'str' }
    }
    supports_check_mode = $true
}

$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)
$productId = $module.Params.agent_product_id
$serviceName = $module.Params.agent_service_name
$displayName = $module.Params.agent_display_name
$server = $module.Params.agent_server
$serverTimeoutMs = $module.Params.agent_server_timeout_ms
$lastContactKey = $module.Params.agent_last_contact_key
$lastContactValue = $module.Params.agent_last_contact_value
$lastContactFile = $module.Params.agent_last_contact_file
$module.Result.changed = $false

Function Get-CimOrWarn {
    <#
    .SYNOPSIS
    The first instance one CIM query returns; on failure a warning that says what is unknown because
    of it, which query failed and why, and failed = $true.
    #>
    param(
        [Parameter(Mandatory = $true)][string]$ClassName,
        [string]$Filter,
        [Parameter(Mandatory = $true)][string[]]$Property,
        [Parameter(Mandatory = $true)][string]$Consequence
    )
    $query = @{ ClassName = $ClassName; Property = $Property; ErrorAction = 'Stop' }
    $what = "the $ClassName query"
    if ($Filter) {
        $query.Filter = $Filter
        $what = "the $ClassName query ($Filter)"
    }
    try {
        $instance = Get-CimInstance @query | Select-Object -First 1
        return @{ failed = $false; instance = $instance }
    }
    catch {
        $module.Warn("$($Consequence): $what failed ($($_.Exception.Message.Trim()))")
        return @{ failed = $true; instance = $null }
    }
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
        default {
            $module.Warn("the product type is unknown: Win32_OperatingSystem gave ProductType '$Value'")
            'unknown'
        }
    }
}

Function Get-Architecture {
    # OSArchitecture is localised ("64-bit", "64 bits", "ARM 64-bit Processor"): ask the
    # environment first, it is not.
    $native = $env:PROCESSOR_ARCHITEW6432
    if (-not $native) {
        $native = $env:PROCESSOR_ARCHITECTURE
    }
    if (-not $native) {
        $module.Warn('the architecture is unknown: PROCESSOR_ARCHITECTURE is not set')
        return $null
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
    $renames = Get-RegistryValue -Path 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager' -Name 'PendingFileRenameOperations'
    if ($renames) {
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

Function Find-Product {
    # Throws when an uninstall key cannot be read: "not found" must mean not installed.
    param([string]$ProductId, [string]$DisplayName)
    $roots = @(
        'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall',
        'HKLM:\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall'
    )
    foreach ($root in $roots) {
        if (-not (Test-Path -LiteralPath $root)) {
            continue
        }
        if ($ProductId) {
            $key = Join-Path -Path $root -ChildPath $ProductId
            if (Test-Path -LiteralPath $key) {
                $entry = Get-ItemProperty -LiteralPath $key -ErrorAction Stop
                return @{ product_id = $ProductId; display_name = $entry.DisplayName; version = $entry.DisplayVersion }
            }
        }
        if ($DisplayName) {
            foreach ($key in (Get-ChildItem -LiteralPath $root -ErrorAction Stop)) {
                $entry = Get-ItemProperty -LiteralPath $key.PSPath -ErrorAction Stop
                if ($entry.DisplayName -and ($entry.DisplayName -eq $DisplayName)) {
                    return @{ product_id = $key.PSChildName; display_name = $entry.DisplayName; version = $entry.DisplayVersion }
                }
            }
        }
    }
    return $null
}

Function Get-StartMode {
    param([string]$Value)
    switch ($Value) {
        'Auto' { 'auto' }
        'Automatic' { 'auto' }
        'Manual' { 'manual' }
        'Disabled' { 'disabled' }
        default { "$Value".ToLowerInvariant() }
    }
}

Function Test-ServerConnection {
    <#
    .SYNOPSIS
    Whether this PC opens a TCP connection to the management server host:port within the timeout:
    @{ reachable; error }, reachable $null when the address is not host:port.
    #>
    param([string]$Server, [int]$TimeoutMs)
    $parts = [regex]::Match($Server, '^\[?(?<host>[^\[\]]+?)\]?:(?<port>\d{1,5})$')
    if (-not $parts.Success -or [int]$parts.Groups['port'].Value -gt 65535) {
        $module.Warn("the management server is not checked: '$Server' is not host:port")
        return @{ reachable = $null; error = "'$Server' is not host:port" }
    }
    $client = [System.Net.Sockets.TcpClient]::new()
    try {
        $attempt = $client.BeginConnect($parts.Groups['host'].Value, [int]$parts.Groups['port'].Value, $null, $null)
        if (-not $attempt.AsyncWaitHandle.WaitOne($TimeoutMs)) {
            return @{ reachable = $false; error = "no answer within $TimeoutMs ms" }
        }
        $client.EndConnect($attempt)
        return @{ reachable = $true; error = $null }
    }
    catch {
        $cause = $_.Exception
        while ($cause.InnerException) {
            $cause = $cause.InnerException
        }
        return @{ reachable = $false; error = $cause.Message.Trim() }
    }
    finally {
        $client.Close()
    }
}

Function ConvertTo-IsoUtc {
    # A registry value as a UTC time: a date text (ISO 8601 or the invariant culture's), Unix seconds,
    # or a FILETIME; $null (with a warning) when it is none of these.
    param([object]$Value, [string]$Where)
    $number = [long]0
    if ([long]::TryParse("$Value", [ref]$number)) {
        if ($number -lt 100000000000) {
            $moment = [DateTimeOffset]::FromUnixTimeSeconds($number).UtcDateTime
        }
        else {
            $moment = [DateTime]::FromFileTimeUtc($number)
        }
        return $moment.ToString('yyyy-MM-ddTHH:mm:ssZ')
    }
    $parsed = [DateTime]::MinValue
    $styles = [Globalization.DateTimeStyles]::AssumeUniversal -bor [Globalization.DateTimeStyles]::AdjustToUniversal
    if ([DateTime]::TryParse("$Value", [Globalization.CultureInfo]::InvariantCulture, $styles, [ref]$parsed)) {
        return $parsed.ToString('yyyy-MM-ddTHH:mm:ssZ')
    }
    $module.Warn("the agent's last contact is unknown: $Where holds '$Value', not a date")
    return $null
}

Function Get-AgentCheckIn {
    # From this PC: can the agent reach its management server, and when did it last reach it (where
    # the agent profile says the agent keeps that: a registry value or a file it rewrites).
    $checkin = @{ server = $null; reachable = $null; error = $null; last_contact = $null }
    if ($server) {
        $checkin.server = $server
        $test = Test-ServerConnection -Server $server -TimeoutMs $serverTimeoutMs
        $checkin.reachable = $test.reachable
        $checkin.error = $test.error
    }
    if ($lastContactKey -and $lastContactValue) {
        $value = Get-RegistryValue -Path $lastContactKey -Name $lastContactValue
        if ($null -ne $value) {
            $checkin.last_contact = ConvertTo-IsoUtc -Value $value -Where "$lastContactKey\$lastContactValue"
        }
    }
    elseif ($lastContactFile -and [System.IO.File]::Exists($lastContactFile)) {
        $checkin.last_contact = [System.IO.File]::GetLastWriteTimeUtc($lastContactFile).ToString('yyyy-MM-ddTHH:mm:ssZ')
    }
    return $checkin
}

try {
    $os = Get-CimInstance -ClassName Win32_OperatingSystem -Property Caption, BuildNumber, ProductType, TotalVisibleMemorySize, SystemDrive -ErrorAction Stop
}
catch {
    $module.FailJson("Failed to query WMI/CIM for the operating system: $($_.Exception.Message)", $_)
}
$computer = (Get-CimOrWarn -ClassName Win32_ComputerSystem -Property Name, TotalPhysicalMemory `
        -Consequence 'the computer name is read from the environment and RAM from Win32_OperatingSystem').instance

$systemDrive = if ($os.SystemDrive) { [string]$os.SystemDrive } else { $env:SystemDrive }
$disk = Get-CimOrWarn -ClassName Win32_LogicalDisk -Filter "DeviceID='$systemDrive'" -Property Size, FreeSpace `
    -Consequence "the size and free space of $systemDrive are unknown"
if (-not $disk.failed -and $null -eq $disk.instance) {
    $module.Warn("the size and free space of $systemDrive are unknown: Win32_LogicalDisk has no drive $systemDrive")
}

$ramMb = $null
if ($computer.TotalPhysicalMemory) {
    $ramMb = [int64][Math]::Floor([double]$computer.TotalPhysicalMemory / 1MB)
}
elseif ($os.TotalVisibleMemorySize) {
    $ramMb = [int64][Math]::Floor([double]$os.TotalVisibleMemorySize / 1KB)
}
else {
    $module.Warn('RAM is unknown: neither Win32_ComputerSystem nor Win32_OperatingSystem gave the memory size')
}

$reboot = Get-PendingReboot

$module.Result.computer_name = [string]$env:COMPUTERNAME
if ($computer.Name) {
    $module.Result.computer_name = [string]$computer.Name
}
$module.Result.pending_computer_name = $reboot.pending_name
$module.Result.os_caption = ([string]$os.Caption).Trim()
$module.Result.os_build = [int]$os.BuildNumber
$module.Result.product_type = Get-ProductType -Value $os.ProductType
$module.Result.architecture = Get-Architecture
$module.Result.ram_mb = $ramMb
$module.Result.system_drive = $systemDrive
$module.Result.system_size_mb = $null
$module.Result.system_free_mb = $null
if ($disk.instance) {
    $module.Result.system_size_mb = [int64][Math]::Floor([double]$disk.instance.Size / 1MB)
    $module.Result.system_free_mb = [int64][Math]::Floor([double]$disk.instance.FreeSpace / 1MB)
}
$module.Result.powershell_version = $PSVersionTable.PSVersion.ToString()
$module.Result.reboot_pending = ($reboot.reasons.Count -gt 0)
$module.Result.reboot_pending_reasons = @($reboot.reasons)

$product = $null
$productKnown = $true
if ($productId -or $displayName) {
    try {
        $product = Find-Product -ProductId $productId -DisplayName $displayName
    }
    catch {
        $productKnown = $false
        $module.Warn("whether the agent is installed is unknown: the uninstall registry keys could not be read ($($_.Exception.Message.Trim()))")
    }
}
$service = $null
$serviceKnown = $true
if ($serviceName) {
    # WQL escapes a quote with a backslash.
    $escapedName = $serviceName.Replace('\', '\\').Replace("'", "\'")
    $serviceQuery = Get-CimOrWarn -ClassName Win32_Service -Filter "Name='$escapedName'" -Property Name, State, StartMode `
        -Consequence 'the state and start mode of the agent service are unknown'
    $service = $serviceQuery.instance
    $serviceKnown = -not $serviceQuery.failed
}

# Without a product id or display name, the service alone says whether the agent is installed.
$installed = $null
if ($productId -or $displayName) {
    if ($productKnown) {
        $installed = $null -ne $product
    }
}
elseif ($serviceKnown) {
    $installed = $null -ne $service
}
$agent = @{
    installed = $installed
    product_id = $null
    display_name = $null
    version = $null
    service_name = $serviceName
    service_state = $null
    service_start_mode = $null
}
if ($product) {
    $agent.product_id = $product.product_id
    $agent.display_name = $product.display_name
    $agent.version = $product.version
}
if ($service) {
    $agent.service_name = [string]$service.Name
    if ($service.State -eq 'Running') {
        $agent.service_state = 'running'
    }
    else {
        $agent.service_state = 'stopped'
    }
    $agent.service_start_mode = Get-StartMode -Value $service.StartMode
}
elseif ($serviceName -and $serviceKnown) {
    $agent.service_state = 'missing'
}
$module.Result.agent = $agent
$module.Result.checkin = $null
if ($server -or $lastContactFile -or ($lastContactKey -and $lastContactValue)) {
    $module.Result.checkin = Get-AgentCheckIn
}

$module.ExitJson()
