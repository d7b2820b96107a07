//! Checks on text fields: length limits and characters that are refused.
//!
//! Text is data. Markup such as `<script>` or right-to-left marks in free
//! text is stored as written and escaped by whatever displays it. What is
//! refused is what no person types and what breaks other tools: NUL and the
//! other control characters (only line feed and tab are allowed in free text;
//! a form that sends CR LF line ends should turn them into LF first). Names
//! and identifiers are stricter: one line, and no bidirectional override or
//! isolate characters, which can make a name display as a different name.
//!
//! Error messages name the field and never echo more than a few characters of
//! what was sent.

use crate::event::ModelError;

/// Longest name part (given name, family name, agency name, place name).
pub const MAX_NAME_CHARS: usize = 200;
/// Longest short text (a reason, a team, an address line, a description of a vehicle).
pub const MAX_SHORT_CHARS: usize = 2_000;
/// Longest free text (a concern, a note, an intelligence report).
pub const MAX_LONG_CHARS: usize = 20_000;
/// Most items in any list (names, subjects, victims, attendees).
pub const MAX_ITEMS: usize = 200;

/// Bidirectional embedding, override and isolate controls.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn describe(c: char) -> String {
    match c {
        '\0' => "a NUL character".into(),
        '\r' => "a carriage return".into(),
        c => format!("a control character (U+{:04X})", c as u32),
    }
}

fn check_length(what: &str, s: &str, max: usize) -> Result<(), ModelError> {
    // Byte length bounds character count from above: only count when it may matter.
    if s.len() > max {
        let n = s.chars().count();
        if n > max {
            return Err(ModelError::invalid(format!(
                "{what} is {n} characters long; the limit is {max}"
            )));
        }
    }
    Ok(())
}

/// Free text (may be several lines). `required`: must not be empty or blank.
pub fn check_text(what: &str, s: &str, max: usize, required: bool) -> Result<(), ModelError> {
    if required && s.trim().is_empty() {
        return Err(ModelError::invalid(format!("{what} is empty")));
    }
    check_length(what, s, max)?;
    if let Some((i, c)) = s
        .chars()
        .enumerate()
        .find(|(_, c)| c.is_control() && *c != '\n' && *c != '\t')
    {
        return Err(ModelError::invalid(format!(
            "{what} contains {} at character {}; only line breaks and tabs may be used",
            describe(c),
            i + 1
        )));
    }
    Ok(())
}

/// Optional free text: when present it must not be blank.
pub fn check_opt_text(what: &str, s: &Option<String>, max: usize) -> Result<(), ModelError> {
    match s {
        Some(s) => check_text(what, s, max, true),
        None => Ok(()),
    }
}

/// A name or other one-line label: not blank, one line, no bidirectional controls.
pub fn check_name(what: &str, s: &str) -> Result<(), ModelError> {
    check_line(what, s, MAX_NAME_CHARS)
}

/// A single line of text of at most `max` characters, not blank.
pub fn check_line(what: &str, s: &str, max: usize) -> Result<(), ModelError> {
    if s.trim().is_empty() {
        return Err(ModelError::invalid(format!("{what} is empty")));
    }
    check_length(what, s, max)?;
    if let Some((i, c)) = s.chars().enumerate().find(|(_, c)| c.is_control()) {
        return Err(ModelError::invalid(format!(
            "{what} contains {} at character {}; it must be a single line of text",
            match c {
                '\n' => "a line break".to_owned(),
                '\t' => "a tab".to_owned(),
                c => describe(c),
            },
            i + 1
        )));
    }
    if let Some((i, c)) = s.chars().enumerate().find(|(_, c)| is_bidi_control(*c)) {
        return Err(ModelError::invalid(format!(
            "{what} contains a text-direction override (U+{:04X}) at character {}; \
             write the name without it (right-to-left scripts display correctly without one)",
            c as u32,
            i + 1
        )));
    }
    Ok(())
}

