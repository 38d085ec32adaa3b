#!/usr/bin/env bash
# Brings src/Ring/PublicAPI.Unshipped.txt in line with the code: adds what the analyzer reports as undeclared
# (RS0016) and drops what it reports as declared but gone (RS0017). The freeze is the diff this leaves for review.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
api="$root/src/Ring/PublicAPI.Unshipped.txt"
report=$(dotnet build "$root/src/Ring" -c Release -nodeReuse:false 2>&1 || true)
added=$(grep -E "error RS0016" <<<"$report" | sed -E "s/.*Symbol '(.*)' is not part of the declared public API.*/\1/" | sort -u || true)
removed=$(grep -E "error RS0017" <<<"$report" | sed -E "s/.*Symbol '(.*)' is part of the declared API.*/\1/" | sort -u || true)
{
  echo "#nullable enable"
  { tail -n +2 "$api" | grep -vxF -f <(printf '%s\n' "$removed" | sed '/^$/d') || true; printf '%s\n' "$added"; } | sed '/^$/d' | LC_ALL=C sort -u
} >"$api.new"
mv "$api.new" "$api"
echo "public-api: $(printf '%s\n' "$added" | sed '/^$/d' | wc -l) added, $(printf '%s\n' "$removed" | sed '/^$/d' | wc -l) removed"
