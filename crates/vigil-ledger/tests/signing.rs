//! Signed tree heads, log keys and receipts.

use vigil_ledger::{
    leaf_hash, LogKey, LogSigner, MerkleTree, ProofError, Receipt, ReceiptError, SignatureError,
    SignedTreeHead, TreeHead, KEY_TEXT_TAG,
};

fn head(size: u64) -> TreeHead {
    TreeHead {
        size,
        root: leaf_hash(&size.to_be_bytes()),
        timestamp_ms: 1_709_460_000_123,
    }
}

#[test]
fn signed_tree_head_verifies_and_detects_changes() {
    let signer = LogSigner::generate();
    let key = signer.public_key();
    let sth = signer.sign_tree_head(&head(42));
    assert_eq!(sth.head, head(42));
    assert_eq!(key.verify_tree_head(&sth), Ok(()));

    let mut changed = sth.clone();
    changed.head.size += 1;
    assert_eq!(key.verify_tree_head(&changed), Err(SignatureError::Invalid));
    let mut changed = sth.clone();
    changed.head.root[31] ^= 1;
    assert!(key.verify_tree_head(&changed).is_err());
    let mut changed = sth.clone();
    changed.head.timestamp_ms -= 1;
    assert!(key.verify_tree_head(&changed).is_err());
    for byte in [0, 31, 32, 63] {
        let mut changed = sth.clone();
        changed.signature[byte] ^= 0x80;
        assert!(key.verify_tree_head(&changed).is_err(), "byte {byte}");
    }
    let other = LogSigner::generate().public_key();
    assert_ne!(other, key);
    assert!(other.verify_tree_head(&sth).is_err());
}

#[test]
fn signing_input_is_the_documented_encoding() {
    let h = TreeHead {
        size: 0x0102_0304_0506_0708,
        root: [0xab; 32],
        timestamp_ms: -2,
    };
    let mut want = b"vigil-tree-head-v1\0".to_vec();
    want.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
    want.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]);
    want.extend_from_slice(&[0xab; 32]);
    assert_eq!(h.signing_input(), want);
}

#[test]
fn secret_round_trip_gives_the_same_key() {
    let signer = LogSigner::generate();
    let again = LogSigner::from_secret_bytes(&signer.secret_bytes());
    assert_eq!(again.public_key(), signer.public_key());
    // A signature by the restored key verifies with the original public key.
    let sth = again.sign_tree_head(&head(3));
    assert_eq!(signer.public_key().verify_tree_head(&sth), Ok(()));
    // Debug output never shows the secret.
    let secret_hex = hex::encode(signer.secret_bytes());
    let debug = format!("{signer:?}");
    assert!(!debug.contains(&secret_hex));
    assert!(!debug.contains(&format!("{:?}", signer.secret_bytes())));
}

#[test]
fn tree_heads_serialise_with_base64() {
    let signer = LogSigner::from_secret_bytes(&[9; 32]);
    let sth = signer.sign_tree_head(&head(7));
    let json = serde_json::to_value(&sth).unwrap();
    assert_eq!(json["head"]["size"], 7);
    assert_eq!(json["head"]["timestamp_ms"], 1_709_460_000_123i64);
    let root_b64 = json["head"]["root"].as_str().unwrap();
    assert_eq!(root_b64.len(), 44);
    assert_eq!(json["signature"].as_str().unwrap().len(), 88);
    let back: SignedTreeHead = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(back, sth);
    assert_eq!(signer.public_key().verify_tree_head(&back), Ok(()));
    // Wrong-length base64 is refused when reading.
    let mut bad = json;
    bad["head"]["root"] = "AAAA".into();
    assert!(serde_json::from_value::<SignedTreeHead>(bad).is_err());
}

