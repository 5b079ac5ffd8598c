//! Prisma schema extraction (`prisma/schema/*.prisma`, `schema.prisma`): models, their fields
//! (type, optional, list, attributes, `@relation`) and enums, addressed as `prisma:model` and
//! `prisma:model.field`.
//!
//! The schema language is line-oriented (one field per line, blocks closed by a lone `}`), so a
//! small line scanner is exact for what generators emit and needs no grammar. Like the
//! TypeScript extractor it never fails: a malformed line becomes a diagnostic.

use crate::model::*;
use crate::text::{fold_ws, hash_bytes, lossy, truncate};

pub(crate) fn extract_prisma(path: &str, src: &[u8]) -> FileIndex {
    let text = lossy(src);
    let mut symbols = Vec::new();
    let mut diagnostics = Vec::new();
    let mut refs = References::default();
    let mut doc: Vec<String> = Vec::new();
    let mut open: Option<Block> = None;
    let mut offset = 0usize;

    for (line_no, raw) in text.split_inclusive('\n').enumerate() {
        let line_start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let trimmed = line.trim();
        let indent = line.len() - line.trim_start().len();
        let line_span = |start_col: usize, end_col: usize| Span {
            start_byte: (line_start + start_col) as u32,
            end_byte: (line_start + end_col) as u32,
            start: Pos { line: line_no as u32, col: start_col as u32 },
            end: Pos { line: line_no as u32, col: end_col as u32 },
        };
        if let Some(d) = trimmed.strip_prefix("///") {
            doc.push(d.trim().to_string());
            continue;
        }
        if trimmed.is_empty() || trimmed.starts_with("//") {
            doc.clear();
            continue;
        }
        let code = strip_line_comment(trimmed);
        if let Some(block) = open {
            if code == "}" {
                if let Block::Symbol { index, .. } = block {
                    let sym: &mut Symbol = &mut symbols[index];
                    sym.span.end_byte = (line_start + indent + 1) as u32;
                    sym.span.end = Pos { line: line_no as u32, col: (indent + 1) as u32 };
                    sym.hash = hash_bytes(&src[sym.span.start_byte as usize..sym.span.end_byte as usize]);
                }
                open = None;
                doc.clear();
                continue;
            }
            if let Block::Symbol { index, fields: true } = block {
                if code.starts_with("@@") {
                    doc.clear();
                    continue;
                }
                let model = symbols[index].name.clone();
                match parse_field(code) {
                    Some(field) => {
                        let name_len = code.split_whitespace().next().map_or(0, str::len);
                        let mut sym = prisma_symbol(
                            format!("{model}.{}", code.split_whitespace().next().unwrap_or_default()),
                            SymbolKind::Field,
                            line_span(indent, indent + code.len()),
                            line_span(indent, indent + name_len),
                            fold_ws(code),
                            &mut doc,
                        );
                        sym.hash = hash_bytes(code.as_bytes());
                        let type_col = code.find(&field.type_name).unwrap_or(0);
                        intern_ref(&mut refs, &field.type_name, Pos { line: line_no as u32, col: (indent + type_col) as u32 });
                        sym.prisma = Some(field);
                        symbols.push(sym);
                    }
                    None => diagnostics.push(Diagnostic {
                        severity: Severity::Error,
                        message: format!("prisma: cannot read field `{}`", truncate(code, 60)),
                        pos: Pos { line: line_no as u32, col: indent as u32 },
                    }),
                }
            }
            // Enum values and datasource/generator settings are not symbols.
            doc.clear();
            continue;
        }
        let mut words = code.split_whitespace();
        let keyword = words.next().unwrap_or_default();
        let name = words.next().unwrap_or_default();
        let opens = code.ends_with('{');
        match keyword {
            "model" | "view" | "type" | "enum" if opens && is_ident(name) => {
                let kind = if keyword == "enum" { SymbolKind::Enum } else { SymbolKind::Model };
                let name_col = indent + code.find(name).unwrap_or(0);
                let sym = prisma_symbol(name.to_string(), kind, line_span(indent, indent + code.len()), line_span(name_col, name_col + name.len()), format!("{keyword} {name}"), &mut doc);
                symbols.push(sym);
                open = Some(Block::Symbol { index: symbols.len() - 1, fields: kind == SymbolKind::Model });
            }
            "datasource" | "generator" if opens => open = Some(Block::Config),
            _ => diagnostics.push(Diagnostic { severity: Severity::Error, message: format!("prisma: unexpected `{}`", truncate(code, 60)), pos: Pos { line: line_no as u32, col: indent as u32 } }),
        }
        doc.clear();
    }
    if let Some(Block::Symbol { index, .. }) = open {
        diagnostics.push(Diagnostic { severity: Severity::Error, message: format!("prisma: block `{}` is not closed", symbols[index].name), pos: symbols[index].span.start });
    }
    for sym in &mut symbols {
        sym.name = format!("prisma:{}", sym.name);
        if sym.hash == 0 {
            sym.hash = hash_bytes(&src[sym.span.start_byte as usize..sym.span.end_byte as usize]);
        }
    }
    FileIndex {
        path: path.to_string(),
        lang: FileLang::Prisma,
        hash: hash_bytes(src),
        len: src.len() as u64,
        symbols,
        imports: Vec::new(),
        references: References::new(refs.names, refs.refs),
        diagnostics,
        not_parsed: None,
    }
}

