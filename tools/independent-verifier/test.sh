#!/usr/bin/env bash
# Checks the independent verifier (verify.py, written from docs/ledger-format.md
# alone) against logs and receipts made by the real `vigil`, intact and tampered,
# and that `vigil verify` agrees on every tampered copy.
#
#   bash tools/independent-verifier/test.sh        (from the repository root)
#
# PYTHON: a Python 3.11 with `cryptography` (default: python3).
# VIGIL:  the vigil binary (default: target/debug/vigil, built here if needed).
set -uo pipefail
cd "$(dirname "$0")/../.."
HERE=tools/independent-verifier
PY="${PYTHON:-python3}"
VIGIL="${VIGIL:-$PWD/target/debug/vigil}"
if [ "$VIGIL" = "$PWD/target/debug/vigil" ]; then
  cargo build -q -p vigil-cli || { echo "cargo build failed"; echo "0 passed, 1 failed"; exit 1; }
fi
"$PY" -c 'import cryptography' || { echo "$PY has no cryptography"; echo "0 passed, 1 failed"; exit 1; }

W="$(mktemp -d)"
trap 'rm -rf "$W"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }

# expect NAME WANT_RC [GREP] -- CMD...: CMD exits WANT_RC (and its output contains GREP)
expect() {
  local name="$1" want="$2" pat="$3"
  shift 4
  local out rc
  out="$("$@" 2>&1)"
  rc=$?
  if [ "$rc" != "$want" ]; then
    bad "$name: exit $rc, wanted $want"
    printf '%s\n' "$out" | head -n 8 | sed 's/^/     | /'
  elif [ -n "$pat" ] && ! grep -qF -- "$pat" <<<"$out"; then
    bad "$name: exit $rc but output lacks '$pat'"
    printf '%s\n' "$out" | head -n 8 | sed 's/^/     | /'
  else
    ok "$name"
  fi
}
# expect_fail NAME -- CMD...: CMD exits 1 or 2 (does not say intact, and did not crash)
expect_fail() {
  local name="$1"
  shift 2
  local out rc
  out="$("$@" 2>&1)"
  rc=$?
  if [ "$rc" = 1 ] || [ "$rc" = 2 ]; then ok "$name (exit $rc)"; else
    bad "$name: exit $rc"
    printf '%s\n' "$out" | head -n 8 | sed 's/^/     | /'
  fi
}
iv() { "$PY" "$HERE/verify.py" "$@"; }
q() { sqlite3 "$1/vigil.sqlite" "$2"; }
# Tampering needs the sqlite3 command line; Python's module does the same if it is missing.
if [ -n "${NO_SQLITE3_CLI:-}" ] || ! command -v sqlite3 >/dev/null 2>&1; then
  q() {
    "$PY" - "$1/vigil.sqlite" "$2" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
if sys.argv[2].lstrip().upper().startswith("SELECT"):
    for r in c.execute(sys.argv[2]):
        print("|".join(map(str, r)))
else:
    c.executescript(sys.argv[2])
c.commit()
EOF
  }
fi

# --- unit checks of the verifier's own primitives --------------------------------
expect "self-test: RFC 8785, Merkle roots and inclusion proofs" 0 "" -- "$PY" - "$HERE" <<'EOF'
import sys, hashlib
sys.path.insert(0, sys.argv[1])
import verify as v
# RFC 8785 strings and ordering (the appendix's key-ordering example, minus non-integers)
assert v.canonicalize({"b": 1, "a": [True, False, None], "\u20ac": 0, "\r": 0, "1": 0, "\U0001F600": 0, "\u0080": 0, "\u00f6": 0}) == \
    '{"\\r":0,"1":0,"a":[true,false,null],"b":1,"\u0080":0,"\u00f6":0,"\u20ac":0,"\U0001F600":0}'.encode()
