#!/usr/bin/env python3
"""Independent verifier for a Vigil log and Vigil receipts.

Written from docs/ledger-format.md alone (version 1 of the format), without
reading Vigil's code.  Python 3.11 standard library, plus `cryptography` for
Ed25519 only.

    verify.py DATA KEY [--receipt FILE]... [--payload FILE] [--tree-head FILE]...
    verify.py --no-db KEY --receipt FILE [--payload FILE]

DATA is a Vigil data directory (DATA/vigil.sqlite, DATA/tree-head.json);
KEY is the log's public key file (`vigil-log-key-v1 <base64>`), obtained
independently of DATA.  One line is printed on stdout per problem found,
naming the entry, tree head, receipt or file.  Exit 0: intact; 1: a problem;
2: could not run.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime as _dt
import hashlib
import json
import os
import re
import sqlite3
import stat
import sys
from typing import Any, Iterable

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:  # pragma: no cover
    print("verify.py: needs the `cryptography` package (pip install cryptography)", file=sys.stderr)
    sys.exit(2)

MAX_INT = 2**53 - 1
TREE_HEAD_DOMAIN = b"vigil-tree-head-v1\x00"  # 19 bytes (section 3)
SUBJECT_TYPE_ORDER = [
    "agency", "person", "object", "location", "link", "referral", "missing_episode",
    "placement", "allocation", "intelligence", "offence", "meeting", "case", "screening", "user",
    "access_log", "alert", "multi_agency_meeting",
]
PRECISIONS = {"exact", "day", "month", "year", "approximate"}
HEADER_FIELDS = {
    "v": int, "index": int, "id": str, "kind": str, "schema": int, "actor": dict,
    "agency": str, "recorded_at": str, "occurred_at": dict, "subjects": list,
    "payload_sha256": str,
}
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
RFC3339_MS_UTC_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
HEX64_RE = re.compile(r"^[0-9a-f]{64}$")


class CanonError(ValueError):
    pass


# ---------------------------------------------------------------- RFC 8785

def _reject_float(s: str) -> Any:
    raise CanonError(f"fractional or exponent number {s} (Vigil never records one)")


def _reject_constant(s: str) -> Any:
    raise CanonError(f"non-JSON constant {s}")


def _pairs(pairs: list[tuple[str, Any]]) -> dict:
    out: dict = {}
    for k, v in pairs:
        if k in out:
            raise CanonError(f"duplicate member name {k!r}")
        out[k] = v
    return out


def parse_json(data: bytes) -> Any:
    """Strict parse of the JSON Vigil uses: UTF-8, no duplicate names, integers only."""
    try:
        text = data.decode("utf-8", errors="strict")
    except UnicodeDecodeError as e:
        raise CanonError(f"not UTF-8 ({e})") from None
    try:
        return json.loads(text, parse_float=_reject_float, parse_constant=_reject_constant,
                          object_pairs_hook=_pairs)
    except json.JSONDecodeError as e:
        raise CanonError(f"not JSON ({e})") from None


def _canon_string(s: str, out: list[str]) -> None:
    # RFC 8785 section 3.2.2.2 (the ECMAScript JSON.stringify string serialisation)
    out.append('"')
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif o < 0x20:
            out.append({0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r"}.get(o, f"\\u{o:04x}"))
        elif 0xD800 <= o <= 0xDFFF:
            raise CanonError("lone surrogate in string (not valid Unicode)")
        else:
            out.append(ch)
    out.append('"')


def _canon(v: Any, out: list[str]) -> None:
    if v is None:
        out.append("null")
    elif v is True:
        out.append("true")
    elif v is False:
        out.append("false")
    elif isinstance(v, int):
        if abs(v) > MAX_INT:
            raise CanonError(f"integer {v} beyond +-(2^53 - 1)")
        out.append(str(v))
    elif isinstance(v, str):
        _canon_string(v, out)
    elif isinstance(v, list):
        out.append("[")
        for i, x in enumerate(v):
            if i:
                out.append(",")
            _canon(x, out)
        out.append("]")
    elif isinstance(v, dict):
        out.append("{")
        # member names sorted by their UTF-16 code units; UTF-16BE byte order is the same order
        for i, k in enumerate(sorted(v, key=lambda k: k.encode("utf-16-be", "surrogatepass"))):
            if i:
                out.append(",")
            _canon_string(k, out)
            out.append(":")
            _canon(v[k], out)
        out.append("}")
    else:
        raise CanonError(f"unsupported JSON value {type(v).__name__}")


def canonicalize(v: Any) -> bytes:
    out: list[str] = []
    _canon(v, out)
    return "".join(out).encode("utf-8")


def check_canonical(data: bytes) -> Any:
    """Parse DATA and check it re-canonicalises to the same bytes; returns the value."""
    v = parse_json(data)
    c = canonicalize(v)
    if c != data:
        # say where the first difference is
        i = next((j for j in range(min(len(c), len(data))) if c[j] != data[j]), min(len(c), len(data)))
        raise CanonError(f"not in canonical form (first difference at byte {i})")
    return v


# ---------------------------------------------------------------- RFC 9162 Merkle tree

def sha256(*parts: bytes) -> bytes:
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
    return h.digest()


def leaf_hash(entry: bytes) -> bytes:
    return sha256(b"\x00", entry)


def node_hash(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01", left, right)


def mth(leaves: list[bytes]) -> bytes:
    """MTH over a list of leaf hashes, straight from the definition (section 2)."""
    n = len(leaves)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


class IncrementalTree:
    """Roots at every size, in O(log n) per leaf: a stack of perfect subtrees."""

    def __init__(self) -> None:
        self.size = 0
        self.stack: list[tuple[int, bytes]] = []  # (height, hash), heights strictly decreasing

    def append(self, lh: bytes) -> None:
        h, node = 0, lh
        while self.stack and self.stack[-1][0] == h:
            _, left = self.stack.pop()
            node = node_hash(left, node)
            h += 1
        self.stack.append((h, node))
        self.size += 1

    def root(self) -> bytes:
        if not self.stack:
            return sha256(b"")
        acc = self.stack[-1][1]
        for _, left in reversed(self.stack[:-1]):
            acc = node_hash(left, acc)
        return acc


def verify_inclusion(leaf_index: int, tree_size: int, lh: bytes, proof: list[bytes], root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2."""
    if leaf_index >= tree_size or leaf_index < 0:
        return False
    fn, sn = leaf_index, tree_size - 1
    r = lh
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


