//! Standard base64 (with padding), the encoding used for hashes, keys and
//! signatures in every text form this crate writes.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

pub(crate) fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Decodes exactly `N` bytes, or `None`. The length is checked before
/// decoding so hostile input cannot make us allocate.
pub(crate) fn decode_array<const N: usize>(s: &str) -> Option<[u8; N]> {
    if s.len() != N.div_ceil(3) * 4 {
        return None;
    }
    STANDARD.decode(s).ok()?.try_into().ok()
}

/// Decodes any length, or `None`. Callers bound the input's length first.
pub(crate) fn decode_vec(s: &str) -> Option<Vec<u8>> {
    STANDARD.decode(s).ok()
}

/// `#[serde(with = "crate::b64::array")]` for fixed-size byte arrays.
pub(crate) mod array {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer, const N: usize>(
        bytes: &[u8; N],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&super::encode(bytes))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        deserializer: D,
    ) -> Result<[u8; N], D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        super::decode_array(&s)
            .ok_or_else(|| D::Error::custom(format!("expected base64 of {N} bytes")))
    }
}