assert v.canonicalize("\u0000\u001f\"\\/\u007f\u2028") == b'"\\u0000\\u001f\\"\\\\/\x7f\xe2\x80\xa8"'
assert v.canonicalize("\b\t\n\f\r") == b'"\\b\\t\\n\\f\\r"'
for bad in (b'{"a":1.5}', b'{"a":1e2}', b'{"a":1,"a":2}', b'{"a":9007199254740992}', b'{"a":NaN}', b'\xff'):
    try:
        v.check_canonical(bad); raise SystemExit(f"accepted {bad!r}")
    except v.CanonError:
        pass
for noncanon in (b'{"b":1,"a":2}', b'{"a": 1}', b'{"a":-0}', b'{"a":"\\u0041"}', b'{"a":"\\/"}'):
    try:
        v.check_canonical(noncanon); raise SystemExit(f"accepted {noncanon!r}")
    except v.CanonError:
        pass
v.check_canonical(b'{"a":-9007199254740991,"b":"\\u001f\xc3\xa9"}')
# Merkle: incremental roots equal the definition; inclusion proofs from the definition verify
def path(m, leaves):  # RFC 9162 2.1.3.1
    n = len(leaves)
    if n <= 1: return []
    k = 1
    while k * 2 < n: k *= 2
    if m < k: return path(m, leaves[:k]) + [v.mth(leaves[k:])]
    return path(m - k, leaves[k:]) + [v.mth(leaves[:k])]
leaves = [v.leaf_hash(bytes([i])) for i in range(40)]
assert v.mth([]) == hashlib.sha256(b"").digest()
t = v.IncrementalTree()
for n in range(1, 41):
    t.append(leaves[n - 1])
    root = v.mth(leaves[:n])
    assert t.root() == root, n
    for m in range(n):
        p = path(m, leaves[:n])
        assert v.verify_inclusion(m, n, leaves[m], p, root), (m, n)
        assert not v.verify_inclusion(m, n, leaves[(m + 1) % 40], p, root) or n == 1
        if p: assert not v.verify_inclusion(m, n, leaves[m], p[:-1], root)
assert v.rfc3339_ms(1795309323456) == "2026-11-22T01:02:03.456Z"
assert v.rfc3339_ms(-1) == "1969-12-31T23:59:59.999Z"
EOF

# --- an intact log, as the README makes it ----------------------------------------
D="$W/data"
"$VIGIL" --data "$D" init >/dev/null || { bad "vigil init"; echo "$pass passed, $((fail + 1)) failed"; exit 1; }
"$VIGIL" --data "$D" import examples/events.jsonl >"$W/receipts.jsonl" 2>"$W/import.err" || bad "vigil import"
KEY="$W/log-key.pub"
cp "$D/log-key.pub" "$KEY" # the key as a verifier would hold it, away from the data directory
N="$(q "$D" 'SELECT count(*) FROM ledger_entries')"
[ "$N" -gt 10 ] && ok "import recorded $N events, $(wc -l <"$W/receipts.jsonl") receipts" || bad "import recorded $N events"

expect "intact log: verify.py exits 0" 0 "intact: $N entries" -- iv "$D" "$KEY"
expect "intact log: vigil verify exits 0" 0 "intact" -- "$VIGIL" --data "$D" verify
expect "all import receipts, against the log" 0 "$(wc -l <"$W/receipts.jsonl") receipt(s) given" -- iv "$D" "$KEY" --receipt "$W/receipts.jsonl"
expect "all import receipts, key only" 0 "valid:" -- iv --no-db "$KEY" --receipt "$W/receipts.jsonl"

# One receipt and its payload, as the web service would hand them out.
I=5
sed -n "$((I + 1))p" "$W/receipts.jsonl" >"$W/r.json"
q "$D" "SELECT payload FROM ledger_entries WHERE idx = $I" | tr -d '\n' >"$W/payload.json"
expect "receipt $I with its payload" 0 "valid:" -- iv --no-db "$KEY" --receipt "$W/r.json" --payload "$W/payload.json"
expect "vigil receipt verify agrees on receipt $I with its payload" 0 "" -- \
  "$VIGIL" receipt verify "$W/r.json" --key "$KEY" --payload "$W/payload.json"