/// The block a line belongs to.
#[derive(Clone, Copy)]
enum Block {
    /// A model, view, composite type (`fields`) or enum (values are not symbols).
    Symbol { index: usize, fields: bool },
    /// `datasource`/`generator`: settings, no symbols.
    Config,
}

fn prisma_symbol(name: String, kind: SymbolKind, span: Span, name_span: Span, signature: String, doc: &mut Vec<String>) -> Symbol {
    let doc_lines = std::mem::take(doc);
    Symbol {
        name,
        kind,
        exported: true,
        default_export: false,
        declaration: false,
        span,
        name_span,
        signature,
        doc: doc_lines.iter().find(|l| !l.is_empty()).cloned(),
        doc_full: if doc_lines.is_empty() { None } else { Some(doc_lines.join("\n")) },
        hash: 0,
        decorators: Vec::new(),
        source: None,
        prisma: None,
    }
}

fn intern_ref(refs: &mut References, name: &str, pos: Pos) {
    let id = match refs.names.iter().position(|n| n == name) {
        Some(i) => i as u32,
        None => {
            refs.names.push(name.to_string());
            (refs.names.len() - 1) as u32
        }
    };
    refs.refs.push(Ref { name: id, kind: RefKind::Type, pos });
}

fn strip_line_comment(s: &str) -> &str {
    // `//` starts a comment unless inside a string literal (e.g. a URL default value).
    let mut in_str = false;
    let b = s.as_bytes();
    for i in 0..b.len() {
        match b[i] {
            b'"' => in_str = !in_str,
            b'/' if !in_str && b.get(i + 1) == Some(&b'/') => return s[..i].trim_end(),
            _ => {}
        }
    }
    s
}

fn is_ident(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// `title String? @db.VarChar(80)` → type, optional, list, attributes.
fn parse_field(code: &str) -> Option<PrismaField> {
    let mut rest = code.trim();
    let name_end = rest.find(char::is_whitespace)?;
    let name = &rest[..name_end];
    if !is_ident(name) {
        return None;
    }
    rest = rest[name_end..].trim_start();
    let type_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let raw_type = &rest[..type_end];
    if raw_type.is_empty() || raw_type.starts_with('@') {
        return None;
    }
    rest = rest[type_end..].trim_start();
    let list = raw_type.ends_with("[]");
    let optional = raw_type.ends_with('?');
    let type_name = raw_type.trim_end_matches('?').trim_end_matches("[]").to_string();
    let attributes = split_attributes(rest);
    let relation = attributes.iter().find(|a| a.starts_with("@relation")).map(|a| parse_relation(a));
    Some(PrismaField { type_name, optional, list, attributes, relation })
}

/// Split `@id @default(uuid()) @db.VarChar(80)` at top-level `@`s.
fn split_attributes(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut in_str = false;
    let mut current = String::new();
    for c in s.chars() {
        match c {
            '"' => in_str = !in_str,
            '(' | '[' if !in_str => depth += 1,
            ')' | ']' if !in_str => depth -= 1,
            '@' if !in_str && depth == 0 && !current.trim().is_empty() => {
                out.push(current.trim().to_string());
                current.clear();
            }
            _ => {}
        }
        current.push(c);
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_string());
    }
    out
}

/// `@relation("name", fields: [a], references: [id], onDelete: Cascade)`.
fn parse_relation(attr: &str) -> PrismaRelation {
    let inner = attr.trim_start_matches("@relation").trim();
    let inner = inner.strip_prefix('(').and_then(|s| s.strip_suffix(')')).unwrap_or("");
    let list = |key: &str| -> Vec<String> {
        inner
            .find(&format!("{key}:"))
            .and_then(|i| {
                let after = &inner[i..];
                let open = after.find('[')?;
                let close = after.find(']')?;
                Some(after[open + 1..close].split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect())
            })
            .unwrap_or_default()
    };
    let name = inner.split(',').next().map(str::trim).and_then(|first| {
        let first = first.strip_prefix("name:").map(str::trim).unwrap_or(first);
        first.strip_prefix('"').and_then(|f| f.strip_suffix('"')).map(str::to_string)
    });
    PrismaRelation { name, fields: list("fields"), references: list("references") }
}
