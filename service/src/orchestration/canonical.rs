//! The canonical form of a JSON value and its hash, as the server computes a resource
//! state's `hash`.
//!
//! The form is the JSON Canonicalization Scheme (RFC 8785): object members sorted by their
//! keys compared as UTF-16 code units, no insignificant whitespace, strings with only the
//! escapes JSON requires (`\"`, `\\`, `\b \f \n \r \t`, other control characters as
//! lowercase `\u00xx`; everything else as its UTF-8 bytes), and numbers as ECMAScript writes
//! them (`1.0` → `1`, `1e21` → `1e+21`, `0.000001` → `0.000001`, `1e-7` → `1e-7`). Integers
//! outside ±2^53 are written exactly rather than rounded to a double. The hash is the
//! SHA-256 of that text's UTF-8 bytes, as 64 lowercase hex digits, so two engines that send
//! the same state in any key order or spacing get the same hash.

use serde_json::{Number, Value};
use sha2::{Digest, Sha256};

/// The RFC 8785 text of `value`.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write(value, &mut out);
    out
}

/// SHA-256 (hex) of the canonical text of `value`.
pub fn state_hash(value: &Value) -> String {
    hex::encode(Sha256::digest(canonical_json(value).as_bytes()))
}

fn write(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number(n)),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out);
            }
            out.push(']');
        }
        Value::Object(members) => {
            let mut keys: Vec<&String> = members.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write(&members[key], out);
            }
            out.push('}');
        }
    }
}

/// serde_json escapes exactly what RFC 8785 asks (lowercase hex, nothing beyond controls).
fn write_string(s: &str, out: &mut String) {
    out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into()));
}

/// ECMAScript's `Number.prototype.toString` of `n` (integers kept exact).
fn number(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    if f == 0.0 || !f.is_finite() {
        return "0".into();
    }
    // `{:e}` gives the shortest digits that round-trip, as ECMAScript requires.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exp: i32 = exp.parse().unwrap_or(0);
    let k = digits.len() as i32;
    let n = exp + 1;
    let body = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let sign = if n - 1 < 0 { '-' } else { '+' };
        let (head, tail) = digits.split_at(1);
        let tail = if tail.is_empty() {
            String::new()
        } else {
            format!(".{tail}")
        };
        format!("{head}{tail}e{sign}{}", (n - 1).abs())
    };
    if f < 0.0 { format!("-{body}") } else { body }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn keys_are_sorted_and_whitespace_dropped() {
        let v: Value =
            serde_json::from_str(r#"{ "b": [1, 2.0, {"z": null, "a": true}], "a": "x" }"#).unwrap();
        assert_eq!(
            canonical_json(&v),
            r#"{"a":"x","b":[1,2,{"a":true,"z":null}]}"#
        );
    }

    #[test]
    fn numbers_follow_ecmascript() {
        for (input, expected) in [
            ("1.5", "1.5"),
            ("-0.0", "0"),
            ("1e21", "1e+21"),
            ("1e20", "100000000000000000000"),
            ("0.000001", "0.000001"),
            ("1e-7", "1e-7"),
            ("123.456e-10", "1.23456e-8"),
            ("0.1", "0.1"),
            ("-12.5e3", "-12500"),
        ] {
            let v: Value = serde_json::from_str(input).unwrap();
            assert_eq!(canonical_json(&v), expected, "{input}");
        }
    }

    #[test]
    fn strings_carry_only_the_required_escapes() {
        let v = json!({"s": "é\u{1}\"\\/\n<script>"});
        assert_eq!(
            canonical_json(&v),
            "{\"s\":\"é\\u0001\\\"\\\\/\\n<script>\"}"
        );
    }

    #[test]
    fn keys_sort_by_utf16_code_units() {
        // U+10000 is D800 DC00 in UTF-16, before U+FFFD; by code points it comes after.
        let v = json!({"\u{fffd}": 1, "\u{10000}": 2});
        assert_eq!(canonical_json(&v), "{\"\u{10000}\":2,\"\u{fffd}\":1}");
    }

    #[test]
    fn the_same_state_in_another_order_has_the_same_hash() {
        let a: Value = serde_json::from_str(r#"{"a":1,"b":{"c":2}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"b": {"c": 2}, "a": 1}"#).unwrap();
        assert_eq!(state_hash(&a), state_hash(&b));
        assert_eq!(state_hash(&a).len(), 64);
    }
}
