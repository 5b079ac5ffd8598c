//! Printing: JSON on stdout for `--json` (and nothing else there), a coloured human form
//! otherwise; notes, warnings and errors always on stderr. A closed stdout (`| head`) ends the
//! process quietly: a broken pipe is not an error.

use std::io::Write;

use anstyle::{AnsiColor, Style};
use serde::Serialize;

use crate::blast::BlastReport;
use crate::doctor::DoctorReport;
use crate::workspace::{IndexReport, SymbolsReport};

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();
const KIND: Style = AnsiColor::Cyan.on_default();
const WARN: Style = AnsiColor::Yellow.on_default().bold();
const ERR: Style = AnsiColor::Red.on_default().bold();
const OK: Style = AnsiColor::Green.on_default();

pub struct Out {
    pub json: bool,
}

impl Out {
    pub fn new(json: bool) -> Out {
        Out { json }
    }

    fn stdout(&self, text: &str) {
        let mut s = anstream::stdout();
        if let Err(e) = s.write_all(text.as_bytes()).and_then(|()| s.flush()) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
        }
    }

    fn stderr(&self, text: &str) {
        let mut s = anstream::stderr();
        let _ = s.write_all(text.as_bytes());
    }

    fn json_value<T: Serialize>(&self, value: &T) {
        let mut text = serde_json::to_string_pretty(value).expect("reports serialise");
        text.push('\n');
        self.stdout(&text);
    }

    pub fn note(&self, message: &str) {
        self.stderr(&format!("{WARN}note{WARN:#}: {message}\n"));
    }

    pub fn error(&self, message: &str) {
        self.stderr(&format!("{ERR}error{ERR:#}: {message}\n"));
    }
}

pub fn index(out: &Out, r: &IndexReport) {
    for note in &r.notes {
        out.note(note);
    }
    if out.json {
        out.json_value(r);
        return;
    }
    out.stdout(&format!(
        "{OK}indexed{OK:#} {BOLD}{}{BOLD:#} files · {BOLD}{}{BOLD:#} symbols {DIM}({} parsed, {} reused, {} removed) in {} ms · generation {}{DIM:#}\n",
        r.files, r.symbols, r.parsed, r.reused, r.removed, r.elapsed_ms, r.generation
    ));
    for e in r.syntax_errors.iter().take(5) {
        out.stderr(&format!("{WARN}warning{WARN:#}: {}:{}: {} {DIM}(recoverable symbols are indexed){DIM:#}\n", e.file, e.line, e.message));
    }
    if r.syntax_errors.len() > 5 {
        out.stderr(&format!("{WARN}warning{WARN:#}: … {} more files with syntax errors (see --json)\n", r.syntax_errors.len() - 5));
    }
    if !r.skipped.is_empty() {
        out.stderr(&format!("{WARN}skipped{WARN:#} {} path(s):\n", r.skipped.len()));
        for s in &r.skipped {
            out.stderr(&format!("  {}  {DIM}{}{DIM:#}\n", s.path, s.reason));
        }
    }
}

pub fn symbols(out: &Out, query: &str, r: &SymbolsReport, limit: usize) {
    for note in &r.notes {
        out.note(note);
    }
    if r.hits.is_empty() {
        let mut msg = format!("no symbol matches `{query}`");
        if !r.suggestions.is_empty() {
            msg.push_str(&format!("; did you mean: {}?", r.suggestions.join(", ")));
        }
        out.stderr(&format!("{msg}\n"));
    }
    if out.json {
        out.json_value(&r.hits);
        return;
    }
    let shown = &r.hits[..r.hits.len().min(limit)];
    let name_w = shown.iter().map(|h| h.name.len()).max().unwrap_or(0).min(48);
    let mut text = String::new();
    for h in shown {
        let loc = format!("{}:{}", h.file, h.line);
        let sig = if h.signature.chars().count() > 100 { format!("{}…", h.signature.chars().take(100).collect::<String>()) } else { h.signature.clone() };
        text.push_str(&format!("{KIND}{:<9}{KIND:#} {BOLD}{:<name_w$}{BOLD:#}  {loc}  {DIM}{sig}{DIM:#}\n", h.kind.as_str(), h.name));
    }
    if r.hits.len() > shown.len() {
        text.push_str(&format!("{DIM}… {} more (narrow the query, add --kind, or use --json){DIM:#}\n", r.hits.len() - shown.len()));
    }
    out.stdout(&text);
}

