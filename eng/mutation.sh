#!/usr/bin/env bash
# Mutation testing of the protocol and validation code with Stryker.NET (a local tool, .config/dotnet-tools.json).
# What is mutated and which tests run per mutant: eng/stryker-config.json. The slow and cross-process tests are
# filtered out so that each mutant's run stays short; what they would have caught is listed in docs/testing.md.
# Not part of CI: on 2 cores the SPSC + eventcount + waiter group took 25 min, MPMC about 25 min; run one group at a
# time with -m, e.g.  bash eng/mutation.sh -m "**/Spsc/*.cs" -m "**/Waiting/EventCount.cs" -m "**/Waiting/Waiter.cs"
# Reports: src/Ring.Tests/StrykerOutput/<time>/reports/mutation-report.{html,json,md}.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
dotnet tool restore >/dev/null
cd src/Ring.Tests
exec dotnet stryker --config-file ../../eng/stryker-config.json "$@"
