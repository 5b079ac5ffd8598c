//! Files held but not indexed yet: a first start answers its first question before the whole
//! backend is parsed (issue 15, "nothing waits for what it does not need").
//!
//! A pending file keeps its bytes; [`crate::Registry::file`] indexes it on first use. What a
//! query needs to know about files it has not parsed is answered from their text, always as
//! a superset of the truth, so that every answer is the one a fully indexed registry gives:
//!
//! - **Who may import a file.** Every import, re-export, `require` and dynamic `import()`
//!   names its module in a string literal. Each file's text is cut at every quote character
//!   (`'`, `"`, `` ` ``) up to the next same quote on the line, whatever the lexical context
//!   (a quote in a comment only adds candidates), and each piece that resolves to a file of the
//!   registry is a candidate edge. The real edges are a subset: a candidate is parsed before it
//!   counts. Escapes are read as JavaScript reads them (`\u0061` is `a`); a piece ending in a
//!   backslash (an escaped quote or a line continuation: the literal goes on past it) makes its
//!   file a candidate importer of every file.
//! - **Whether a file may name something.** A name in the reference index is a token of the
//!   file, so its bytes are in the text.

use std::collections::{BTreeSet, HashMap};

use memchr::memmem;

use crate::resolve::TsConfigSet;

/// Longest quoted piece taken as a possible module specifier (real ones are a few dozen bytes).
const MAX_SPECIFIER: usize = 512;

/// The candidate import graph of the pending files.
#[derive(Default)]
pub(crate) struct Candidates {
    /// file → the files whose text may import it (sorted, may include the file itself).
    pub importers: HashMap<String, Vec<String>>,
    /// Files whose text holds an escaped quoted piece: candidate importers of every file.
    pub opaque: Vec<String>,
}

/// The quoted pieces of `text`: from each quote character to the next same one on its line.
/// Escapes are cooked. Returns `None` when a piece ends in a backslash (its literal goes on past
/// the quote or the line, so its value cannot be read off the bytes).
pub(crate) fn quoted_pieces(text: &[u8]) -> Option<BTreeSet<Vec<u8>>> {
    let mut out = BTreeSet::new();
    for start in memchr::memchr3_iter(b'\'', b'"', b'`', text) {
        let quote = text[start];
        let rest = &text[start + 1..text.len().min(start + 1 + MAX_SPECIFIER)];
        let Some(len) = rest.iter().position(|&b| b == quote || b == b'\n') else { continue };
        if rest[len] != quote {
            continue;
        }
        let piece = &rest[..len];
        if piece.contains(&b'\\') {
            out.insert(cook(piece)?);
        } else if !piece.is_empty() {
            out.insert(piece.to_vec());
        }
    }
    Some(out)
}

/// The value of a literal's body as JavaScript reads it; `None` when it ends in an unpaired
/// backslash.
fn cook(piece: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(piece.len());
    let mut i = 0;
    let hex = |s: &[u8]| std::str::from_utf8(s).ok().and_then(|h| u32::from_str_radix(h, 16).ok()).and_then(char::from_u32);
    let push = |out: &mut Vec<u8>, c: char| out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
    while i < piece.len() {
        if piece[i] != b'\\' {
            out.push(piece[i]);
            i += 1;
            continue;
        }
        let next = *piece.get(i + 1)?;
        i += 2;
        match next {
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'v' => out.push(11),
            b'0' => out.push(0),
            b'x' if i + 2 <= piece.len() => match hex(&piece[i..i + 2]) {
                Some(c) => {
                    push(&mut out, c);
                    i += 2;
                }
                None => out.push(b'x'),
            },
            b'u' if piece.get(i) == Some(&b'{') => match piece[i..].iter().position(|&b| b == b'}').and_then(|end| hex(&piece[i + 1..i + end]).map(|c| (c, end))) {
                Some((c, end)) => {
                    push(&mut out, c);
                    i += end + 1;
                }
                None => out.push(b'u'),
            },
            b'u' if i + 4 <= piece.len() => match hex(&piece[i..i + 4]) {
                Some(c) => {
                    push(&mut out, c);
                    i += 4;
                }
                None => out.push(b'u'),
            },
            other => out.push(other),
        }
    }
    Some(out)
}

/// Build the candidate graph over `texts` (every file of the registry, with `exists` telling
/// which paths it holds).
pub(crate) fn candidates(texts: &[(&str, &[u8])], tsconfigs: &TsConfigSet, exists: &(dyn Fn(&str) -> bool + Sync)) -> Candidates {
    use rayon::prelude::*;
    let edges: Vec<(&str, Option<Vec<String>>)> = texts
        .par_iter()
        .map(|(path, text)| {
            let targets = quoted_pieces(text).map(|pieces| {
                let mut targets: Vec<String> = pieces.iter().filter_map(|p| std::str::from_utf8(p).ok()).filter_map(|spec| tsconfigs.resolve(path, spec, exists)).collect();
                targets.sort();
                targets.dedup();
                targets
            });
            (*path, targets)
        })
        .collect();
    let mut out = Candidates::default();
    for (path, targets) in edges {
        match targets {
            Some(targets) => {
                for t in targets {
                    out.importers.entry(t).or_default().push(path.to_string());
                }
            }
            None => out.opaque.push(path.to_string()),
        }
    }
    for list in out.importers.values_mut() {
        list.sort();
    }
    out
}

/// Whether `text` may name `word` (holds its bytes).
pub(crate) fn may_name(text: &[u8], word: &str) -> bool {
    !word.is_empty() && memmem::find(text, word.as_bytes()).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(text: &str) -> Option<Vec<String>> {
        quoted_pieces(text.as_bytes()).map(|s| s.into_iter().map(|p| String::from_utf8_lossy(&p).into_owned()).collect())
    }

    #[test]
    fn every_string_literal_is_a_piece_whatever_precedes_it() {
        let text = "// don't import \"x\"\nimport { a } from './a';\nexport * from \"../b/index.js\";\nconst c = await import(`./c`);\n";
        let got = pieces(text).unwrap();
        for want in ["./a", "../b/index.js", "./c", "x"] {
            assert!(got.contains(&want.to_string()), "{want} in {got:?}");
        }
        // An apostrophe in a comment starts a piece of its own, and the literals after it on
        // other lines are still found: pieces never cross a line.
        assert!(pieces("/* it's */ import x from \"./y\";").unwrap().contains(&"./y".to_string()));
        // Escapes are read as JavaScript reads them; an escaped quote leaves the literal's end
        // unknown, and the file opaque.
        assert!(pieces("import x from './\\u0079';").unwrap().contains(&"./y".to_string()));
        assert!(pieces("const n = \"a\\n\"; import x from './y';").unwrap().contains(&"./y".to_string()));
        assert!(pieces("const s = 'a\\'b'; import x from './y';").is_none());
    }
}
