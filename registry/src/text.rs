//! Small text helpers shared by the extractors: lossy slices, whitespace folding, JSDoc and
//! string-literal unwrapping, hashing.

use xxhash_rust::xxh3::xxh3_64;

/// Bytes to text; invalid UTF-8 becomes U+FFFD. Byte offsets elsewhere stay those of the
/// original bytes, so a file with a stray invalid byte still has exact positions.
pub fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn hash_bytes(bytes: &[u8]) -> u64 {
    xxh3_64(bytes)
}

/// Collapse every run of whitespace to one space and trim; a multi-line parameter list
/// `(\n  a,\n)` reads `(a)`: no space inside parentheses, no trailing comma before `)`.
pub fn fold_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            space = !out.is_empty();
        } else {
            if c == ')' && out.ends_with(',') {
                out.pop();
            }
            if space && !out.ends_with('(') && c != ')' {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
    out
}

/// At most `max` characters, with `…` when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max).collect();
    out.push('…');
    out
}

/// `"x"`, `'x'` or `` `x` `` → `x`; anything else unchanged.
pub fn strip_quotes(s: &str) -> String {
    let b = s.as_bytes();
    if b.len() >= 2 && matches!(b[0], b'"' | b'\'' | b'`') && b[b.len() - 1] == b[0] { s[1..s.len() - 1].to_string() } else { s.to_string() }
}

/// The text lines of a `/** ... */` comment, markers and leading `*` stripped, trimmed.
/// Blank lines inside are kept as empty strings; leading and trailing blanks are dropped.
pub fn jsdoc_lines(comment: &str) -> Vec<String> {
    let body = comment.trim_start_matches("/**").trim_end_matches("*/");
    let mut lines: Vec<String> = body
        .lines()
        .map(|l| {
            let t = l.trim();
            t.strip_prefix('*').map(str::trim).unwrap_or(t).to_string()
        })
        .collect();
    while lines.first().is_some_and(String::is_empty) {
        lines.remove(0);
    }
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_whitespace() {
        assert_eq!(fold_ws("  a\n\t  b  c \n"), "a b c");
        assert_eq!(fold_ws(""), "");
        assert_eq!(fold_ws("at(\n    @P(\"id\") id: string,\n  ): R"), "at(@P(\"id\") id: string): R");
        assert_eq!(fold_ws("f(a, b)"), "f(a, b)");
    }

    #[test]
    fn strips_quotes() {
        assert_eq!(strip_quotes("\"a\""), "a");
        assert_eq!(strip_quotes("'a'"), "a");
        assert_eq!(strip_quotes("`a`"), "a");
        assert_eq!(strip_quotes("\""), "\"");
        assert_eq!(strip_quotes("a"), "a");
    }

    #[test]
    fn jsdoc() {
        let c = "/**\n * Title of the article.\n *\n * Maps to bbs_articles.title\n */";
        assert_eq!(jsdoc_lines(c), vec!["Title of the article.", "", "Maps to bbs_articles.title"]);
        assert_eq!(jsdoc_lines("/** one */"), vec!["one"]);
    }
}