sed 's/\(.*\)[a-z]/\1Q/' "$W/payload.json" >"$W/payload-bad.json" # its last lower-case letter
cmp -s "$W/payload.json" "$W/payload-bad.json" && bad "could not alter the payload file"
expect "receipt $I with an altered payload: exit 1" 1 "payload_sha256" -- iv --no-db "$KEY" --receipt "$W/r.json" --payload "$W/payload-bad.json"
expect "vigil receipt verify agrees (altered payload)" 1 "" -- \
  "$VIGIL" receipt verify "$W/r.json" --key "$KEY" --payload "$W/payload-bad.json"
"$PY" - "$W/r.json" "$W/r-bad.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1])); r["leaf_index"] += 1
open(sys.argv[2], "w").write(json.dumps(r))
EOF
expect "receipt with another leaf_index: exit 1" 1 "inclusion proof" -- iv --no-db "$KEY" --receipt "$W/r-bad.json"
expect "vigil receipt verify agrees (another leaf_index)" 1 "" -- "$VIGIL" receipt verify "$W/r-bad.json" --key "$KEY"
"$VIGIL" --data "$W/other" init >/dev/null && cp "$W/other/log-key.pub" "$W/other.pub"
expect "receipt checked with another log's key: exit 1" 1 "log_id" -- iv --no-db "$W/other.pub" --receipt "$W/r.json"

# --- a log of many batches: a tree head every 7 entries --------------------------
B="$W/batches"
"$VIGIL" --data "$B" init >/dev/null
"$VIGIL" --data "$B" import --batch 7 examples/events.jsonl >"$W/receipts-b.jsonl" 2>/dev/null
H="$(q "$B" 'SELECT count(*) FROM tree_heads')"
[ "$H" -gt 5 ] && ok "batched import signed $H tree heads" || bad "batched import signed $H tree heads"
cp "$B/log-key.pub" "$KEY.b"
expect "batched log: verify.py exits 0 (root at every head)" 0 "$H signed tree heads" -- iv "$B" "$KEY.b" --receipt "$W/receipts-b.jsonl"
LAST="$(q "$B" 'SELECT max(size) FROM tree_heads')"
PREV="$(q "$B" "SELECT max(size) FROM tree_heads WHERE size < $LAST")"

# --- tampered copies: verify.py and vigil verify must both exit 1 -----------------
# tamper NAME SOURCE_DIR GREP SQL: a copy of SOURCE_DIR altered by SQL
tamper() {
  local name="$1" src="$2" pat="$3" sql="$4" key="$KEY"
  [ "$src" = "$B" ] && key="$KEY.b"
  local T="$W/t$((pass + fail))"
  cp -r "$src" "$T"
  q "$T" "$sql" >/dev/null
  expect "$name: verify.py exits 1" 1 "$pat" -- iv "$T" "$key"
  expect "$name: vigil verify exits 1" 1 "" -- "$VIGIL" --data "$T" verify
  if [ -n "${SHOW:-}" ]; then iv "$T" "$key" 2>&1 | sed "s/^/     py: /"; "$VIGIL" --data "$T" verify 2>&1 | sed "s/^/     vigil: /"; fi
  LASTCOPY="$T"
}

tamper "one byte of entry 5's payload changed" "$D" "entry 5:" \
  "UPDATE ledger_entries SET payload = substr(payload, 1, 40) || CASE substr(payload, 41, 1) WHEN 'a' THEN 'b' ELSE 'a' END || substr(payload, 42) WHERE idx = 5"
tamper "entry 7's salt changed" "$D" "entry 7:" \
  "UPDATE ledger_entries SET salt = zeroblob(16) WHERE idx = 7"