#[test]
fn key_text_round_trip() {
    let key = LogSigner::generate().public_key();
    let text = key.to_text();
    assert!(text.starts_with(&format!("{KEY_TEXT_TAG} ")));
    assert_eq!(text.trim_end().lines().count(), 1);
    assert_eq!(LogKey::from_text(&text), Ok(key.clone()));
    assert_eq!(
        LogKey::from_text(&format!("\n  {}  \r\n", text.trim())),
        Ok(key.clone())
    );
    assert_eq!(LogKey::from_text(&key.to_base64()), Ok(key.clone()));
    assert_eq!(
        LogKey::from_text(&format!(" {}\n", key.to_base64())),
        Ok(key.clone())
    );
    assert_eq!(LogKey::from_base64(&key.to_base64()), Ok(key.clone()));
    assert_eq!(key.log_id().len(), 64);
    assert!(key.log_id().chars().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(key.log_id(), LogSigner::generate().public_key().log_id());
}

#[test]
fn hostile_key_input_is_an_error_not_a_panic() {
    let good = LogSigner::generate().public_key().to_base64();
    let huge = "A".repeat(10_000_000);
    let inputs = [
        String::new(),
        "   \n\t ".to_owned(),
        huge.clone(),
        format!("{KEY_TEXT_TAG} {huge}"),
        "not base64 at all!".to_owned(),
        "AAAA".to_owned(),
        "A".repeat(44), // right length, bad padding
        format!("{good}{good}"),
        format!("other-tag {good}"),
        format!("{KEY_TEXT_TAG} {good} extra"),
        format!("{KEY_TEXT_TAG}\n{good}"),
        format!("{KEY_TEXT_TAG} "),
        "\u{1F600}".repeat(40),
        format!("{}=", "\u{e9}".repeat(21)),
        // 32 zero bytes: a weak (small-order) point.
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".to_owned(),
        // The identity point: weak.
        "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".to_owned(),
        // y = 2^255 - 1: not on the curve.
        "////////////////////////////////////////////".to_owned(),
    ];
    for input in &inputs {
        let shown: String = input.chars().take(60).collect();
        assert!(
            LogKey::from_text(input).is_err(),
            "from_text accepted {shown:?}"
        );
        assert!(
            LogKey::from_base64(input).is_err(),
            "from_base64 accepted {shown:?}"
        );
    }
    // Errors say something useful.
    let e = LogKey::from_text(&format!("other-tag {good}")).unwrap_err();
    assert!(e.to_string().contains("other-tag"), "{e}");
    assert!(!LogKey::from_text("").unwrap_err().to_string().is_empty());
}

// ---- receipts ----

struct Log {
    signer: LogSigner,
    tree: MerkleTree,
    entries: Vec<String>,
}

fn log(n: usize) -> Log {
    let entries: Vec<String> = (0..n)
        .map(|i| format!(r#"{{"id":"0190-{i:04}","kind":"referral.submitted","n":{i}}}"#))
        .collect();
    Log {
        signer: LogSigner::from_secret_bytes(&[7; 32]),
        tree: MerkleTree::from_leaf_hashes(entries.iter().map(|e| leaf_hash(e.as_bytes()))),
        entries,
    }
}

fn receipt(log: &Log, index: usize, size: u64) -> Receipt {
    let sth = log.signer.sign_tree_head(&TreeHead {
        size,
        root: log.tree.root_at(size).unwrap(),
        timestamp_ms: 1_709_460_000_123,
    });
    Receipt::issue(
        &log.signer,
        &log.tree,
        &sth,
        index as u64,
        &format!("0190-{index:04}"),
        &log.entries[index],
    )
    .unwrap()
}

#[test]
fn receipt_round_trips_through_json_and_verifies() {
    let log = log(23);
    let key = log.signer.public_key();
    for (index, size) in [(0, 1), (5, 23), (22, 23), (10, 17)] {
        let r = receipt(&log, index, size);
        assert_eq!(r.format, "vigil-receipt-v1");
        assert_eq!(r.log_id, key.log_id());
        assert_eq!(r.timestamp, "2024-03-03T10:00:00.123Z");
        assert_eq!(r.verify(&key), Ok(()));
        let json = serde_json::to_string_pretty(&r).unwrap();
        let back: Receipt = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.verify(&key), Ok(()));
    }
}

#[test]
fn tampered_receipts_fail() {
    let log = log(23);
    let key = log.signer.public_key();
    let good = receipt(&log, 5, 20);
    let other = receipt(&log, 6, 21);

    type Tamper = fn(&mut Receipt, &Receipt);
    let cases: Vec<(&str, Tamper)> = vec![
        ("format", |r, _| r.format = "vigil-receipt-v2".into()),
        ("entry text", |r, _| {
            r.entry = r.entry.replace("submitted", "withdrawn")
        }),
        ("entry trailing space", |r, _| r.entry.push(' ')),
        ("entry swapped", |r, o| r.entry = o.entry.clone()),
        ("leaf_hash", |r, o| r.leaf_hash = o.leaf_hash.clone()),
        ("leaf_index +1", |r, _| r.leaf_index += 1),
        ("leaf_index -1", |r, _| r.leaf_index -= 1),
        ("leaf_index huge", |r, _| r.leaf_index = u64::MAX),
        ("tree_size +1", |r, _| r.tree_size += 1),
        ("tree_size -1", |r, _| r.tree_size -= 1),
        ("tree_size 0", |r, _| r.tree_size = 0),
        ("root", |r, o| r.root = o.root.clone()),
        ("root not base64", |r, _| r.root = "not base64".into()),
        ("proof element", |r, o| {
            r.inclusion_proof[1] = o.inclusion_proof[1].clone()
        }),
        ("proof element dropped", |r, _| {
            r.inclusion_proof.pop();
        }),
        ("proof element added", |r, o| {
            r.inclusion_proof.push(o.root.clone())
        }),
        ("proof flood", |r, _| {
            r.inclusion_proof = vec![r.root.clone(); 10_000]
        }),
        ("signature", |r, o| r.signature = o.signature.clone()),
        ("signature truncated", |r, _| r.signature.truncate(40)),
        ("timestamp", |r, _| {
            r.timestamp = "2024-03-03T10:00:01.123Z".into()
        }),
        ("timestamp garbage", |r, _| r.timestamp = "yesterday".into()),
        ("timestamp_ms", |r, _| r.timestamp_ms += 1),
        ("log_id", |r, _| r.log_id = "00".repeat(32)),
        ("proof from another receipt", |r, o| {
            r.inclusion_proof = o.inclusion_proof.clone();
        }),
    ];
    for (what, tamper) in cases {
        let mut r = good.clone();
        tamper(&mut r, &other);
        assert_ne!(r, good, "{what}: tamper did nothing");
        let err = r.verify(&key).expect_err(what);
        assert!(!err.to_string().is_empty());
    }

    // Errors name what failed.
    let mut r = good.clone();
    r.entry.push(' ');
    assert_eq!(r.verify(&key), Err(ReceiptError::EntryMismatch));
    let mut r = good.clone();
    r.timestamp = "2024-03-03T10:00:01.123Z".into();
    assert!(matches!(
        r.verify(&key),
        Err(ReceiptError::TimestampMismatch { .. })
    ));
    let mut r = good.clone();
    r.signature = other.signature.clone();
    assert!(matches!(r.verify(&key), Err(ReceiptError::Signature(_))));
    let mut r = good.clone();
    r.root = other.root.clone();
    assert!(matches!(r.verify(&key), Err(ReceiptError::Inclusion(_))));
    let mut r = good.clone();
    r.log_id = "00".repeat(32);
    assert!(matches!(r.verify(&key), Err(ReceiptError::WrongLog { .. })));

    // Equivalent RFC 3339 spellings of the same instant are accepted.
    let mut r = good.clone();
    r.timestamp = r.timestamp.replace('Z', "+00:00");
    assert_eq!(r.verify(&key), Ok(()));

    // Another log's key refuses it, even with the log id forged to match.
    let stranger = LogSigner::generate().public_key();
    assert!(matches!(
        good.verify(&stranger),
        Err(ReceiptError::WrongLog { .. })
    ));
    let mut r = good.clone();
    r.log_id = stranger.log_id();
    assert!(matches!(
        r.verify(&stranger),
        Err(ReceiptError::Signature(_))
    ));
}

#[test]
fn issue_refuses_what_would_not_verify() {
    let log = log(10);
    let sth = log.signer.sign_tree_head(&TreeHead {
        size: 8,
        root: log.tree.root_at(8).unwrap(),
        timestamp_ms: 0,
    });
    let issue = |signer: &LogSigner, sth: &SignedTreeHead, index: u64, entry: &str| {
        Receipt::issue(signer, &log.tree, sth, index, "id", entry)
    };
    assert!(issue(&log.signer, &sth, 3, &log.entries[3]).is_ok());
    assert_eq!(
        issue(&log.signer, &sth, 3, &log.entries[4]),
        Err(ProofError::LeafMismatch { index: 3 })
    );
    assert_eq!(
        issue(&log.signer, &sth, 8, &log.entries[8]),
        Err(ProofError::IndexOutOfRange { index: 8, size: 8 })
    );
    assert_eq!(
        issue(&LogSigner::generate(), &sth, 3, &log.entries[3]),
        Err(ProofError::TreeHeadNotSigned)
    );
    let wrong_root = log.signer.sign_tree_head(&TreeHead {
        size: 8,
        root: log.tree.root_at(7).unwrap(),
        timestamp_ms: 0,
    });
    assert_eq!(
        issue(&log.signer, &wrong_root, 3, &log.entries[3]),
        Err(ProofError::TreeHeadMismatch { size: 8 })
    );
    let too_big = log.signer.sign_tree_head(&TreeHead {
        size: 11,
        root: log.tree.root(),
        timestamp_ms: 0,
    });
    assert_eq!(
        issue(&log.signer, &too_big, 3, &log.entries[3]),
        Err(ProofError::SizeBeyondTree {
            size: 11,
            tree_size: 10
        })
    );
    let far_future = log.signer.sign_tree_head(&TreeHead {
        timestamp_ms: i64::MAX,
        ..sth.head
    });
    assert_eq!(
        issue(&log.signer, &far_future, 3, &log.entries[3]),
        Err(ProofError::TimestampOutOfRange {
            timestamp_ms: i64::MAX
        })
    );
}