/// Optional one-line text: when present it must not be blank.
pub fn check_opt_line(what: &str, s: &Option<String>, max: usize) -> Result<(), ModelError> {
    match s {
        Some(s) => check_line(what, s, max),
        None => Ok(()),
    }
}

/// A user id (as in the envelope's actor): not blank, at most 200 characters, one line.
pub fn check_user_id(what: &str, s: &str) -> Result<(), ModelError> {
    check_line(what, s, 200)
}

/// A list with an upper bound and, if `required`, at least one item.
pub fn check_count<T>(what: &str, items: &[T], required: bool) -> Result<(), ModelError> {
    if required && items.is_empty() {
        return Err(ModelError::invalid(format!(
            "{what}: at least one is needed"
        )));
    }
    if items.len() > MAX_ITEMS {
        return Err(ModelError::invalid(format!(
            "{what}: {} given; the limit is {MAX_ITEMS}",
            items.len()
        )));
    }
    Ok(())
}

/// Refuses a list that names the same thing twice.
pub fn check_unique<T: Ord + std::fmt::Display>(what: &str, items: &[T]) -> Result<(), ModelError> {
    let mut seen = std::collections::BTreeSet::new();
    for it in items {
        if !seen.insert(it) {
            return Err(ModelError::invalid(format!("{what} names {it} twice")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_accepts_hostile_markup_but_not_controls() {
        check_text(
            "the note",
            "<script>alert(1)</script>",
            MAX_LONG_CHARS,
            true,
        )
        .unwrap();
        check_text("the note", "abc \u{202e}cba", MAX_LONG_CHARS, true).unwrap();
        check_text("the note", "line one\nline two\tend", MAX_LONG_CHARS, true).unwrap();
        check_text("the note", "Zoë O'Neill — ائشة 李", MAX_LONG_CHARS, true).unwrap();
        let e = check_text("the note", "a\0b", MAX_LONG_CHARS, true)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "the note contains a NUL character at character 2; only line breaks and tabs may be used");
        assert!(check_text("the note", "a\r\nb", MAX_LONG_CHARS, true).is_err());
        assert!(check_text("the note", "a\u{7}b", MAX_LONG_CHARS, true).is_err());
        assert_eq!(
            check_text("the note", " \n ", MAX_LONG_CHARS, true)
                .unwrap_err()
                .to_string(),
            "the note is empty"
        );
        check_text("the note", "", MAX_LONG_CHARS, false).unwrap();
        let huge = "x".repeat(MAX_LONG_CHARS + 1);
        let e = check_text("the note", &huge, MAX_LONG_CHARS, true)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "the note is 20001 characters long; the limit is 20000");
        // Multi-byte characters count as characters, not bytes.
        check_text(
            "the note",
            &"é".repeat(MAX_LONG_CHARS),
            MAX_LONG_CHARS,
            true,
        )
        .unwrap();
    }

    #[test]
    fn names_are_one_line_without_direction_overrides() {
        check_name("the given name", "<script>").unwrap();
        check_name("the given name", "عائشة").unwrap();
        assert!(check_name("the given name", "Tyler\u{202e}elpmaS").is_err());
        assert!(check_name("the given name", "Tyler\nSample").is_err());
        assert!(check_name("the given name", "\0").is_err());
        assert!(check_name("the given name", "   ").is_err());
        assert!(check_name("the given name", &"a".repeat(201)).is_err());
    }

    #[test]
    fn lists_are_bounded_and_unique() {
        assert!(check_count::<u8>("the victims", &[], true).is_err());
        check_count::<u8>("the victims", &[], false).unwrap();
        assert!(check_count("the victims", &vec![0u8; MAX_ITEMS + 1], false).is_err());
        assert_eq!(
            check_unique("the victims", &[1, 2, 1])
                .unwrap_err()
                .to_string(),
            "the victims names 1 twice"
        );
    }
}
