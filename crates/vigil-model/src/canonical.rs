//! Canonical JSON (RFC 8785, JSON Canonicalization Scheme) for the values Vigil hashes.
//!
//! Every hash in the ledger is taken over canonical JSON so that an auditor can
//! recompute it with any JCS implementation and no Vigil code. We write the
//! encoder here rather than depend on a crate because it is short, because the
//! available crates are thinly maintained, and because it must not change
//! behaviour with cargo feature unification (serde_json's `preserve_order`
//! would silently change key order if anything in the build enabled it).
//!
//! Vigil's event payloads never contain floating-point numbers (coordinates and
//! amounts are strings or integers), so the one hard part of RFC 8785, number
//! serialisation, reduces to integers; a float is rejected rather than encoded
//! in a way another implementation might not reproduce. Integers are limited
//! to the range I-JSON (RFC 7493) and RFC 8785 allow, magnitude at most
//! 2^53 - 1: beyond it RFC 8785 writes a number as an IEEE 754 double would
//! print it (`9007199254740993` becomes `9007199254740992`), which our decimal
//! output would not match, and many JSON parsers silently round it.

use serde::Serialize;
use serde_json::Value;
use std::fmt::Write as _;

/// Why a value could not be put in canonical form.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CanonicalError {
    #[error(
        "numbers with a fractional part or exponent cannot be recorded ({0}); write it as text"
    )]
    Float(String),
    #[error("the value could not be encoded: {0}")]
    Encode(String),
    #[error(
        "the number {0} is too large to be recorded exactly (the limit is 9007199254740991, 2^53 - 1); write it as text"
    )]
    TooLarge(String),
}

/// Largest integer magnitude canonical JSON holds: 2^53 - 1.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Serialises `value` to RFC 8785 canonical JSON.
pub fn to_canonical_string<T: Serialize + ?Sized>(value: &T) -> Result<String, CanonicalError> {
    let v = serde_json::to_value(value).map_err(|e| CanonicalError::Encode(e.to_string()))?;
    canonical_value(&v)
}

/// Canonical form of an already-built JSON value.
pub fn canonical_value(value: &Value) -> Result<String, CanonicalError> {
    let mut out = String::with_capacity(256);
    write_value(&mut out, value)?;
    Ok(out)
}

