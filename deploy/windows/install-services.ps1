# SI-Gouvernance as Windows services, with NSSM (the Non-Sucking Service Manager,
# nssm.exe on the PATH or given by -Nssm): the web site (waitress), one Celery
# worker (--pool=solo: the only pool that works on Windows) and beat (ONE beat
# for the whole installation: leave -WithoutBeat on every other machine).
#
#   powershell -ExecutionPolicy Bypass -File deploy\windows\install-services.ps1
#   powershell -ExecutionPolicy Bypass -File deploy\windows\install-services.ps1 -WithoutBeat
#
# Run as administrator. Settings: the file named by -EnvFile (ENV_FILE), same
# variables as on Linux (deploy\si-gouvernance.env.example).
param(
    [string]$AppDir = "C:\si-gouvernance",
    [string]$EnvFile = "C:\si-gouvernance\si-gouvernance.env",
    [string]$Nssm = "nssm.exe",
    [switch]$WithoutBeat
)
$ErrorActionPreference = "Stop"

$Python = Join-Path $AppDir ".venv\Scripts\python.exe"
$Celery = Join-Path $AppDir ".venv\Scripts\celery.exe"
$Logs = Join-Path $AppDir "logs"
New-Item -ItemType Directory -Force -Path $Logs | Out-Null

function Install-SiService {
    param([string]$Name, [string]$Description, [string]$Program, [string]$Arguments,
          [int]$StopMilliseconds)
    & $Nssm install $Name $Program $Arguments
    & $Nssm set $Name AppDirectory $AppDir
    & $Nssm set $Name Description $Description
    & $Nssm set $Name AppEnvironmentExtra "ENV_FILE=$EnvFile" "PYTHONUNBUFFERED=1"
    & $Nssm set $Name AppStdout (Join-Path $Logs "$Name.console.log")
    & $Nssm set $Name AppStderr (Join-Path $Logs "$Name.console.log")
    & $Nssm set $Name AppRotateFiles 1
    & $Nssm set $Name AppRotateOnline 1
    & $Nssm set $Name AppRotateBytes 10485760
    # Stopping: Ctrl+C first (waitress closes its sockets, the worker finishes its
    # task, beat exits), and only after this delay is the process killed.
    & $Nssm set $Name AppStopMethodSkip 0
    & $Nssm set $Name AppStopMethodConsole $StopMilliseconds
    & $Nssm set $Name AppExit Default Restart
    & $Nssm set $Name AppRestartDelay 5000
    & $Nssm set $Name Start SERVICE_AUTO_START
}

# Web: `manage.py serve` is waitress on Windows (WEB_BIND, WEB_THREADS, WEB_TIMEOUT),
# with its access log in logs\access.log. Put IIS or nginx in front for HTTPS.
Install-SiService "SIGouvWeb" "SI-Gouvernance - site web (waitress)" `
    $Python "manage.py serve" 30000

# Worker: a task cannot outlive CELERY_TASK_TIME_LIMIT (360 s): 420 s to finish it.
Install-SiService "SIGouvWorker" "SI-Gouvernance - worker Celery" `
    $Celery "-A si_gouvernance worker --pool=solo --loglevel=INFO --hostname=worker@%h" 420000

if (-not $WithoutBeat) {
    Install-SiService "SIGouvBeat" "SI-Gouvernance - beat Celery (un seul pour toute l'installation)" `
        $Celery "-A si_gouvernance beat --loglevel=INFO --pidfile=" 30000
}

& $Nssm start SIGouvWeb
& $Nssm start SIGouvWorker
if (-not $WithoutBeat) { & $Nssm start SIGouvBeat }