# ---------------------------------------------------------------- tree heads, keys, times

def tree_head_bytes(size: int, timestamp_ms: int, root: bytes) -> bytes:
    return TREE_HEAD_DOMAIN + size.to_bytes(8, "big", signed=False) + \
        timestamp_ms.to_bytes(8, "big", signed=True) + root


def sig_ok(key: Ed25519PublicKey, size: int, timestamp_ms: int, root: bytes, sig: bytes) -> bool:
    if not (0 <= size < 2**64) or not (-(2**63) <= timestamp_ms < 2**63) or len(root) != 32 or len(sig) != 64:
        return False
    try:
        key.verify(sig, tree_head_bytes(size, timestamp_ms, root))
        return True
    except InvalidSignature:
        return False


def rfc3339_ms(ms: int) -> str:
    epoch = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
    t = epoch + _dt.timedelta(milliseconds=ms)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def b64(s: Any, what: str, length: int | None = None) -> bytes:
    """Standard base64 with padding (section 5)."""
    if not isinstance(s, str):
        raise ValueError(f"{what} is not a base64 string")
    try:
        b = base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{what} is not standard base64 with padding") from None
    if base64.b64encode(b).decode() != s:
        raise ValueError(f"{what} is not standard base64 with padding")
    if length is not None and len(b) != length:
        raise ValueError(f"{what} is {len(b)} bytes, not {length}")
    return b


