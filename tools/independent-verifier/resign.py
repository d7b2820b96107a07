#!/usr/bin/env python3
"""Test helper: rewrite one entry's header in a Vigil data directory and re-sign
the whole log with a NEW Ed25519 key (section 8: "with the signing key ...
rewrite any part of the log, re-sign every tree head and rewrite the file").

    resign.py DATA INDEX MODE NEWKEY_OUT

MODE: unsorted-subjects | non-canonical | big-integer | agency (a canonical change)
The new public key is written to NEWKEY_OUT and to DATA/log-key.pub, and to
meta.log_key; DATA/log-key.secret is left as it is.  Uses only the format as
docs/ledger-format.md describes it.
"""
import base64
import hashlib
import json
import os
import sqlite3
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import verify as v  # noqa: E402

data, index, mode, key_out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
con = sqlite3.connect(os.path.join(data, "vigil.sqlite"))
h = json.loads(con.execute("SELECT header FROM ledger_entries WHERE idx = ?", (index,)).fetchone()[0])
if mode == "unsorted-subjects":
    if len(h["subjects"]) < 2:
        sys.exit(f"entry {index} has fewer than two subjects")
    h["subjects"].reverse()
    header = v.canonicalize(h)
elif mode == "non-canonical":
    header = v.canonicalize(h).replace(b'"v":1', b'"v": 1')
elif mode == "big-integer":
    h["schema"] = 2**53
    header = json.dumps(h, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
elif mode == "agency":
    h["agency"] = "someone-else"
    header = v.canonicalize(h)
else:
    sys.exit(f"unknown mode {mode}")
con.execute("UPDATE ledger_entries SET header = ?, leaf_hash = ? WHERE idx = ?",
            (header.decode(), v.leaf_hash(header), index))

sk = Ed25519PrivateKey.generate()
pk = sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
leaves = [bytes(r[0]) for r in con.execute("SELECT leaf_hash FROM ledger_entries ORDER BY idx")]
last = None
for size, ts in con.execute("SELECT size, timestamp_ms FROM tree_heads ORDER BY size").fetchall():
    root = v.mth(leaves[:size])
    sig = sk.sign(v.tree_head_bytes(size, ts, root))
    con.execute("UPDATE tree_heads SET root = ?, signature = ? WHERE size = ?", (root, sig, size))
    last = (size, ts, root, sig)
con.execute("UPDATE meta SET value = ? WHERE key = 'log_key'", (base64.b64encode(pk).decode(),))
con.commit()
con.close()
line = f"vigil-log-key-v1 {base64.b64encode(pk).decode()}\n"
for p in (key_out, os.path.join(data, "log-key.pub")):
    with open(p, "w") as f:
        f.write(line)
size, ts, root, sig = last
with open(os.path.join(data, "tree-head.json"), "w") as f:
    json.dump({"format": "vigil-tree-head-v1", "log_id": hashlib.sha256(pk).hexdigest(), "size": size,
               "root": base64.b64encode(root).decode(), "timestamp": v.rfc3339_ms(ts), "timestamp_ms": ts,
               "signature": base64.b64encode(sig).decode()}, f, indent=2)
