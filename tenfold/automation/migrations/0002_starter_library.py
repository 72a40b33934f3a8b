"""The starter library: useful scripts written for Tenfold, shipped unsigned (awaiting signature).

The MSP reviews and signs them with its own key (`tenfold sign`); nothing runs before that. The content
lives in this migration; scripts whose identifier is already present are left alone. The signed document
is built here with a frozen copy of the canonical form (`tenfold.automation.signing.script_document`).
"""

import hashlib
import json

from django.db import migrations

STARTER = [
    {
        "slug": 'clear-temp-files-shell', "name": 'Clear temporary files (Linux, macOS)', "category": 'maintenance',
        "language": 'shell', "os_families": ['linux', 'macos'], "timeout_seconds": 600,
        "description": (
            'Deletes files older than a number of days from /tmp and /var/tmp (lock and pid files are kept) and '
            'reports the space freed. A dry run only counts them.'
        ),
        "parameters": [
            {'name': 'older_than_days', 'label': 'Older than (days)', 'type': 'number', 'required': True, 'default': 7},
            {'name': 'dry_run', 'label': 'Dry run (count only)', 'type': 'boolean', 'required': False, 'default': False},
        ],
        "body": r'''#!/bin/sh
# Clear temporary files older than TF_OLDER_THAN_DAYS days from the system's temporary directories.
# Lock and pid files are kept; with TF_DRY_RUN=true nothing is deleted, only counted.
set -u
days="${TF_OLDER_THAN_DAYS:-7}"
dry_run="${TF_DRY_RUN:-false}"
case "$days" in ''|*[!0-9]*) echo "older_than_days must be a whole number of days, not '$days'" >&2; exit 2;; esac
total=0
for dir in /tmp /var/tmp; do
    [ -d "$dir" ] || continue
    before=$(du -sk "$dir" 2>/dev/null | cut -f1)
    if [ "$dry_run" = "true" ]; then
        count=$(find "$dir" -xdev -mindepth 1 -type f -mtime +"$days" 2>/dev/null | wc -l)
        echo "$dir: $count file(s) older than $days day(s) would be deleted"
        continue
    fi
    find "$dir" -xdev -mindepth 1 -type f -mtime +"$days" ! -name '*.lock' ! -name '*.pid' -delete 2>/dev/null
    find "$dir" -xdev -mindepth 1 -type d -empty -mtime +"$days" -delete 2>/dev/null
    after=$(du -sk "$dir" 2>/dev/null | cut -f1)
    freed=$(( ${before:-0} - ${after:-0} ))
    [ "$freed" -lt 0 ] && freed=0
    total=$(( total + freed ))
    echo "$dir: freed ${freed} KiB"
done
[ "$dry_run" = "true" ] || echo "total freed: ${total} KiB"
''',
    },
    {
        "slug": 'restart-service-shell', "name": 'Restart a service (Linux)', "category": 'services',
        "language": 'shell', "os_families": ['linux'], "timeout_seconds": 120,
        "description": (
            'Restarts a systemd service and checks that it is active again; prints its status when it is not.'
        ),
        "parameters": [
            {'name': 'service', 'label': 'Service name', 'type': 'string', 'required': True},
            {'name': 'wait_seconds', 'label': 'Seconds to wait before checking', 'type': 'number', 'required': False, 'default': 3},
        ],
        "body": r'''#!/bin/sh
# Restart a systemd service and report whether it came back active.
set -u
service="${TF_SERVICE:-}"
case "$service" in
    ''|-*|*[!A-Za-z0-9@._:-]*) echo "service must be a unit name such as nginx or cups.service, not '$service'" >&2; exit 2;;
esac
if ! command -v systemctl >/dev/null 2>&1; then
    echo "systemctl is not available: this device does not run systemd" >&2
    exit 3
fi
if ! systemctl cat -- "$service" >/dev/null 2>&1; then
    echo "no service named $service on this device" >&2
    exit 4
fi
echo "restarting $service"
if ! systemctl restart -- "$service"; then
    systemctl status --no-pager -n 20 -- "$service" >&2
    exit 1
fi
sleep "${TF_WAIT_SECONDS:-3}"
state=$(systemctl is-active -- "$service")
echo "$service is $state"
[ "$state" = "active" ] || { systemctl status --no-pager -n 20 -- "$service" >&2; exit 1; }
''',
    },
    {
        "slug": 'collect-logs-shell', "name": 'Collect system logs (Linux)', "category": 'diagnostics',
        "language": 'shell', "os_families": ['linux'], "timeout_seconds": 120,
        "description": (
            'Prints the last lines of the systemd journal, optionally of one unit and from a minimum priority, to'
            ' attach to a ticket.'
        ),
        "parameters": [
            {'name': 'lines', 'label': 'Lines', 'type': 'number', 'required': True, 'default': 200},
            {'name': 'unit', 'label': 'Unit (optional)', 'type': 'string', 'required': False},
            {'name': 'priority', 'label': 'Minimum priority', 'type': 'choice', 'required': True, 'choices': ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'], 'default': 'info'},
        ],
        "body": r'''#!/bin/sh
# Print the end of the system journal (optionally of one unit and from a minimum priority) for a ticket.
set -u
lines="${TF_LINES:-200}"
unit="${TF_UNIT:-}"
priority="${TF_PRIORITY:-info}"
case "$lines" in ''|*[!0-9]*) echo "lines must be a whole number, not '$lines'" >&2; exit 2;; esac
[ "$lines" -le 5000 ] || lines=5000
if ! command -v journalctl >/dev/null 2>&1; then
    echo "journalctl is not available; last lines of /var/log/syslog instead" >&2
    tail -n "$lines" /var/log/syslog 2>/dev/null || tail -n "$lines" /var/log/messages
    exit $?
fi
set -- --no-pager --quiet -o short-iso -n "$lines" -p "$priority"
if [ -n "$unit" ]; then
    case "$unit" in -*|*[!A-Za-z0-9@._:-]*) echo "unit must be a unit name, not '$unit'" >&2; exit 2;; esac
    set -- "$@" -u "$unit"
fi
echo "== $(hostname): journal, last $lines line(s), priority $priority and above${unit:+, unit $unit} =="
journalctl "$@"
''',
    },
    {
        "slug": 'check-disk-health-shell', "name": 'Check disk health (Linux, macOS)', "category": 'diagnostics',
        "language": 'shell', "os_families": ['linux', 'macos'], "timeout_seconds": 300,
        "description": (
            "Reports free space of every file system and, when smartctl is installed, each disk's SMART health; "
            'fails when a file system is fuller than the threshold or a disk reports a failure.'
        ),
        "parameters": [
            {'name': 'warn_percent', 'label': 'Warn above (% used)', 'type': 'number', 'required': True, 'default': 90},
        ],
        "body": r'''#!/bin/sh
# Report free space of every mounted file system and, where smartctl is installed, each disk's SMART
# health. Exits 1 when a file system is fuller than TF_WARN_PERCENT or a disk reports a failure.
set -u
warn="${TF_WARN_PERCENT:-90}"
case "$warn" in ''|*[!0-9]*) echo "warn_percent must be a whole number, not '$warn'" >&2; exit 2;; esac
status=0
echo "== file systems =="
df -P -h -x tmpfs -x devtmpfs -x squashfs -x overlay 2>/dev/null || df -P -h
full=$(df -P -x tmpfs -x devtmpfs -x squashfs -x overlay 2>/dev/null | awk -v w="$warn" \
    'NR > 1 { gsub("%", "", $5); if ($5 + 0 >= w) print $6 " is " $5 "% full" }')
if [ -n "$full" ]; then
    echo "$full" >&2
    status=1
fi
echo "== SMART health =="
if command -v smartctl >/dev/null 2>&1; then
    for disk in $(smartctl --scan 2>/dev/null | awk '{ print $1 }'); do
        result=$(smartctl -H "$disk" 2>&1 | grep -Ei 'overall-health|SMART Health Status' || true)
        echo "$disk: ${result:-no health status (not supported or no permission)}"
        case "$result" in *FAILED*|*FAILING*) status=1;; esac
    done
else
    echo "smartctl is not installed: SMART health not checked (install smartmontools)"
fi
exit $status
''',
    },
    {
        "slug": 'clear-temp-files-powershell', "name": 'Clear temporary files (Windows)', "category": 'maintenance',
        "language": 'powershell', "os_families": ['windows'], "timeout_seconds": 900,
        "description": (
            "Deletes files older than a number of days from the Windows TEMP folder and every user's TEMP folder;"
            ' files in use are skipped. A dry run only counts them.'
        ),
        "parameters": [
            {'name': 'older_than_days', 'label': 'Older than (days)', 'type': 'number', 'required': True, 'default': 7},
            {'name': 'dry_run', 'label': 'Dry run (count only)', 'type': 'boolean', 'required': False, 'default': False},
        ],
        "body": r'''# Clear temporary files older than $env:TF_OLDER_THAN_DAYS days from Windows' and every user's TEMP folder.
# Files in use are skipped. With $env:TF_DRY_RUN = "true" nothing is deleted, only counted.
$ErrorActionPreference = "Continue"
$days = 7
if ($env:TF_OLDER_THAN_DAYS) { $days = [int]$env:TF_OLDER_THAN_DAYS }
$dryRun = $env:TF_DRY_RUN -eq "true"
$cutoff = (Get-Date).AddDays(-$days)
$folders = @("$env:SystemRoot\Temp") + (Get-ChildItem "$env:SystemDrive\Users" -Directory -ErrorAction SilentlyContinue |
    ForEach-Object { Join-Path $_.FullName "AppData\Local\Temp" })
$total = 0
foreach ($folder in $folders) {
    if (-not (Test-Path $folder)) { continue }
    $old = Get-ChildItem $folder -Recurse -File -Force -ErrorAction SilentlyContinue | Where-Object { $_.LastWriteTime -lt $cutoff }
    $bytes = ($old | Measure-Object -Property Length -Sum).Sum
    if ($dryRun) { Write-Output "${folder}: $($old.Count) file(s) would be deleted"; continue }
    $freed = 0
    foreach ($file in $old) {
        try { Remove-Item $file.FullName -Force -ErrorAction Stop; $freed += $file.Length } catch { }
    }
    $total += $freed
    Write-Output ("{0}: freed {1:N0} KiB" -f $folder, ($freed / 1KB))
}
if (-not $dryRun) { Write-Output ("total freed: {0:N0} KiB" -f ($total / 1KB)) }
''',
    },
    {
        "slug": 'restart-service-powershell', "name": 'Restart a service (Windows)', "category": 'services',
        "language": 'powershell', "os_families": ['windows'], "timeout_seconds": 180,
        "description": (
            'Restarts a Windows service and checks that it is running again.'
        ),
        "parameters": [
            {'name': 'service', 'label': 'Service name', 'type': 'string', 'required': True},
            {'name': 'wait_seconds', 'label': 'Seconds to wait before checking', 'type': 'number', 'required': False, 'default': 3},
        ],
        "body": r'''# Restart a Windows service and report whether it came back running.
$ErrorActionPreference = "Stop"
$name = $env:TF_SERVICE
if (-not $name -or $name -notmatch '^[A-Za-z0-9 ._-]+$') { Write-Error "service must be a service name such as Spooler, not '$name'"; exit 2 }
$service = Get-Service -Name $name -ErrorAction SilentlyContinue
if (-not $service) { Write-Error "no service named $name on this device"; exit 4 }
Write-Output "restarting $($service.Name) ($($service.DisplayName))"
Restart-Service -Name $service.Name -Force
$wait = 3
if ($env:TF_WAIT_SECONDS) { $wait = [int]$env:TF_WAIT_SECONDS }
Start-Sleep -Seconds $wait
$service.Refresh()
Write-Output "$($service.Name) is $($service.Status)"
if ($service.Status -ne "Running") { exit 1 }
''',
    },
    {
        "slug": 'collect-logs-powershell', "name": 'Collect event logs (Windows)', "category": 'diagnostics',
        "language": 'powershell', "os_families": ['windows'], "timeout_seconds": 180,
        "description": (
            'Prints the latest events of a Windows event log (System by default), optionally errors and warnings '
            'only.'
        ),
        "parameters": [
            {'name': 'lines', 'label': 'Events', 'type': 'number', 'required': True, 'default': 200},
            {'name': 'log_name', 'label': 'Event log', 'type': 'choice', 'required': True, 'choices': ['System', 'Application', 'Security', 'Setup'], 'default': 'System'},
            {'name': 'errors_only', 'label': 'Errors and warnings only', 'type': 'boolean', 'required': False, 'default': False},
        ],
        "body": r'''# Print the latest events of a Windows event log (System by default), optionally errors and warnings only.
$ErrorActionPreference = "Stop"
$lines = 200
if ($env:TF_LINES) { $lines = [Math]::Min([int]$env:TF_LINES, 5000) }
$log = "System"
if ($env:TF_LOG_NAME) { $log = $env:TF_LOG_NAME }
$filter = @{ LogName = $log }
if ($env:TF_ERRORS_ONLY -eq "true") { $filter.Level = 1, 2, 3 }
Write-Output "== $env:COMPUTERNAME`: $log log, last $lines event(s) =="
Get-WinEvent -FilterHashtable $filter -MaxEvents $lines |
    ForEach-Object { "{0:s} {1,-11} {2} [{3}] {4}" -f $_.TimeCreated, $_.LevelDisplayName, $_.ProviderName, $_.Id, ($_.Message -replace "`r?`n", " ") }
''',
    },
    {
        "slug": 'check-disk-health-powershell', "name": 'Check disk health (Windows)', "category": 'diagnostics',
        "language": 'powershell', "os_families": ['windows'], "timeout_seconds": 300,
        "description": (
            'Reports free space of every fixed volume and the health status of each physical disk; fails when a '
            'volume is fuller than the threshold or a disk is not healthy.'
        ),
        "parameters": [
            {'name': 'warn_percent', 'label': 'Warn above (% used)', 'type': 'number', 'required': True, 'default': 90},
        ],
        "body": r'''# Report free space of every fixed volume and each physical disk's health status. Exits 1 when a volume
# is fuller than $env:TF_WARN_PERCENT or a disk is not healthy.
$warn = 90
if ($env:TF_WARN_PERCENT) { $warn = [int]$env:TF_WARN_PERCENT }
$status = 0
Write-Output "== volumes =="
foreach ($volume in Get-Volume | Where-Object { $_.DriveType -eq "Fixed" -and $_.Size -gt 0 }) {
    $used = [Math]::Round(100 * (1 - $volume.SizeRemaining / $volume.Size), 1)
    Write-Output ("{0} {1}: {2:N1} GiB free of {3:N1} GiB ({4} % used)" -f $volume.DriveLetter, $volume.FileSystemLabel,
        ($volume.SizeRemaining / 1GB), ($volume.Size / 1GB), $used)
    if ($used -ge $warn) { Write-Error "$($volume.DriveLetter): is $used % full" -ErrorAction Continue; $status = 1 }
}
Write-Output "== physical disks =="
foreach ($disk in Get-PhysicalDisk) {
    Write-Output "$($disk.FriendlyName): $($disk.HealthStatus) ($($disk.OperationalStatus))"
    if ($disk.HealthStatus -ne "Healthy") { $status = 1 }
}
exit $status
''',
    },
]


def _canonical(data):
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def add_starter_library(apps, schema_editor):
    Script = apps.get_model("automation", "Script")
    ScriptVersion = apps.get_model("automation", "ScriptVersion")
    for entry in STARTER:
        if Script.objects.filter(slug=entry["slug"]).exists() or Script.objects.filter(name=entry["name"]).exists():
            continue
        body = entry["body"]
        script = Script.objects.create(
            name=entry["name"], slug=entry["slug"], description=entry["description"], category=entry["category"],
            language=entry["language"], os_families=sorted(entry["os_families"]),
            timeout_seconds=entry["timeout_seconds"], parameters=entry["parameters"])
        document = _canonical({
            "purpose": "tenfold-script-version", "script_id": script.pk, "version": 1,
            "language": entry["language"], "body_sha256": hashlib.sha256(body.encode("utf-8")).hexdigest(),
            "parameters": entry["parameters"], "timeout_seconds": entry["timeout_seconds"],
            "os_families": sorted(entry["os_families"])})
        ScriptVersion.objects.create(
            script=script, number=1, body=body, language=entry["language"], os_families=sorted(entry["os_families"]),
            timeout_seconds=entry["timeout_seconds"], parameters=entry["parameters"], document=document.decode("utf-8"),
            document_sha256=hashlib.sha256(document).hexdigest(), status="awaiting_signature")


def remove_starter_library(apps, schema_editor):
    Script = apps.get_model("automation", "Script")
    Script.objects.filter(slug__in=[e["slug"] for e in STARTER], versions__runs__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("automation", "0001_script_library_keys_and_runs")]

    operations = [migrations.RunPython(add_starter_library, remove_starter_library)]
