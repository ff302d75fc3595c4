//! The one place where the wording of parsing libraries (serde, the URL parser, chrono, the
//! integer parser, actix's extractors) becomes words a person understands, before any
//! message reaches a page or a JSON error.
//!
//! Messages the application wrote itself pass through unchanged; only the phrases those
//! libraries use are rewritten. The preferences page has its own labels and does not depend
//! on this.

/// `raw` with every library phrase it holds put in plain words.
pub fn plain(raw: &str) -> String {
    let text = raw.to_string();
    for prefix in [
        "Query deserialize error: ",
        "Path deserialize error: ",
        "URL encoded error: ",
        "Url encoded error: ",
    ] {
        if let Some(rest) = text.strip_prefix(prefix) {
            return format!(
                "the address or form holds a value that {}",
                plain_phrase(rest)
            );
        }
    }
    // A message of the application may hold a library's phrase ("is not a URL: …",
    // "limit invalid digit …"): everything from the phrase on is rewritten.
    let at = LIBRARY_PHRASES.iter().filter_map(|p| text.find(p)).min();
    match at {
        Some(i) => format!("{}{}", &text[..i], plain_phrase(&text[i..])),
        None => text,
    }
}

/// The openings of library messages this module rewrites.
const LIBRARY_PHRASES: &[&str] = &[
    "unknown variant",
    "invalid type",
    "invalid value",
    "invalid length",
    "invalid digit",
    "cannot parse integer",
    "number too large",
    "number too small",
    "missing field",
    "unknown field",
    "duplicate field",
    "EOF while parsing",
    "expected value",
    "expected `",
    "trailing characters",
    "key must be a string",
    "recursion limit exceeded",
    "relative URL",
    "empty host",
    "invalid port",
    "invalid IPv",
    "invalid international domain name",
    "invalid domain character",
    "input contains invalid characters",
    "premature end of input",
    "input is out of range",
    "trailing input",
    "invalid character",
    "invalid group",
    "invalid length:",
];

/// One library phrase in plain words (the application's verb "must" or "is" first, as its
/// own field messages read).
fn plain_phrase(phrase: &str) -> String {
    let p = phrase.trim();
    if let Some(rest) = p.strip_prefix("unknown variant `") {
        let (given, rest) = rest.split_once('`').unwrap_or((rest, ""));
        let allowed = quoted(rest);
        return if allowed.is_empty() {
            format!("{given} is not one of the allowed values")
        } else {
            format!("{given} is not one of {}", allowed.join(", "))
        };
    }
    for lead in ["invalid type: ", "invalid value: ", "invalid length "] {
        if let Some(rest) = p.strip_prefix(lead) {
            let expected = rest.split_once(", expected ").map_or("", |(_, e)| e);
            return format!("must be {}", expected_words(expected));
        }
    }
    let field = |rest: &str| rest.split('`').next().unwrap_or_default().to_string();
    if let Some(rest) = p.strip_prefix("missing field `") {
        return format!("{} is required", field(rest));
    }
    if let Some(rest) = p.strip_prefix("unknown field `") {
        return format!("{} is not a known field", field(rest));
    }
    if let Some(rest) = p.strip_prefix("duplicate field `") {
        return format!("{} is given more than once", field(rest));
    }
    let words = match p {
        _ if p.starts_with("invalid digit") || p.starts_with("cannot parse integer") => {
            "must be a whole number"
        }
        _ if p.starts_with("number too large") => "is too large",
        _ if p.starts_with("number too small") => "is too small",
        _ if p.starts_with("EOF while parsing") => "the body ends before the JSON is complete",
        _ if p.starts_with("expected value") || p.starts_with("expected `") => {
            "the body is not well-formed JSON"
        }
        _ if p.starts_with("trailing characters") => "the body has more text after the JSON",
        _ if p.starts_with("key must be a string") => "an object key is not text",
        _ if p.starts_with("recursion limit exceeded") => "the JSON is nested too deeply",
        _ if p.starts_with("relative URL") => {
            "must be a full address starting with http:// or https://"
        }
        _ if p.starts_with("empty host")
            || p.starts_with("invalid port")
            || p.starts_with("invalid IPv")
            || p.starts_with("invalid international domain name")
            || p.starts_with("invalid domain character") =>
        {
            "is not a valid web address"
        }
        _ if p.starts_with("input contains invalid characters")
            || p.starts_with("premature end of input")
            || p.starts_with("input is out of range")
            || p.starts_with("trailing input") =>
        {
            "is not a valid date and time"
        }
        _ if p.starts_with("invalid character")
            || p.starts_with("invalid group")
            || p.starts_with("invalid length:") =>
        {
            "is not a valid id"
        }
        _ => "is not valid",
    };
    words.to_string()
}

/// The values between backticks in `text`, in order.
fn quoted(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

/// What serde says it expected, in words.
fn expected_words(expected: &str) -> String {
    let e = expected.trim();
    let words = match e {
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number, 0 or more",
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number",
        "f32" | "f64" => "a number",
        "a boolean" => "true or false",
        "a string" | "a borrowed string" => "text",
        "a sequence" => "a list",
        "a map" => "an object",
        _ if e.starts_with("struct ") || e.starts_with("a map") => "an object",
        _ if e.starts_with("a sequence") || e.starts_with("tuple") => "a list",
        _ if e.contains("variant") => "one of the allowed values",
        "" => "a value of the right kind",
        _ if e.contains('`') => return quoted(e).join(" or "),
        other => return other.to_string(),
    };
    words.to_string()
}

#[cfg(test)]
mod tests {
    use super::plain;

    #[test]
    fn library_wording_becomes_plain_words() {
        for (raw, want) in [
            (
                "unknown variant `full`, expected one of `summary`, `none`",
                "full is not one of summary, none",
            ),
            (
                "invalid type: string \"x\", expected u32",
                "must be a whole number, 0 or more",
            ),
            (
                "invalid type: integer `3`, expected a string",
                "must be text",
            ),
            (
                "is not a URL: relative URL without a base",
                "is not a URL: must be a full address starting with http:// or https://",
            ),
            (
                "Query deserialize error: invalid digit found in string",
                "the address or form holds a value that must be a whole number",
            ),
            ("missing field `name`", "name is required"),
            (
                "EOF while parsing an object",
                "the body ends before the JSON is complete",
            ),
        ] {
            assert_eq!(plain(raw), want, "{raw}");
        }
    }

    #[test]
    fn the_applications_own_messages_pass_unchanged() {
        for own in [
            "progress_percentage must be between 0 and 100",
            "must be one of running, completed, failed, canceled",
            "The sync #3 of acme is canceled already.",
            "you do not hold users:write",
        ] {
            assert_eq!(plain(own), own);
        }
    }
}