tamper "newest entry and its tree head deleted (one batch)" "$D" "entry $((N - 1))" \
  "DELETE FROM ledger_entries WHERE idx = $((N - 1)); DELETE FROM tree_heads WHERE size = $N"
tamper "newest entry and its tree head deleted (many batches)" "$B" "tree-head file" \
  "DELETE FROM ledger_entries WHERE idx = $((N - 1)); DELETE FROM tree_heads WHERE size = $LAST"
tamper "whole last batch and its tree head deleted" "$B" "log cut back" \
  "DELETE FROM ledger_entries WHERE idx >= $PREV; DELETE FROM tree_heads WHERE size = $LAST"
# Section 8: with the tree-head file also put back to the previous head, only a
# receipt from the lost batch shows the cut.
rm "$LASTCOPY/tree-head.json"
expect "last batch cut and tree-head file removed: verify.py cannot tell (section 8)" 0 "intact" -- iv "$LASTCOPY" "$KEY.b"
tail -n 1 "$W/receipts-b.jsonl" >"$W/r-last.json"
expect "... but a receipt from the cut batch shows it: verify.py exits 1" 1 "entry $PREV onwards missing" -- iv "$LASTCOPY" "$KEY.b" --receipt "$W/r-last.json"
expect "... and vigil verify --receipts agrees" 1 "" -- "$VIGIL" --data "$LASTCOPY" verify --receipts "$W/r-last.json"
# The same cut, the tree-head file put back to the previous head (made here from
# the database's own signed row at that size): only a copy kept elsewhere shows it.
cp "$B/tree-head.json" "$W/tree-head-copy.json"
expect "intact batched log against a copy of its tree-head file: verify.py exits 0" 0 "intact" -- iv "$B" "$KEY.b" --tree-head "$W/tree-head-copy.json"
T="$W/cut-older-file"
cp -r "$B" "$T"
"$PY" - "$T" "$PREV" "$HERE" <<'EOF'
import sqlite3, sys, json, base64, hashlib, os
sys.path.insert(0, sys.argv[3])
import verify as v
d, prev = sys.argv[1], int(sys.argv[2])
c = sqlite3.connect(os.path.join(d, "vigil.sqlite"))
size, root, ts, sig = c.execute("SELECT size, root, timestamp_ms, signature FROM tree_heads WHERE size = ?", (prev,)).fetchone()
key = base64.b64decode(c.execute("SELECT value FROM meta WHERE key = 'log_key'").fetchone()[0])
c.executescript(f"DELETE FROM ledger_entries WHERE idx >= {prev}; DELETE FROM tree_heads WHERE size > {prev}")
c.commit()
json.dump({"format": "vigil-tree-head-v1", "log_id": hashlib.sha256(key).hexdigest(), "size": size,
           "root": base64.b64encode(root).decode(), "timestamp": v.rfc3339_ms(ts), "timestamp_ms": ts,
           "signature": base64.b64encode(sig).decode()}, open(os.path.join(d, "tree-head.json"), "w"), indent=2)
EOF
expect "last batch cut, tree-head file put back to the previous head: verify.py cannot tell (section 8)" 0 "tree-head file at size $PREV" -- iv "$T" "$KEY.b"
expect "... vigil verify --ledger-only cannot either" 0 "intact" -- "$VIGIL" --data "$T" verify --ledger-only
expect "... (full vigil verify does: the projection rows outlive the cut)" 1 "projection row" -- "$VIGIL" --data "$T" verify
expect "... but with a copy of the file kept elsewhere: verify.py exits 1" 1 "tree-head copy" -- iv "$T" "$KEY.b" --tree-head "$W/tree-head-copy.json"
expect "... and vigil verify --tree-head agrees" 1 "" -- "$VIGIL" --data "$T" verify --tree-head "$W/tree-head-copy.json"

tamper "a tree head's signature altered" "$B" "tree head $PREV:" \
  "UPDATE tree_heads SET signature = zeroblob(64) WHERE size = $PREV"
