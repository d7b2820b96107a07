//! Submitted forms: decoding, the values typed, and the errors found.
//!
//! A form is decoded into name → value (the last value of a repeated name
//! wins) with Windows line ends made plain (the model refuses a carriage
//! return in text). Nothing typed is lost: a form with errors is shown again
//! with every value as it was sent, and the errors in a summary at the top
//! that links to each field.

use std::collections::BTreeMap;

/// The values of a submitted form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FormData(BTreeMap<String, String>);

/// One problem with a form: the field it concerns (its id) and the sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The id of the input to link to (empty: the form as a whole).
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The sentence of a model error as a form shows it: with a capital letter
/// and a full stop.
pub fn sentence(msg: &str) -> String {
    let mut s = String::with_capacity(msg.len() + 1);
    let mut chars = msg.chars();
    if let Some(c) = chars.next() {
        s.extend(c.to_uppercase());
        s.push_str(chars.as_str());
    }
    if !s.ends_with(['.', '?', '!']) {
        s.push('.');
    }
    s
}

impl FormData {
    /// Decodes `application/x-www-form-urlencoded`; undecodable input gives
    /// an empty form (every required field is then reported as missing).
    pub fn parse(body: &[u8]) -> FormData {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
        let mut f = FormData::default();
        for (k, v) in pairs {
            f.set(&k, &v);
        }
        f
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> FormData {
        let mut f = FormData::default();
        for (k, v) in pairs {
            f.set(k, v);
        }
        f
    }

    /// The value as sent ("" when absent).
    pub fn raw(&self, name: &str) -> &str {
        self.0.get(name).map(String::as_str).unwrap_or("")
    }

    /// The value without surrounding spaces.
    pub fn get(&self, name: &str) -> &str {
        self.raw(name).trim()
    }

    /// The value without surrounding spaces, or None if blank.
    pub fn opt(&self, name: &str) -> Option<String> {
        let v = self.get(name);
        (!v.is_empty()).then(|| v.to_owned())
    }

    /// Sets a value, making Windows and old Mac line ends plain line feeds.
    pub fn set(&mut self, name: &str, value: &str) {
        self.0.insert(
            name.to_owned(),
            value.replace("\r\n", "\n").replace('\r', "\n"),
        );
    }
}
