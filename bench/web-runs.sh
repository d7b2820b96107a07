#!/usr/bin/env bash
# Runs `vigil bench web` several times and prints each run's p99 for both
# pages, then the median and the range: one run on a shared 2-core machine
# varies by ±25%, so BENCHMARKS.md reports several.
#
#   bench/web-runs.sh [RUNS] [--database postgres://...]   (default 5 runs, SQLite)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
shift || true
cargo build --release -q -p vigil-cli
vigil=target/release/vigil
out=$(mktemp)
for i in $(seq "$runs"); do
  # With --database postgres://, `bench web` also runs SQLite; keep the first report only.
  "$vigil" bench web --users 100 --seconds 20 "$@" | awk '/^web:/{n++} n==1' | tee -a "$out"
done
awk '
  /^web:/ { backend = $0; sub(/.*queue, /, "", backend); sub(/ \(.*/, "", backend) }
  /GET \/triage/ { g[++ng] = $(NF-2) }
  /POST \/referrals/ { p[++np] = $(NF-2) }
  function sort(a, n,   i, j, t) { for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t } }
  END {
    sort(g, ng); sort(p, np)
    printf "%s, %d runs: GET /triage p99 median %.1f ms (%.1f-%.1f); POST /referrals/new p99 median %.1f ms (%.1f-%.1f)\n",
      backend, ng, g[int((ng+1)/2)], g[1], g[ng], p[int((np+1)/2)], p[1], p[np]
  }' "$out"
rm -f "$out"
