//! Rules for text people give names with (group names, file names): shown to
//! others, so no control characters and no bidirectional controls, which
//! could make `exe.gpj` look like `jpg.exe` (U+202E) or hide text.

use crate::error::AppError;

/// Bidirectional formatting characters (marks, embeddings, overrides, isolates).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that show nothing on their own: spaces, zero-width ones, fillers
/// and modifiers (a name of only these would look empty).
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{00AD}' | '\u{034F}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}' | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{2800}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}' | '\u{FFA0}' | '\u{E0000}'..='\u{E007F}'
        )
}

/// Whether a name may contain `c`.
pub fn allowed_in_name(c: char) -> bool {
    !c.is_control() && !is_bidi_control(c)
}

/// A trimmed name of 1 to `max_chars` characters without control or
/// bidirectional control characters, with at least one that shows.
pub fn check_name(field: &str, name: &str, max_chars: usize) -> Result<(), AppError> {
    let count = name.chars().count();
    if count == 0 || count > max_chars {
        return Err(AppError::invalid(format!("{field} must be 1-{max_chars} characters")));
    }
    if !name.chars().all(allowed_in_name) {
        return Err(AppError::invalid(format!("{field} must not contain control or bidirectional control characters")));
    }
    if name.chars().all(is_invisible) {
        return Err(AppError::invalid(format!("{field} must show at least one visible character")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_refuse_control_and_bidi_characters_but_keep_any_script() {
        assert!(check_name("name", "Family 👪 عائلة", 100).is_ok());
        assert!(check_name("name", "a\u{200D}b", 100).is_ok(), "a joiner between letters is fine");
        for bad in
            ["a\u{0}b", "tab\there", "photo\u{202E}gpj.exe", "x\u{2066}y", "new\nline", "", "\u{200B}", "\u{3164}\u{3164}", " \u{2800} "]
        {
            assert!(check_name("name", bad, 100).is_err(), "{bad:?} must be refused");
        }
        assert!(check_name("name", &"é".repeat(101), 100).is_err());
    }
}