def read_key_file(path: str) -> bytes:
    with open(path, "rb") as f:
        text = f.read().decode("utf-8")
    lines = [l for l in text.splitlines() if l.strip()]
    if len(lines) != 1:
        raise ValueError(f"{path}: expected one line `vigil-log-key-v1 <base64>`")
    parts = lines[0].split()
    if len(parts) != 2 or parts[0] != "vigil-log-key-v1":
        raise ValueError(f"{path}: expected `vigil-log-key-v1 <base64>`")
    return b64(parts[1], f"{path}: the key", 32)


# ---------------------------------------------------------------- reporting

class Report:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, msg: str) -> None:
        self.problems.append(msg)
        print(msg, flush=True)

    def note(self, msg: str) -> None:
        print(f"note: {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- one entry

def check_header(idx: int, header_bytes: bytes, rep: Report) -> dict | None:
    """Section 1, checks 1-3, plus the field table. Returns the parsed header or None."""
    name = f"entry {idx}"
    try:
        h = check_canonical(header_bytes)
    except CanonError as e:
        rep.problem(f"{name}: header {e}")
        try:
            h = parse_json(header_bytes)
        except CanonError:
            return None
    if not isinstance(h, dict):
        rep.problem(f"{name}: header is not a JSON object")
        return None
    for field, typ in HEADER_FIELDS.items():
        if field not in h:
            rep.problem(f"{name}: header has no `{field}`")
        elif typ is int and (not isinstance(h[field], int) or isinstance(h[field], bool)):
            rep.problem(f"{name}: header `{field}` is not an integer")
        elif typ is not int and not isinstance(h[field], typ):
            rep.problem(f"{name}: header `{field}` is not a {typ.__name__}")
    src = h.get("source")
    if "source" in h:
        if not isinstance(src, dict) or not isinstance(src.get("system"), str) \
                or not isinstance(src.get("recorded_at"), str) \
                or set(src) - {"system", "recorded_at", "reference"}:
            rep.problem(f"{name}: header `source` is not {{system, recorded_at[, reference]}}")
        elif not RFC3339_MS_UTC_RE.match(src["recorded_at"]):
            rep.problem(f"{name}: header `source.recorded_at` is not RFC 3339 UTC with milliseconds")
    extra = sorted(set(h) - set(HEADER_FIELDS) - {"source"})
    if extra:
        rep.note(f"{name}: header has fields the format does not list: {', '.join(extra)}")
    if h.get("v") != 1 and isinstance(h.get("v"), int):
        rep.problem(f"{name}: header `v` is {h.get('v')}, not 1")
    if isinstance(h.get("index"), int) and h["index"] != idx:
        rep.problem(f"{name}: header `index` is {h['index']}, not its position {idx}")
    if isinstance(h.get("id"), str) and not UUID_RE.match(h["id"]):
        rep.problem(f"{name}: header `id` {h['id']!r} is not a lower-case UUID")
    actor = h.get("actor")
    if isinstance(actor, dict) and not (isinstance(actor.get("user"), str) and isinstance(actor.get("role"), str)):
        rep.problem(f"{name}: header `actor` is not {{\"user\": ..., \"role\": ...}}")
    if isinstance(h.get("recorded_at"), str) and not RFC3339_MS_UTC_RE.match(h["recorded_at"]):
        rep.problem(f"{name}: header `recorded_at` {h['recorded_at']!r} is not RFC 3339 UTC with milliseconds")
    occ = h.get("occurred_at")
    if isinstance(occ, dict) and not (isinstance(occ.get("value"), str) and occ.get("precision") in PRECISIONS):
        rep.problem(f"{name}: header `occurred_at` is not {{\"value\": ..., \"precision\": exact/day/month/year/approximate}}")
    if isinstance(h.get("payload_sha256"), str) and not HEX64_RE.match(h["payload_sha256"]):
        rep.problem(f"{name}: header `payload_sha256` is not 64 lower-case hex digits")
    subjects = h.get("subjects")
    if isinstance(subjects, list):
        keys = []
        ok = True
        for s in subjects:
            if not (isinstance(s, dict) and isinstance(s.get("type"), str) and isinstance(s.get("id"), str)):
                rep.problem(f"{name}: a subject is not {{\"type\": ..., \"id\": ...}}")
                ok = False
                break
            if s["type"] not in SUBJECT_TYPE_ORDER:
                rep.problem(f"{name}: subject type {s['type']!r} is not one the format lists")
                ok = False
                break
            if not UUID_RE.match(s["id"]):
                rep.problem(f"{name}: subject id {s['id']!r} is not a lower-case hyphenated UUID")
                ok = False
                break
            keys.append((SUBJECT_TYPE_ORDER.index(s["type"]), bytes.fromhex(s["id"].replace("-", ""))))
        if ok:
            for a, b in zip(keys, keys[1:]):
                if a == b:
                    rep.problem(f"{name}: `subjects` lists a subject twice")
                    break
                if a > b:
                    rep.problem(f"{name}: `subjects` is not sorted by type order then id")
                    break
    return h


# ---------------------------------------------------------------- receipts

RECEIPT_FIELDS = ["format", "log_id", "event_id", "entry", "leaf_index", "leaf_hash", "tree_size",
                  "root", "timestamp", "timestamp_ms", "inclusion_proof", "signature"]


def load_receipts(path: str) -> list[Any]:
    with open(path, "rb") as f:
        text = f.read().decode("utf-8")
    try:
        return [json.loads(text)]  # one receipt (possibly pretty-printed)
    except json.JSONDecodeError:
        return [json.loads(l) for l in text.splitlines() if l.strip()]


def check_receipt(r: Any, name: str, key: Ed25519PublicKey, log_id: str, rep: Report,
                  payload: bytes | None = None) -> dict | None:
    """Section 5, checks 1-6 (and 7-8 with a payload). Returns a summary when the receipt is valid."""
    n0 = len(rep.problems)
    if not isinstance(r, dict):
        rep.problem(f"{name}: not a JSON object")
        return None
    missing = [f for f in RECEIPT_FIELDS if f not in r]
    if missing:
        rep.problem(f"{name}: lacks {', '.join(missing)}")
        return None
    if r["format"] != "vigil-receipt-v1":
        rep.problem(f"{name}: format is {r['format']!r}, not vigil-receipt-v1")
    ints = all(isinstance(r[f], int) and not isinstance(r[f], bool) for f in ("leaf_index", "tree_size", "timestamp_ms"))
    if not ints:
        rep.problem(f"{name}: leaf_index, tree_size or timestamp_ms is not an integer")
        return None
    if not isinstance(r["entry"], str) or not isinstance(r["inclusion_proof"], list):
        rep.problem(f"{name}: entry is not a string or inclusion_proof not a list")
        return None
    try:
        lh = b64(r["leaf_hash"], "leaf_hash", 32)
        root = b64(r["root"], "root", 32)
        sig = b64(r["signature"], "signature", 64)
        proof = [b64(p, "an inclusion_proof hash", 32) for p in r["inclusion_proof"]]
        salt = b64(r["salt"], "salt", 16) if "salt" in r else None
    except ValueError as e:
        rep.problem(f"{name}: {e}")
        return None
    entry = r["entry"].encode("utf-8", "surrogatepass")
    # 1
    if r["log_id"] != log_id:
        rep.problem(f"{name}: log_id {r['log_id']} is not this key's log ({log_id})")
    # 2
    if leaf_hash(entry) != lh:
        rep.problem(f"{name}: leaf_hash is not SHA-256(0x00 || entry)")
    # 3
    if not verify_inclusion(r["leaf_index"], r["tree_size"], lh, proof, root):
        rep.problem(f"{name}: the inclusion proof does not take leaf_hash at {r['leaf_index']} to root for size {r['tree_size']}")
    # 4
    if not sig_ok(key, r["tree_size"], r["timestamp_ms"], root, sig):
        rep.problem(f"{name}: the signature is not a valid Ed25519 signature over the tree head")
    # 5
    try:
        expected_ts = rfc3339_ms(r["timestamp_ms"])
    except (OverflowError, ValueError):
        expected_ts = None
    if r["timestamp"] != expected_ts:
        rep.problem(f"{name}: timestamp {r['timestamp']!r} is not timestamp_ms written as RFC 3339 UTC ({expected_ts})")
    # 6 (and the header is the kind of header section 1 describes)
    try:
        h = parse_json(entry)
    except CanonError as e:
        rep.problem(f"{name}: entry {e}")
        h = None
    if isinstance(h, dict):
        if h.get("index") != r["leaf_index"]:
            rep.problem(f"{name}: the entry's index {h.get('index')} is not leaf_index {r['leaf_index']}")
        if h.get("id") != r["event_id"]:
            rep.problem(f"{name}: the entry's id {h.get('id')} is not event_id {r['event_id']}")
    elif h is not None:
        rep.problem(f"{name}: entry is not a JSON object")
    # 7, 8
    if payload is not None:
        try:
            check_canonical(payload)
        except CanonError as e:
            rep.problem(f"{name}: the payload file is {e}")
        if salt is None:
            rep.problem(f"{name}: has no salt (an older receipt), so the payload cannot be checked")
        elif isinstance(h, dict) and hashlib.sha256(salt + payload).hexdigest() != h.get("payload_sha256"):
            rep.problem(f"{name}: SHA-256(salt || payload file) is not the entry's payload_sha256")
    if len(rep.problems) != n0:
        return None
    return {"leaf_index": r["leaf_index"], "leaf_hash": lh, "tree_size": r["tree_size"], "root": root,
            "salt": salt, "header": h, "event_id": r["event_id"]}


# ---------------------------------------------------------------- the log

def check_tree_head_file(path: str, name: str, key: Ed25519PublicKey, log_id: str, rep: Report) -> dict | None:
    try:
        with open(path, "rb") as f:
            th = json.loads(f.read().decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        rep.problem(f"{name}: cannot be read as JSON ({e})")
        return None
    if not isinstance(th, dict):
        rep.problem(f"{name}: not a JSON object")
        return None
    n0 = len(rep.problems)
    for f in ("format", "log_id", "size", "root", "timestamp", "timestamp_ms", "signature"):
        if f not in th:
            rep.problem(f"{name}: lacks `{f}`")
    if len(rep.problems) != n0:
        return None
    if th["format"] != "vigil-tree-head-v1":
        rep.problem(f"{name}: format is {th['format']!r}, not vigil-tree-head-v1")
    if th["log_id"] != log_id:
        rep.problem(f"{name}: log_id {th['log_id']} is not this key's log ({log_id})")
    if not all(isinstance(th[f], int) and not isinstance(th[f], bool) for f in ("size", "timestamp_ms")):
        rep.problem(f"{name}: size or timestamp_ms is not an integer")
        return None
    try:
        root = b64(th["root"], "root", 32)
        sig = b64(th["signature"], "signature", 64)
    except ValueError as e:
        rep.problem(f"{name}: {e}")
        return None
    if not sig_ok(key, th["size"], th["timestamp_ms"], root, sig):
        rep.problem(f"{name}: the signature is not a valid Ed25519 signature over its tree head (size {th['size']})")
    try:
        ts = rfc3339_ms(th["timestamp_ms"])
    except (OverflowError, ValueError):
        ts = None
    if th["timestamp"] != ts:
        rep.problem(f"{name}: timestamp {th['timestamp']!r} is not timestamp_ms as RFC 3339 UTC ({ts})")
    if len(rep.problems) != n0:
        return None
    return {"size": th["size"], "root": root, "timestamp_ms": th["timestamp_ms"], "signature": sig}


def verify_log(data_dir: str, key_bytes: bytes, key: Ed25519PublicKey, log_id: str, rep: Report,
               receipts: list[dict], tree_head_copies: list[str]) -> None:
    db_path = os.path.join(data_dir, "vigil.sqlite")
    if not os.path.exists(db_path):
        raise RuntimeError(f"{db_path}: no such database")
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, isolation_level=None)
    con.text_factory = bytes  # header and payload exactly as stored
    con.execute("BEGIN")  # one snapshot for every read
    try:
        meta = {k.decode(): v.decode() for k, v in con.execute("SELECT key, value FROM meta")}
        entries = con.execute(
            "SELECT idx, event_id, kind, header, payload, salt, leaf_hash FROM ledger_entries ORDER BY idx").fetchall()
        heads = con.execute("SELECT size, root, timestamp_ms, signature FROM tree_heads ORDER BY size").fetchall()
        stored_receipts = con.execute("SELECT event_id, receipt FROM receipts ORDER BY event_id").fetchall()
    finally:
        con.execute("COMMIT")
        con.close()

    # meta.log_key: the key the database says it was signed with
    if "log_key" not in meta:
        rep.problem("meta: no log_key row")
    elif meta["log_key"] != base64.b64encode(key_bytes).decode():
        rep.problem(f"meta: log_key {meta['log_key']} is not the key given ({base64.b64encode(key_bytes).decode()})")

    # Section 3 / 7.1: every tree head's signature
    head_list: list[tuple[int, bytes, int]] = []
    for size, root, ts, sig in heads:
        name = f"tree head {size}"
        if not isinstance(size, int) or not isinstance(ts, int) or not isinstance(root, bytes) or not isinstance(sig, bytes):
            rep.problem(f"{name}: a column has the wrong type")
            continue
        if len(root) != 32:
            rep.problem(f"{name}: root is {len(root)} bytes, not 32")
        if len(sig) != 64:
            rep.problem(f"{name}: signature is {len(sig)} bytes, not 64")
        if not sig_ok(key, size, ts, root, sig):
            rep.problem(f"{name}: signature is not a valid Ed25519 signature by the log key")
        head_list.append((size, root, ts))
    for (s1, _, t1), (s2, _, t2) in zip(head_list, head_list[1:]):
        if t2 < t1:
            rep.note(f"tree head {s2} is timestamped before tree head {s1}")

    # Section 1 / 7.2-7.3: the entries, from 0 with no gap
    leaf_hashes: list[bytes] = []
    ids: dict[str, int] = {}
    for pos, (idx, event_id, kind, header, payload, salt, stored_lh) in enumerate(entries):
        if idx != pos:
            rep.problem(f"entry {pos}: missing (the next stored index is {idx}); entries must run from 0 with no gap")
            break
        name = f"entry {idx}"
        if not isinstance(header, bytes):
            rep.problem(f"{name}: header is not text")
            break
        h = check_header(idx, header, rep)
        lh = leaf_hash(header)
        leaf_hashes.append(lh)
        if stored_lh != lh:
            rep.problem(f"{name}: stored leaf_hash is not SHA-256(0x00 || header)")
        if h is not None:
            eid = event_id.decode() if isinstance(event_id, bytes) else event_id
            if h.get("id") != eid:
                rep.problem(f"{name}: event_id column {eid!r} is not the header's id {h.get('id')!r}")
            k = kind.decode() if isinstance(kind, bytes) else kind
            if h.get("kind") != k:
                rep.problem(f"{name}: kind column {k!r} is not the header's kind {h.get('kind')!r}")
            if isinstance(h.get("id"), str):
                if h["id"] in ids:
                    rep.problem(f"{name}: event id {h['id']} was already used by entry {ids[h['id']]}")
                ids.setdefault(h["id"], idx)
        if payload is None or salt is None:
            rep.problem(f"{name}: payload or salt missing (erasure is not implemented: the entry is damaged)")
            continue
        if not isinstance(salt, bytes) or len(salt) != 16:
            rep.problem(f"{name}: salt is not 16 bytes")
        if not isinstance(payload, bytes):
            rep.problem(f"{name}: payload is not text")
            continue
        if h is not None and isinstance(salt, bytes) and \
                hashlib.sha256(salt + payload).hexdigest() != h.get("payload_sha256"):
            rep.problem(f"{name}: SHA-256(salt || payload) is not the header's payload_sha256 (payload or salt altered)")
        try:
            p = check_canonical(payload)
            if not isinstance(p, dict):
                rep.problem(f"{name}: payload is not a JSON object")
        except CanonError as e:
            rep.problem(f"{name}: payload {e}")
    n = len(leaf_hashes)

    # Roots at every size anyone signed: the heads in the database, the tree-head file,
    # copies of it, receipts.
    wanted: set[int] = {s for s, _, _ in head_list if 0 <= s <= n}
    file_path = os.path.join(data_dir, "tree-head.json")
    file_heads: list[tuple[str, dict]] = []
    if os.path.exists(file_path):
        mode = stat.S_IMODE(os.stat(file_path).st_mode)
        if mode & 0o077:
            rep.note(f"{file_path}: mode {mode:o}, not 0600")
        th = check_tree_head_file(file_path, f"tree-head file {file_path}", key, log_id, rep)
        if th:
            file_heads.append((f"tree-head file {file_path}", th))
    else:
        rep.note(f"no tree-head file {file_path}: the log could not be checked against it")
    for c in tree_head_copies:
        th = check_tree_head_file(c, f"tree-head copy {c}", key, log_id, rep)
        if th:
            file_heads.append((f"tree-head copy {c}", th))
    for _, th in file_heads:
        if th["size"] <= n:
            wanted.add(th["size"])
    for r in receipts:
        if r["tree_size"] <= n:
            wanted.add(r["tree_size"])
    roots: dict[int, bytes] = {}
    t = IncrementalTree()
    if 0 in wanted:
        roots[0] = t.root()
    for i, lh in enumerate(leaf_hashes):
        t.append(lh)
        if i + 1 in wanted:
            roots[i + 1] = t.root()

    # 7.4, 7.5
    for size, root, _ in head_list:
        if size > n:
            rep.problem(f"tree head {size}: signed for {size} entries but the log has {n}: "
                        f"entry {n} onwards missing")
        elif roots[size] != root:
            rep.problem(f"tree head {size}: recomputed root {roots[size].hex()} is not the signed root {root.hex()}")

    # 7.6 (section 3): every entry covered by a signed tree head
    largest = max((s for s, _, _ in head_list), default=0)
    if largest < n:
        which = f"entry {largest}" if n - largest == 1 else f"entries {largest} to {n - 1}"
        after = f"after the largest signed tree head ({largest})" if head_list else "covered by no signed tree head at all"
        rep.problem(f"{which}: {after}: put into the database behind Vigil's back")

    # 7.7: the tree-head file, copies of it, receipts
    by_size = {s: (r, ts) for s, r, ts in head_list}
    for name, th in file_heads:
        if th["size"] > n:
            rep.problem(f"{name}: holds a head of {th['size']} entries but the log has {n}: "
                        f"entry {n} onwards missing (log cut back)")
        elif roots[th["size"]] != th["root"]:
            rep.problem(f"{name}: the log's root at size {th['size']} is not the file's root: an entry before {th['size']} was rewritten")
        elif th["size"] not in by_size:
            rep.note(f"{name}: its head (size {th['size']}) is not among the database's tree heads")
    for r in receipts:
        name = r["name"]
        if r["tree_size"] > n:
            rep.problem(f"{name}: its tree head has {r['tree_size']} entries but the log has {n}: entry {n} onwards missing")
            continue
        if roots[r["tree_size"]] != r["root"]:
            rep.problem(f"{name}: the log's root at size {r['tree_size']} is not the receipt's root")
        li = r["leaf_index"]
        if li >= n or leaf_hashes[li] != r["leaf_hash"]:
            rep.problem(f"entry {li}: not the entry {name} holds (missing or not byte-identical)")
        elif r["salt"] is not None and isinstance(r["header"], dict):
            payload = entries[li][4]
            if isinstance(payload, bytes) and hashlib.sha256(r["salt"] + payload).hexdigest() != r["header"].get("payload_sha256"):
                rep.problem(f"entry {li}: {name}'s salt does not open payload_sha256 with the stored payload")

    # The receipts table: receipts kept for download (section 6)
    for eid, text in stored_receipts:
        e = eid.decode() if isinstance(eid, bytes) else eid
        name = f"stored receipt for {e}"
        try:
            rj = json.loads(text.decode("utf-8") if isinstance(text, bytes) else text)
        except (UnicodeDecodeError, json.JSONDecodeError):
            rep.problem(f"{name}: not JSON")
            continue
        s = check_receipt(rj, name, key, log_id, rep)
        if s is None:
            continue
        if s["event_id"] != e:
            rep.problem(f"{name}: its event_id is {s['event_id']}")
        li = s["leaf_index"]
        if li >= n or leaf_hashes[li] != s["leaf_hash"]:
            rep.problem(f"entry {li}: not the entry {name} holds (missing or not byte-identical)")
        elif s["tree_size"] <= n:
            if s["tree_size"] not in roots:
                t2 = IncrementalTree()
                for lh in leaf_hashes[: s["tree_size"]]:
                    t2.append(lh)
                roots[s["tree_size"]] = t2.root()
            if roots[s["tree_size"]] != s["root"]:
                rep.problem(f"{name}: the log's root at size {s['tree_size']} is not the receipt's root")
        else:
            rep.problem(f"{name}: its tree head has {s['tree_size']} entries but the log has {n}")

    if not rep.problems:
        root = roots.get(largest, sha256(b"")) if largest <= n else None
        fh = file_heads[0][1]["size"] if file_heads else None
        print(f"intact: {n} entries, {len(head_list)} signed tree heads, latest root "
              f"{root.hex() if root else '?'}, tree-head file at size {fh}, {len(receipts)} receipt(s) given, "
              f"{len(stored_receipts)} stored receipt(s); log {log_id}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Independent verifier for a Vigil log (docs/ledger-format.md)")
    ap.add_argument("data", nargs="?", help="Vigil data directory (holding vigil.sqlite and tree-head.json)")
    ap.add_argument("key", help="the log's public key file: `vigil-log-key-v1 <base64>`")
    ap.add_argument("--receipt", action="append", default=[], metavar="FILE",
                    help="a receipt file (one receipt, or one per line); may be repeated")
    ap.add_argument("--payload", metavar="FILE", help="the canonical payload of the (single) receipt given")
    ap.add_argument("--tree-head", action="append", default=[], metavar="FILE",
                    help="a copy of tree-head.json kept elsewhere; may be repeated")
    ap.add_argument("--no-db", action="store_true", help="check receipts with the key only")
    a = ap.parse_args(argv)
    if a.data is None and not a.no_db:
        ap.error("give a data directory, or --no-db")
    rep = Report()
    try:
        key_bytes = read_key_file(a.key)
        key = Ed25519PublicKey.from_public_bytes(key_bytes)
        log_id = hashlib.sha256(key_bytes).hexdigest()
        receipts: list[dict] = []
        raw = []
        for path in a.receipt:
            for i, r in enumerate(load_receipts(path)):
                raw.append((f"receipt {path}:{i + 1}" + (f" (event {r.get('event_id')})" if isinstance(r, dict) else ""), r))
        if a.payload is not None and len(raw) != 1:
            raise RuntimeError("--payload needs exactly one receipt")
        payload = open(a.payload, "rb").read() if a.payload else None
        for name, r in raw:
            s = check_receipt(r, name, key, log_id, rep, payload)
            if s is not None:
                s["name"] = name
                receipts.append(s)
        if a.no_db:
            if not rep.problems:
                print(f"valid: {len(raw)} receipt(s) verified against log {log_id}")
        else:
            verify_log(a.data, key_bytes, key, log_id, rep, receipts, a.tree_head)
    except (OSError, ValueError, RuntimeError, sqlite3.Error) as e:
        print(f"verify.py: could not run: {e}", file=sys.stderr)
        return 2
    return 1 if rep.problems else 0


if __name__ == "__main__":
    sys.exit(main())
