@echo off
rem agentroll offline kit: double-click to check this PC, install the monitoring agent,
rem rename the PC to its standard name and write a receipt into the receipts folder.
rem Windows asks for an administrator; the window stays open until a key is pressed.
powershell.exe -NoProfile -ExecutionPolicy Bypass -File "%~dp0Install-Agent.ps1"
pause
