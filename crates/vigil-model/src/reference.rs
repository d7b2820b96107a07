//! Human references for referrals: `REF-7K3M-9Q2P`.
//!
//! Here in the model (not the web) because the name index and the referral
//! table key referrals by reference, and every front end reads them.
//!
//! A referral's id is a UUID, which nobody can read out over the phone. The
//! reference is derived from it (so it never needs storing and is the same
//! on every server): the first 40 bits of SHA-256(`vigil referral ` || id
//! bytes), written as eight characters of Crockford's base 32, which has no
//! I, L, O or U, so nothing is mistaken for 1 or 0 or reads as a word. Typed
//! references are read forgivingly (lower case, spaces, O for 0, I and L for
//! 1). Forty bits make a clash between two referrals very unlikely at a
//! partnership's volume; a search that finds two shows both.

use sha2::{Digest, Sha256};
use uuid::Uuid;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The reference of a referral.
pub fn reference_for(id: Uuid) -> String {
    let mut h = Sha256::new();
    h.update(b"vigil referral ");
    h.update(id.as_bytes());
    let d = h.finalize();
    let mut bits: u64 = 0;
    for b in &d[..5] {
        bits = (bits << 8) | u64::from(*b);
    }
    let mut chars = [0u8; 8];
    for (i, c) in chars.iter_mut().enumerate() {
        let shift = 35 - 5 * i;
        *c = ALPHABET[((bits >> shift) & 31) as usize];
    }
    let s = std::str::from_utf8(&chars).unwrap_or("????????");
    format!("REF-{}-{}", &s[..4], &s[4..])
}

/// Reads a typed reference: `ref 7k3m 9q2p`, `7K3M9Q2P`, `REF-7K3M-9Q2P`.
/// Returns the canonical form, or None if it cannot be one.
pub fn normalise(typed: &str) -> Option<String> {
    let mut s: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if let Some(rest) = s.strip_prefix("REF") {
        s = rest.to_string();
    }
    if s.len() != 8 {
        return None;
    }
    let mut out = String::with_capacity(8);
    for c in s.chars() {
        let c = match c {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        if !ALPHABET.contains(&(c as u8)) || !c.is_ascii() {
            return None;
        }
        out.push(c);
    }
    Some(format!("REF-{}-{}", &out[..4], &out[4..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_stable_readable_and_forgiving() {
        let id = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0001);
        let r = reference_for(id);
        assert_eq!(r, reference_for(id));
        assert_eq!(r.len(), 13);
        assert!(r.starts_with("REF-"));
        assert!(!r[4..].contains(['I', 'L', 'O', 'U']));
        assert_ne!(r, reference_for(Uuid::from_u128(2)));
        let typed = r.to_lowercase().replace('-', " ");
        assert_eq!(normalise(&typed).as_deref(), Some(r.as_str()));
        assert_eq!(normalise("ref-oooo-iiii").as_deref(), Some("REF-0000-1111"));
        assert_eq!(normalise("REF-7K3M-9Q2"), None);
        assert_eq!(normalise("<script>"), None);
    }
}