fn write_value(out: &mut String, value: &Value) -> Result<(), CanonicalError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                if i.unsigned_abs() > MAX_SAFE_INTEGER {
                    return Err(CanonicalError::TooLarge(i.to_string()));
                }
                write!(out, "{i}").expect("writing to a String cannot fail");
            } else if let Some(u) = n.as_u64() {
                return Err(CanonicalError::TooLarge(u.to_string()));
            } else {
                return Err(CanonicalError::Float(n.to_string()));
            }
        }
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            // RFC 8785 §3.2.3: members sorted by the UTF-16 code units of their names.
            // ASCII names already in increasing byte order (a BTreeMap's order,
            // and every struct field name) are in that order: for ASCII the
            // code units are the bytes. Anything else is sorted.
            let mut prev: Option<&str> = None;
            let in_order = map.keys().all(|k| {
                let ok = k.is_ascii() && prev.is_none_or(|p| p < k.as_str());
                prev = Some(k);
                ok
            });
            if in_order {
                out.push('{');
                for (i, (key, v)) in map.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(out, key);
                    out.push(':');
                    write_value(out, v)?;
                }
                out.push('}');
                return Ok(());
            }
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_value(out, &map[key])?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// RFC 8785 §3.2.2.2: escape only `"`, `\` and control characters, using the
/// short forms where JSON has them and lower-case `\u00xx` otherwise.
pub(crate) fn write_string(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    // Copied in runs between the bytes that need escaping: those are all
    // ASCII, and no byte of a multi-byte UTF-8 character is below 0x80, so
    // each run starts and ends on a character boundary.
    let mut run = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x09 => "\\t",
            0x0A => "\\n",
            0x0C => "\\f",
            0x0D => "\\r",
            b if b < 0x20 => "",
            _ => continue,
        };
        out.push_str(&s[run..i]);
        if escape.is_empty() {
            write!(out, "\\u{:04x}", b).expect("writing to a String cannot fail");
        } else {
            out.push_str(escape);
        }
        run = i + 1;
    }
    out.push_str(&s[run..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorts_keys_and_drops_whitespace() {
        let v = json!({"b": 1, "a": [true, null, "x"], "c": {"z": 0, "y": -5}});
        assert_eq!(
            canonical_value(&v).unwrap(),
            r#"{"a":[true,null,"x"],"b":1,"c":{"y":-5,"z":0}}"#
        );
    }

    #[test]
    fn rfc8785_sort_order_uses_utf16_code_units() {
        // From RFC 8785 §3.2.3: U+1F600 (surrogates D83D DE00) sorts before U+FB33 in UTF-16
        // although it is after it in UTF-8 byte order.
        let v = json!({"\u{fb33}": 1, "\u{1f600}": 2, "\r": 3, "1": 4});
        assert_eq!(
            canonical_value(&v).unwrap(),
            "{\"\\r\":3,\"1\":4,\"\u{1f600}\":2,\"\u{fb33}\":1}"
        );
    }

    #[test]
    fn escapes_controls_lowercase_and_leaves_unicode() {
        let v = json!("a\"b\\c\u{1}\u{1f}é/\u{7f}");
        assert_eq!(
            canonical_value(&v).unwrap(),
            "\"a\\\"b\\\\c\\u0001\\u001fé/\u{7f}\""
        );
    }

    #[test]
    fn strings_are_escaped_as_one_character_at_a_time() {
        // The escaping as first written, character by character.
        fn reference(s: &str) -> String {
            let mut out = String::from('"');
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\u{08}' => out.push_str("\\b"),
                    '\u{09}' => out.push_str("\\t"),
                    '\u{0A}' => out.push_str("\\n"),
                    '\u{0C}' => out.push_str("\\f"),
                    '\u{0D}' => out.push_str("\\r"),
                    c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                    c => out.push(c),
                }
            }
            out.push('"');
            out
        }
        let every_ascii: String = (0u8..0x80).map(char::from).collect();
        let mixed = format!("é{every_ascii}\u{1f600}\u{fb33}\"\u{7f}\u{80}x\\");
        for s in [
            every_ascii.as_str(),
            mixed.as_str(),
            "",
            "plain",
            "\u{1}",
            "a\u{1f}",
            "é\n",
            "\"\"",
        ] {
            let mut out = String::new();
            write_string(&mut out, s);
            assert_eq!(out, reference(s), "{s:?}");
        }
    }

    #[test]
    fn rejects_floats() {
        assert!(matches!(
            canonical_value(&json!(1.5)),
            Err(CanonicalError::Float(_))
        ));
    }

    #[test]
    fn integers_beyond_2_pow_53_are_refused() {
        let limit = MAX_SAFE_INTEGER as i64;
        assert_eq!(
            canonical_value(&json!([limit, -limit])).unwrap(),
            "[9007199254740991,-9007199254740991]"
        );
        for too_large in [
            json!(limit + 1),
            json!(-limit - 1),
            json!(u64::MAX),
            json!(i64::MIN),
            json!({"a": {"b": [1, limit + 2]}}),
        ] {
            assert!(
                matches!(
                    canonical_value(&too_large),
                    Err(CanonicalError::TooLarge(_))
                ),
                "{too_large} was accepted"
            );
        }
    }

    #[test]
    fn round_trips_through_serde_json() {
        let v = json!({"name": "Zoë \"Z\" O'Neill", "n": [1, 2, 9007199254740991u64, -9007199254740991i64]});
        let s = canonical_value(&v).unwrap();
        let back: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back, v);
        assert_eq!(canonical_value(&back).unwrap(), s);
    }
}