pub fn blast(out: &Out, r: &BlastReport) {
    for note in &r.notes {
        out.note(note);
    }
    if out.json {
        out.json_value(r);
        return;
    }
    let mut t = format!(
        "{BOLD}blast radius{BOLD:#} of {KIND}{}{KIND:#} {BOLD}{}{BOLD:#} {DIM}({}:{}){DIM:#} · change: {BOLD}{}{BOLD:#}\n",
        r.target.kind.as_str(),
        r.target.name,
        r.target.file,
        r.target.line,
        serde_json::to_value(r.change).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
    );
    if let Some(s) = &r.server {
        t.push_str(&format!("{DIM}server: {} {} ({}){DIM:#}\n", s.kind.as_str(), s.version, if s.ready_ms.is_some() { "all projects loaded" } else { "projects still loading" }));
    }
    let section = |t: &mut String, title: &str, style: Style, items: &[&crate::blast::Impact]| {
        if items.is_empty() {
            return;
        }
        t.push_str(&format!("\n{style}{title}{style:#} ({})\n", items.len()));
        for i in items {
            let rel = serde_json::to_value(i.relation).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
            let via = serde_json::to_value(i.via).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
            let through = i.through.as_ref().map(|x| format!(" via {x}")).unwrap_or_default();
            t.push_str(&format!("  {}:{}  {BOLD}{}{BOLD:#}  {DIM}{rel}, {via}{through}{DIM:#}\n", i.file, i.line, i.symbol));
        }
    };
    let must: Vec<_> = r.impacted.iter().filter(|i| i.must_change).collect();
    let other: Vec<_> = r.impacted.iter().filter(|i| !i.must_change).collect();
    section(&mut t, "must change", ERR, &must);
    section(&mut t, "touched", WARN, &other);
    t.push_str(&format!(
        "\n{} files ({} must change) · {} tests\n",
        r.files.len(),
        r.must_change_files.len(),
        r.tests.len()
    ));
    if !r.completeness.added_by_registry.is_empty() {
        t.push_str(&format!("{WARN}the server did not return {} file(s) the registry reaches; included:{WARN:#} {}\n", r.completeness.added_by_registry.len(), r.completeness.added_by_registry.join(", ")));
    }
    if r.approximate {
        t.push_str(&format!("{WARN}approximate:{WARN:#} part of this answer comes from the registry alone (see notes)\n"));
    }
    out.stdout(&t);
}

pub fn doctor(out: &Out, r: &DoctorReport) {
    if out.json {
        out.json_value(r);
        return;
    }
    let mut text = format!("{BOLD}maintaind{BOLD:#} {}\n{:<27} {}\n", r.maintaind, "root", r.root.display());
    for tool in &r.tools {
        match (&tool.version, &tool.path) {
            (Some(v), Some(p)) => text.push_str(&format!("{:<27} {OK}{v}{OK:#} {DIM}({}){DIM:#}\n", tool.name, p.display())),
            _ => text.push_str(&format!("{:<27} {WARN}not found{WARN:#} {DIM}{}{DIM:#}\n", tool.name, tool.hint)),
        }
    }
    for s in &r.servers {
        let label = format!("server {}", s.kind);
        match &s.found {
            Some(f) => {
                let origin = serde_json::to_value(f.origin).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
                text.push_str(&format!("{label:<27} {OK}{}{OK:#} {DIM}({origin}: {}){DIM:#}\n", f.version, f.program.display()))
            }
            None => text.push_str(&format!("{label:<27} {WARN}not installed{WARN:#} {DIM}installed on first `blast`; or: {}{DIM:#}\n", s.install)),
        }
    }
    let db = &r.registry;
    text.push_str(&format!(
        "{:<27} {} {DIM}({} files, {} symbols, generation {}, {} KiB, {}){DIM:#}\n",
        "registry",
        db.state,
        db.files,
        db.symbols,
        db.generation,
        db.size_bytes / 1024,
        db.path.display()
    ));
    out.stdout(&text);
}
