//! PostgreSQL's text form of arrays: how a whole column of a batch travels as one bound
//! parameter (`$n::text[]`, `$n::timestamptz[]`, …) that `unnest` zips back into rows, instead
//! of one bound value per row and column.

/// PostgreSQL's text form of a one-dimensional array: every element quoted (so commas,
/// braces, blanks and the word NULL stay data), `"` and `\` escaped, and `NULL` for a missing
/// value. The statement casts it (`$n::text[]`), and PostgreSQL reads it in one pass.
pub(crate) fn pg_array_literal<'a>(
    items: impl ExactSizeIterator<Item = Option<&'a str>>,
) -> String {
    let mut out = String::with_capacity(items.len() * 24 + 2);
    out.push('{');
    for (n, item) in items.enumerate() {
        if n > 0 {
            out.push(',');
        }
        match item {
            None => out.push_str("NULL"),
            Some(text) => {
                out.push('"');
                for c in text.chars() {
                    if matches!(c, '"' | '\\') {
                        out.push('\\');
                    }
                    out.push(c);
                }
                out.push('"');
            }
        }
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_literals_keep_every_character() {
        let items = [Some("plain"), None, Some(""), Some("a\"b\\c,{d} NULL")];
        assert_eq!(
            pg_array_literal(items.into_iter()),
            r#"{"plain",NULL,"","a\"b\\c,{d} NULL"}"#
        );
        assert_eq!(pg_array_literal(std::iter::empty()), "{}");
    }
}
