//! A cheap lexical pass over a document before any parser sees it, of the
//! kind graphql-js's `maxTokens` does: it counts tokens and tracks the
//! nesting of `(`, `[` and `{`, without building anything. async-graphql's
//! parser (pest) recurses once per nesting level of a list or object
//! literal with no bound, so a literal nested a few thousand levels deep
//! overflows a worker's stack and aborts the process; this pass refuses such
//! a document first, in one linear scan.
//!
//! The same nesting bound applies to the request's `variables` (JSON lists
//! and objects), which are checked by [`variables_depth`].

use async_graphql::Variables;
use async_graphql_value::ConstValue;

/// The bounds of the lexical pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LexicalLimits {
    /// Most tokens in one document (punctuators, names, numbers, strings;
    /// whitespace, commas and comments do not count).
    pub max_tokens: usize,
    /// Deepest nesting of `(`, `[` and `{` together, in the document and in
    /// the variables' JSON.
    pub max_nesting: usize,
}

/// Why a document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LexicalError {
    #[error("the document has more than {0} tokens")]
    TooManyTokens(usize),
    #[error("the document nests brackets more than {0} levels deep")]
    TooDeep(usize),
}

/// What the pass counted over a document it accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scan {
    pub tokens: usize,
    pub deepest: usize,
}

/// Scans `document`, stopping at the first bound exceeded. Malformed input
/// (an unterminated string, a stray character) is not an error here: it
/// counts as tokens and the parser reports it with its own message.
pub fn scan(document: &str, limits: LexicalLimits) -> Result<Scan, LexicalError> {
    let bytes = document.as_bytes();
    let mut scan = Scan::default();
    let mut depth = 0_usize;
    let mut at = 0;
    while at < bytes.len() {
        let byte = bytes[at];
        match byte {
            // Ignored tokens: white space, line terminators, commas (a BOM
            // counts as a token: harmless).
            b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                at += 1;
                continue;
            }
            b'#' => {
                at = skip_comment(bytes, at);
                continue;
            }
            _ => {}
        }
        scan.tokens += 1;
        if scan.tokens > limits.max_tokens {
            return Err(LexicalError::TooManyTokens(limits.max_tokens));
        }
        at = match byte {
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > limits.max_nesting {
                    return Err(LexicalError::TooDeep(limits.max_nesting));
                }
                scan.deepest = scan.deepest.max(depth);
                at + 1
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                at + 1
            }
            b'"' => skip_string(bytes, at),
            b'.' if bytes[at..].starts_with(b"...") => at + 3,
            b'_' | b'a'..=b'z' | b'A'..=b'Z' => skip_while(bytes, at, is_name_continue),
            b'-' | b'0'..=b'9' => skip_while(bytes, at + 1, is_number_continue),
            // Any other punctuator, or a character the parser will refuse.
            _ => at + utf8_len(byte),
        };
    }
    Ok(scan)
}

fn is_name_continue(byte: u8) -> bool {
    byte == b'_' || byte.is_ascii_alphanumeric()
}

fn is_number_continue(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'+' | b'-')
}

fn skip_while(bytes: &[u8], from: usize, keep: impl Fn(u8) -> bool) -> usize {
    let mut at = from;
    while at < bytes.len() && keep(bytes[at]) {
        at += 1;
    }
    at
}

fn skip_comment(bytes: &[u8], from: usize) -> usize {
    skip_while(bytes, from, |byte| byte != b'\n' && byte != b'\r')
}

/// The end of the string token starting at `from` (a `"` or `"""`).
fn skip_string(bytes: &[u8], from: usize) -> usize {
    if bytes[from..].starts_with(b"\"\"\"") {
        let mut at = from + 3;
        while at < bytes.len() {
            if bytes[at..].starts_with(b"\\\"\"\"") {
                at += 4;
            } else if bytes[at..].starts_with(b"\"\"\"") {
                return at + 3;
            } else {
                at += 1;
            }
        }
        return at;
    }
    let mut at = from + 1;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            b'"' => return at + 1,
            // A string ends at the line; the parser reports it.
            b'\n' | b'\r' => return at,
            _ => at += 1,
        }
    }
    at.min(bytes.len())
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// Whether any variable nests lists and objects more than `max_nesting`
/// levels deep (the variables object itself is level 1, as `{` is in the
/// body). serde_json already refuses JSON nested past 128 levels when the
/// body is read; this bound is the document's.
pub fn variables_too_deep(variables: &Variables, max_nesting: usize) -> bool {
    variables
        .values()
        .any(|value| variables_depth(value, 2, max_nesting))
}

/// Whether `value`, found at `level`, reaches past `max_nesting`. Recursion
/// stops at the bound, so it is bounded by `max_nesting` frames.
fn variables_depth(value: &ConstValue, level: usize, max_nesting: usize) -> bool {
    match value {
        ConstValue::List(items) => {
            level > max_nesting
                || items
                    .iter()
                    .any(|item| variables_depth(item, level + 1, max_nesting))
        }
        ConstValue::Object(fields) => {
            level > max_nesting
                || fields
                    .values()
                    .any(|field| variables_depth(field, level + 1, max_nesting))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: LexicalLimits = LexicalLimits {
        max_tokens: 50,
        max_nesting: 4,
    };

    #[test]
    fn counts_tokens_and_nesting() {
        let scan = scan(
            "query Q($id: ID!) { user(authUserId: $id) { ...F } } # { { { {",
            LIMITS,
        )
        .unwrap();
        // query Q ( $ id : ID ! ) { user ( authUserId : $ id ) { ... F } }
        assert_eq!(scan.tokens, 22);
        assert_eq!(scan.deepest, 2);
    }

    #[test]
    fn brackets_inside_strings_and_comments_do_not_count() {
        let document = "{ a(x: \"[[[[[[\", y: \"\"\"{{{{{{ \\\"\"\" }}}\"\"\") }";
        assert_eq!(scan(document, LIMITS).unwrap().deepest, 2);
        assert_eq!(
            scan("{ a # ((((((\n }", LIMITS).unwrap(),
            Scan {
                tokens: 3,
                deepest: 1
            }
        );
    }

    #[test]
    fn refuses_deep_nesting_and_many_tokens() {
        assert_eq!(
            scan("{ a(x: [[[[\"x\"]]]]) }", LIMITS),
            Err(LexicalError::TooDeep(4))
        );
        assert_eq!(
            scan(&"a ".repeat(51), LIMITS),
            Err(LexicalError::TooManyTokens(50))
        );
        // Closing brackets do not buy depth back below zero.
        assert_eq!(scan("]]]]]] {{{{ }}}}", LIMITS).unwrap().deepest, 4);
    }

    #[test]
    fn malformed_input_is_left_to_the_parser() {
        assert!(scan("{ a(x: \"unterminated", LIMITS).is_ok());
        assert!(scan("{ é ü ☃ 😀 }", LIMITS).is_ok());
        assert!(scan("\"\"\"", LIMITS).is_ok());
        assert!(scan("\"\\", LIMITS).is_ok());
    }

    #[test]
    fn deep_variables_are_found() {
        let variables = Variables::from_json(serde_json::json!({ "a": [[["x"]]], "b": 1 }));
        // {"a": [[[ is 4 levels.
        assert!(!variables_too_deep(&variables, 4));
        assert!(variables_too_deep(&variables, 3));
    }
}