# Entry 3's header rewritten (still canonical), its stored leaf_hash recomputed to match.
tamper "entry 3's header rewritten, leaf_hash recomputed" "$D" "recomputed root" \
  "UPDATE ledger_entries SET header = replace(header, '\"schema\":1', '\"schema\":2') WHERE idx = 3"
"$PY" -c 'import sqlite3,sys,hashlib; c=sqlite3.connect(sys.argv[1]); h,=c.execute("SELECT header FROM ledger_entries WHERE idx=3").fetchone(); c.execute("UPDATE ledger_entries SET leaf_hash=? WHERE idx=3",(hashlib.sha256(b"\0"+h.encode()).digest(),)); c.commit()' "$LASTCOPY/vigil.sqlite"
expect "... verify.py names no stored leaf_hash mismatch, only the roots" 1 "tree head $N: recomputed root" -- iv "$LASTCOPY" "$KEY"
expect "... vigil verify still exits 1" 1 "" -- "$VIGIL" --data "$LASTCOPY" verify
tamper "entries 10 and 11 swapped" "$D" "entry 10:" \
  "UPDATE ledger_entries SET idx = -1 WHERE idx = 10; UPDATE ledger_entries SET idx = 10 WHERE idx = 11; UPDATE ledger_entries SET idx = 11 WHERE idx = -1"
tamper "entry 12 deleted (a gap)" "$D" "entry 12:" \
  "DELETE FROM ledger_entries WHERE idx = 12"

# A forged entry after the last signed tree head (section 3): a well-formed header
# at the next index, its payload digest and leaf hash right, but no signed head.
T="$W/forged"
cp -r "$D" "$T"
"$PY" - "$T/vigil.sqlite" "$HERE" <<'EOF'
import sqlite3, sys, json, hashlib, os
sys.path.insert(0, sys.argv[2])
import verify as v
c = sqlite3.connect(sys.argv[1])
n, = c.execute("SELECT count(*) FROM ledger_entries").fetchone()
h = json.loads(c.execute("SELECT header FROM ledger_entries WHERE idx = ?", (n - 1,)).fetchone()[0])
payload = v.canonicalize({"note": "added behind Vigil's back"})
salt = os.urandom(16)
h.update(index=n, id="018d0000-0000-7000-8000-0000000000ff", payload_sha256=hashlib.sha256(salt + payload).hexdigest())
header = v.canonicalize(h)
c.execute("INSERT INTO ledger_entries (idx, event_id, kind, header, payload, salt, leaf_hash) VALUES (?,?,?,?,?,?,?)",
          (n, h["id"], h["kind"], header.decode(), payload.decode(), salt, v.leaf_hash(header)))
c.commit()
EOF
expect "forged entry after the last signed tree head: verify.py exits 1" 1 "entry $N: after the largest signed tree head" -- iv "$T" "$KEY"
expect "forged entry after the last signed tree head: vigil verify exits 1" 1 "" -- "$VIGIL" --data "$T" verify --ledger-only

expect "forged entry after the last signed tree head: vigil verify (full) exits 1" 1 "" -- "$VIGIL" --data "$T" verify

# The key given must be the log's: another key fails every signature.
expect "another log's key: verify.py exits 1" 1 "signature" -- iv "$D" "$W/other.pub"

