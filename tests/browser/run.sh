#!/usr/bin/env bash
# Vigil in a real browser (headless Chromium, Debian's package, driven by
# playwright-core): a referrer sends a referral with one mistake and then
# correctly, downloads the signed receipt (checked with `vigil receipt
# verify`), a triage officer decides it; eight days later (the server under
# faketime) the supervisor sees the undecided one overdue, an auditor reads
# the access log and an administrator the accounts. Screenshots of each page
# go to docs/screenshots/.
#
# Needs: a built `vigil` (VIGIL=path, default target/debug/vigil), node 20,
# /usr/bin/chromium and faketime. .ci/run installs them. Without chromium or
# node it says so and exits 0, so a machine with only the Rust toolchain can
# still run everything else.
set -euo pipefail
cd "$(dirname "$0")"
ROOT="$(cd ../.. && pwd)"
VIGIL="${VIGIL:-$ROOT/target/debug/vigil}"

if [ ! -x /usr/bin/chromium ] || ! command -v node >/dev/null 2>&1; then
  echo "browser test skipped: it needs /usr/bin/chromium and node (apt-get install chromium; node 20)"
  exit 0
fi
if [ ! -x "$VIGIL" ]; then
  echo "browser test: no vigil binary at $VIGIL; build it first (cargo build -p vigil-cli)" >&2
  exit 1
fi
[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund

WORK="$(mktemp -d)"
SERVER_PID=""
# The server runs in a process group of its own (setsid), led by
# SERVER_PID: under faketime that PID is faketime's, and `vigil serve` is
# its child, so the whole group is stopped, never just the wrapper.
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM -- "-$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
trap 'stop_server; rm -rf "$WORK"' EXIT

DATA="$WORK/data"
"$VIGIL" --data "$DATA" init >/dev/null
"$VIGIL" --data "$DATA" import "$ROOT/examples/events.jsonl" >/dev/null
# The matching model the triage screen scores with: fitted by `vigil link`
# on a synthetic borough's own records (the example story has too few
# people to fit one on) and kept where `vigil serve` loads it.
MODEL_DATA="$WORK/model-data"
"$VIGIL" --data "$MODEL_DATA" init >/dev/null
"$VIGIL" --data "$MODEL_DATA" synth --children 2000 --years 3 --seed 1 >/dev/null
"$VIGIL" --data "$MODEL_DATA" link >/dev/null
cp "$MODEL_DATA/link-model.json" "$DATA/link-model.json"
one_time() { "$VIGIL" --data "$DATA" user add "$@" | sed -n 's/.*one-time password: //p'; }
export REFERRER_PW TRIAGE_PW SUPERVISOR_PW AUDITOR_PW ADMIN_PW PRACTITIONER_PW
REFERRER_PW="$(one_time tess.teacher --role referrer --agency oakfield-academy --name 'Tess Teacher')"
TRIAGE_PW="$(one_time tariq.triage --role triage --agency northshire-childrens-services --name 'Tariq Triage')"
SUPERVISOR_PW="$(one_time sue.supervisor --role supervisor --agency northshire-childrens-services --name 'Sue Supervisor')"
AUDITOR_PW="$(one_time aled.auditor --role auditor --agency northshire-childrens-services --name 'Aled Auditor')"
PRACTITIONER_PW="$(one_time pia.practitioner --role practitioner --agency northshire-childrens-services --name 'Pia Practitioner')"
ADMIN_PW="$(one_time ada.admin --role partnership_administrator --name 'Ada Admin')"

# Starts `vigil serve` on a free loopback port (optionally under faketime)
# and sets BASE from the address it prints.
start_server() {
  local log="$WORK/server-$1.log"
  shift
  : >"$log"
  # Not a process group leader (no job control in a script), so setsid
  # runs the command in place: $! is the new group's leader.
  setsid "$@" "$VIGIL" --data "$DATA" serve --addr 127.0.0.1:0 --check-every 2 >"$log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    BASE="$(sed -n 's/^Vigil is serving on \(http:[^ ]*\).*/\1/p' "$log")"
    [ -n "$BASE" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$BASE" ] || { echo "the server did not start" >&2; cat "$log" >&2; exit 1; }
  export BASE
}

export VIGIL DATA WORK
export SHOTS="$ROOT/docs/screenshots"
mkdir -p "$SHOTS"

start_server now env
node run.mjs today
stop_server

# Eight days later: the referral left undecided is overdue on any calendar.
if command -v faketime >/dev/null 2>&1; then
  start_server later env FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f +8d
  node run.mjs later
  stop_server
else
  echo "browser test: faketime is not installed, so the overdue part was skipped (apt-get install faketime)"
fi
