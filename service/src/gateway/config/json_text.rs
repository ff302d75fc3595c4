//! A value typed as JSON text (the console's textarea, the API's `value_text`), parsed with an
//! error that says where the text stops being JSON: line, column and the text there.

use serde_json::Value;

use crate::{Error, Result};

/// Characters of the offending line shown on each side of the error's column.
const NEAR: usize = 24;

/// The JSON value `text` holds, or a validation error for `field` naming the line, the column
/// and the text near the first place where it is not JSON.
pub fn parse_json_text(text: &str, field: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|err| Error::invalid(field, describe(text, &err)))
}

/// What is wrong with `text` and where, for a person.
fn describe(text: &str, err: &serde_json::Error) -> String {
    let reason = reason(err);
    if text.trim().is_empty() {
        return "must be JSON (for example {}, [], \"text\", 42, true or null)".into();
    }
    let (line, column) = (err.line(), err.column());
    let Some(source) = text.lines().nth(line.saturating_sub(1)) else {
        return format!("is not valid JSON: {reason} (line {line}, at its end)");
    };
    // serde_json counts columns in bytes; show characters, cut on character boundaries.
    let at = source
        .char_indices()
        .take_while(|(i, _)| *i < column.saturating_sub(1))
        .count();
    let chars: Vec<char> = source.chars().collect();
    let start = at.saturating_sub(NEAR);
    let end = (at + NEAR).min(chars.len());
    let mut near: String = chars[start..end].iter().collect();
    if start > 0 {
        near.insert(0, '…');
    }
    if end < chars.len() {
        near.push('…');
    }
    format!(
        "is not valid JSON: {reason} (line {line}, column {}, near “{}”)",
        at + 1,
        near.trim()
    )
}

/// What serde_json found wrong, in this product's own words (the console rewrites library
/// phrases it meets in a message, which would drop the position).
fn reason(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let text = text
        .rfind(" at line ")
        .map_or(text.as_str(), |i| &text[..i]);
    if let Some(wanted) = text.strip_prefix("expected ") {
        return match wanted {
            "value" | "ident" => "a value should start here".into(),
            other => format!("{other} should come here"),
        };
    }
    let words = match text {
        _ if text.starts_with("EOF while parsing") => "the text ends before the JSON is complete",
        _ if text.starts_with("trailing comma") => "a comma may not close a list or an object",
        _ if text.starts_with("trailing characters") => "more text follows the JSON value",
        _ if text.starts_with("key must be a string") => {
            "an object key must be text in double quotes"
        }
        _ if text.starts_with("control character") => "a string holds a raw control character",
        _ if text.contains("escape") || text.contains("unicode") => "a string holds a bad escape",
        _ if text.contains("number") => "the number is not one JSON can hold",
        _ if text.starts_with("recursion limit") => "the value is nested too deeply",
        _ => "this is not JSON",
    };
    words.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str) -> String {
        match parse_json_text(text, "value") {
            Err(Error::Validation(details)) => details[0].message.clone(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn json_parses() {
        assert_eq!(
            parse_json_text("{\"a\": [1, true]}", "value").unwrap(),
            serde_json::json!({"a": [1, true]})
        );
    }

    #[test]
    fn the_error_names_line_column_and_the_text_there() {
        let m = message("{\n  \"a\": 1,\n  \"b\" 2\n}");
        assert!(m.contains("line 3"), "{m}");
        assert!(m.contains("column 7"), "{m}");
        assert!(m.contains("\"b\" 2"), "{m}");
    }

    #[test]
    fn an_unfinished_value_is_placed_at_its_end() {
        let m = message("[1, 2");
        assert!(m.contains("line 1"), "{m}");
        assert!(m.contains("[1, 2"), "{m}");
    }

    #[test]
    fn empty_text_is_asked_for() {
        assert!(message("  ").contains("must be JSON"));
    }

    #[test]
    fn wide_characters_are_not_cut() {
        let m = message(&format!("[\"{}\" x]", "é".repeat(40)));
        assert!(m.contains("column"), "{m}");
    }
}