# Section 8: the log rewritten and re-signed with a new key (key files and
# meta.log_key replaced, tree-head file rewritten).  Checked with the new key, the
# header checks of section 1 are all that can fail; with the key held outside,
# every signature fails.  vigil verify refuses such a directory (exit 2: the
# database "belongs to a log signed with another key"), so it is only required
# not to say intact.
for mode in unsorted-subjects:"not sorted" non-canonical:"not in canonical form" big-integer:"beyond" agency:""; do
  m="${mode%%:*}" pat="${mode#*:}"
  T="$W/resign-$m"
  cp -r "$D" "$T"
  "$PY" "$HERE/resign.py" "$T" 40 "$m" "$W/$m.pub" || bad "resign.py $m"
  if [ -n "$pat" ]; then
    expect "re-signed, entry 40 $m: verify.py with the new key exits 1" 1 "entry 40: " -- iv "$T" "$W/$m.pub"
    expect "re-signed, entry 40 $m: ... naming the check" 1 "$pat" -- iv "$T" "$W/$m.pub"
  else
    expect "re-signed, entry 40 $m (canonical): verify.py with the new key cannot tell (section 8)" 0 "intact" -- iv "$T" "$W/$m.pub"
  fi
  expect "re-signed, entry 40 $m: verify.py with the held key exits 1" 1 "tree head $N: signature" -- iv "$T" "$KEY"
  expect_fail "re-signed, entry 40 $m: vigil verify does not say intact" -- "$VIGIL" --data "$T" verify
  expect_fail "re-signed, entry 40 $m: vigil verify --receipts does not say intact" -- "$VIGIL" --data "$T" verify --receipts "$W/receipts.jsonl"
done
expect "re-signed log and the receipts submitters hold: verify.py exits 1" 1 "is not this key's log" -- \
  iv "$W/resign-agency" "$W/agency.pub" --receipt "$W/receipts.jsonl"

# The kind column is "the header's kind (for queries; not hashed)" (section 6).
T="$W/kind"
cp -r "$D" "$T"
q "$T" "UPDATE ledger_entries SET kind = 'referral.submitted' WHERE idx = 2"
expect "kind column differs from the header's kind: verify.py exits 1" 1 "entry 2: kind column" -- iv "$T" "$KEY"
expect "kind column differs from the header's kind: vigil verify exits 1 naming the entry" 1 "entry 2 " -- "$VIGIL" --data "$T" verify
expect "kind column differs from the header's kind: ... naming the kind" 1 "kind" -- "$VIGIL" --data "$T" verify

# The receipts table keeps receipts for download again (section 6): one kept
# intact, one whose root was altered.
T="$W/stored-receipts"
cp -r "$D" "$T"
"$PY" - "$T/vigil.sqlite" "$W/receipts.jsonl" <<'EOF'
import json, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
lines = open(sys.argv[2]).read().splitlines()
good, altered = json.loads(lines[3]), json.loads(lines[4])
altered["root"] = good["inclusion_proof"][0]
for r in (good, altered):
    c.execute("INSERT INTO receipts (event_id, receipt) VALUES (?, ?)", (r["event_id"], json.dumps(r, indent=2)))
c.commit()
EOF
ALTERED="$(sed -n 5p "$W/receipts.jsonl" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["event_id"])')"
KEPT="$(sed -n 4p "$W/receipts.jsonl" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["event_id"])')"
expect "a stored receipt altered: verify.py exits 1" 1 "stored receipt for $ALTERED" -- iv "$T" "$KEY"
expect "a stored receipt altered: vigil verify exits 1 naming its event" 1 "stored receipt of event $ALTERED" -- "$VIGIL" --data "$T" verify
q "$T" "DELETE FROM receipts WHERE event_id = '$ALTERED'"
expect "an intact stored receipt: verify.py exits 0" 0 "1 stored receipt(s)" -- iv "$T" "$KEY"
expect "an intact stored receipt: vigil verify exits 0" 0 "intact" -- "$VIGIL" --data "$T" verify
q "$T" "UPDATE receipts SET receipt = replace(receipt, '\"tree_size\": 114', '\"tree_size\": 113')" >/dev/null
expect "a stored receipt's tree_size altered: verify.py exits 1" 1 "stored receipt for" -- iv "$T" "$KEY"
expect "a stored receipt's tree_size altered: vigil verify exits 1 naming its event" 1 "stored receipt of event $KEPT" -- "$VIGIL" --data "$T" verify

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
