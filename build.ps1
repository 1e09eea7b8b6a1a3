#!/usr/bin/env pwsh
<#
.SYNOPSIS
    The one build entry point of EventLoop.
.DESCRIPTION
    Tasks:
      build  restore and build the solution (Release)
      test   run the test suite on both poller back ends (epoll, then poll)
      bench  run the BenchmarkDotNet micro-benchmarks (pass a filter with -Filter)
      pack   create NuGet packages of EventLoop.Core and EventLoop.Net in ./artifacts
      demo   run the main job: dotnet run --project EventLoop.Samples -- demo
      aot    publish EventLoop.Samples as a NativeAOT executable to ./artifacts/aot
             (needs Debian's clang and zlib1g-dev: apt-get install -y clang zlib1g-dev)
    Run it through the repository's local PowerShell tool:
      dotnet tool restore
      dotnet pwsh ./build.ps1 test
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('build', 'test', 'bench', 'pack', 'demo', 'aot')]
    [string] $Task = 'build',

    [string] $Configuration = 'Release',

    [string] $Filter = '*'
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
Set-Location -LiteralPath $PSScriptRoot

function Invoke-Step([string] $Title, [scriptblock] $Command) {
    Write-Host "==> $Title" -ForegroundColor Cyan
    & $Command
    if ($LASTEXITCODE -ne 0) {
        throw "$Title failed with exit code $LASTEXITCODE"
    }
}

switch ($Task) {
    'build' {
        Invoke-Step 'dotnet build' { dotnet build EventLoop.sln -c $Configuration }
    }
    'test' {
        Invoke-Step 'dotnet test (epoll)' { dotnet test EventLoop.sln -c $Configuration }
        $env:EVENTLOOP_POLLER = 'poll'
        try {
            Invoke-Step 'dotnet test (poll)' { dotnet test EventLoop.sln -c $Configuration --no-build }
        }
        finally {
            Remove-Item Env:EVENTLOOP_POLLER -ErrorAction SilentlyContinue
        }
    }
    'bench' {
        Invoke-Step 'benchmarks' { dotnet run -c Release --project EventLoop.Benchmarks -- --filter $Filter }
    }
    'pack' {
        Invoke-Step 'dotnet pack' { dotnet pack EventLoop.sln -c $Configuration -o artifacts }
    }
    'demo' {
        Invoke-Step 'demo' { dotnet run -c $Configuration --project EventLoop.Samples -- demo }
    }
    'aot' {
        # The native linker step of NativeAOT needs clang and zlib's static library; name what is missing.
        $missing = @()
        if (-not (Get-Command clang -ErrorAction SilentlyContinue)) { $missing += 'clang' }
        if (-not (Test-Path '/usr/lib/x86_64-linux-gnu/libz.a') -and -not (Test-Path '/usr/lib/libz.a')) { $missing += 'zlib1g-dev' }
        if ($missing.Count -gt 0) {
            Write-Host "aot: missing $($missing -join ' and '): apt-get install -y $($missing -join ' ')" -ForegroundColor Red
            exit 1
        }
        Invoke-Step 'dotnet publish (NativeAOT)' {
            dotnet publish EventLoop.Samples -c $Configuration -r linux-x64 -p:PublishAot=true -o artifacts/aot
        }
    }
}
