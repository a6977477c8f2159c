# Stop and remove the SI-Gouvernance services installed by install-services.ps1.
#   powershell -ExecutionPolicy Bypass -File deploy\windows\uninstall-services.ps1
param([string]$Nssm = "nssm.exe")
$ErrorActionPreference = "Continue"
foreach ($Name in @("SIGouvBeat", "SIGouvWorker", "SIGouvWeb")) {
    & $Nssm stop $Name
    & $Nssm remove $Name confirm
}
