//! Submitted forms: decoding, the values typed, and the errors found.
//!
//! A form is decoded into name → value (the last value of a repeated name
//! wins) with Windows line ends made plain (the model refuses a carriage
//! return in text). Nothing typed is lost: a form with errors is shown again
//! with every value as it was sent, and the errors in a summary at the top
//! that links to each field.
//!
//! A handler gets a form only through an extractor: [`CsrfForm`] for a
//! signed-in user (it checks the session's anti-forgery token, so a
//! handler cannot forget to), [`PlainForm`] before there is a session.
//! Both refuse a body that is not `application/x-www-form-urlencoded`
//! (415) or not UTF-8 (400), and one larger than any form (413).

use crate::app::{AppState, SignedIn};
use crate::error::WebError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::RequestExt;
use chrono::NaiveDate;
use std::collections::BTreeMap;
use std::sync::Arc;
use vigil_model::text::{check_line, check_text, MAX_LONG_CHARS, MAX_SHORT_CHARS};

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
    /// Decodes `application/x-www-form-urlencoded` (the one parser of every
    /// form): `&`-separated `name=value` pairs, `+` for a space, `%XX` for a
    /// byte (a `%` not followed by two hex digits is itself). What it
    /// decodes to must be UTF-8: anything else is refused, not guessed at
    /// (a replacement character in a child's name would be recorded for ever).
    pub fn parse(body: &[u8]) -> Result<FormData, WebError> {
        let mut f = FormData::default();
        for pair in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
            let (name, value) = match pair.iter().position(|b| *b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &[][..]),
            };
            f.set(&decode(name)?, &decode(value)?);
        }
        Ok(f)
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

    /// The form URL-encoded again (what [`FormData::parse`] reads back to
    /// the same values): how a held form is kept.
    pub fn to_urlencoded(&self) -> String {
        serde_urlencoded::to_string(&self.0).unwrap_or_default()
    }

    /// Sets a value, making Windows and old Mac line ends plain line feeds.
    pub fn set(&mut self, name: &str, value: &str) {
        self.0.insert(
            name.to_owned(),
            value.replace("\r\n", "\n").replace('\r', "\n"),
        );
    }
}

/// One name or value of a form, percent-decoded; refused unless UTF-8.
fn decode(raw: &[u8]) -> Result<String, WebError> {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                raw.get(i + 1).and_then(|b| hex(*b)),
                raw.get(i + 2).and_then(|b| hex(*b)),
            ) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| WebError::NotText)
}

/// Whether the request says its body is a URL-encoded form (in UTF-8, the
/// only character set a form of Vigil's is sent in).
fn is_form(headers: &HeaderMap) -> bool {
    let Some(v) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mut parts = v.split(';').map(str::trim);
    let essence = parts.next().unwrap_or("");
    essence.eq_ignore_ascii_case("application/x-www-form-urlencoded")
        && parts.all(|p| match p.split_once('=') {
            Some((k, v)) if k.trim().eq_ignore_ascii_case("charset") => {
                v.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
            }
            _ => true,
        })
}

/// Reads a request's body as a form: the one path every form comes in by.
pub(crate) async fn read(req: Request, st: &Arc<AppState>) -> Result<FormData, WebError> {
    if !is_form(req.headers()) {
        return Err(WebError::NotAForm);
    }
    let body = Bytes::from_request(req, st)
        .await
        .map_err(|_| WebError::TooLarge)?;
    FormData::parse(&body)
}

/// A form sent before there is a session (signing in): checked for its
/// type and text, not for a session's token (the sign-in form has its own).
pub struct PlainForm(pub FormData);

impl FromRequest<Arc<AppState>> for PlainForm {
    type Rejection = WebError;

    async fn from_request(req: Request, st: &Arc<AppState>) -> Result<Self, WebError> {
        Ok(PlainForm(read(req, st).await?))
    }
}

/// A form sent by a signed-in user, with their session's anti-forgery
/// token checked: a handler that takes one cannot skip the check.
pub struct CsrfForm {
    pub who: SignedIn,
    pub form: FormData,
}

impl FromRequest<Arc<AppState>> for CsrfForm {
    type Rejection = Response;

    async fn from_request(mut req: Request, st: &Arc<AppState>) -> Result<Self, Response> {
        // Not signed in: to the sign-in page, whatever was sent.
        let who: SignedIn = req
            .extract_parts_with_state(st)
            .await
            .map_err(IntoResponse::into_response)?;
        let form = read(req, st).await.map_err(IntoResponse::into_response)?;
        if !crate::auth::same_secret(form.raw("csrf"), &who.csrf) {
            return Err(WebError::Csrf.into_response());
        }
        Ok(CsrfForm { who, form })
    }
}

/// A day as typed: `2025-06-01` (what a date input sends) or `1/6/2025`.
pub fn parse_day(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    if s.len() > 10 {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .ok()
}

pub const DAY_HINT: &str = "as day/month/year, for example 28/11/2026";

/// A one-line answer (optional unless `required`).
pub fn line(
    form: &FormData,
    field: &str,
    what: &str,
    required: bool,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let v = form.opt(field);
    match &v {
        None if required => errors.push(FieldError::new(field, format!("Enter {what}."))),
        Some(t) => {
            if let Err(e) = check_line(what, t, MAX_SHORT_CHARS) {
                errors.push(FieldError::new(field, sentence(&e.to_string())));
            }
        }
        None => {}
    }
    v
}

pub fn text(
    form: &FormData,
    field: &str,
    what: &str,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let v = form.opt(field);
    if let Some(t) = &v {
        if let Err(e) = check_text(what, t, MAX_LONG_CHARS, true) {
            errors.push(FieldError::new(field, sentence(&e.to_string())));
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &[u8]) -> Result<FormData, WebError> {
        FormData::parse(s)
    }

    #[test]
    fn a_form_is_read_as_written_and_refused_unless_it_is_utf8() {
        let f = parse(b"a=1&a=2&b=x+y%2B%zz%4&c&=v&&d=%C3%A9\r").unwrap();
        assert_eq!(f.raw("a"), "2", "the last of a repeated name");
        assert_eq!(f.raw("b"), "x y+%zz%4", "a stray % is itself");
        assert_eq!(f.raw("c"), "");
        assert_eq!(f.raw(""), "v");
        assert_eq!(f.raw("d"), "é\n", "line ends made plain");
        assert_eq!(parse(b"").unwrap(), FormData::default());
        for bad in [&b"a=%FF"[..], b"%C0%80=x", b"a=\xff", b"a=%ED%A0%80"] {
            assert!(
                matches!(parse(bad), Err(WebError::NotText)),
                "{bad:?} is not UTF-8"
            );
        }
    }

    #[test]
    fn only_url_encoded_utf8_forms_are_forms() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::CONTENT_TYPE, v.parse().unwrap());
            is_form(&h)
        };
        assert!(with("application/x-www-form-urlencoded"));
        assert!(with(
            "Application/X-WWW-Form-Urlencoded ; charset=\"UTF-8\""
        ));
        assert!(!with(
            "application/x-www-form-urlencoded; charset=iso-8859-1"
        ));
        assert!(!with("multipart/form-data; boundary=x"));
        assert!(!with("application/json"));
        assert!(!is_form(&HeaderMap::new()));
    }
}
