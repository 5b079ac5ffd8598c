//! Printing: JSON on stdout for `--json` (and nothing else there), a coloured human form
//! otherwise; notes, warnings and errors always on stderr. A closed stdout (`| head`) ends the
//! process quietly: a broken pipe is not an error.

use std::io::Write;

use anstyle::{AnsiColor, Style};
use serde::Serialize;

use crate::blast::BlastReport;
use crate::doctor::DoctorReport;
use crate::manifest::Manifest;
use crate::workspace::{IndexReport, SymbolsReport};

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();
const KIND: Style = AnsiColor::Cyan.on_default();
const WARN: Style = AnsiColor::Yellow.on_default().bold();
const ERR: Style = AnsiColor::Red.on_default().bold();
const OK: Style = AnsiColor::Green.on_default();

pub struct Out {
    pub json: bool,
    /// Set when a command runs inside another server (`maintaind mcp`): what it prints is
    /// kept here (colour stripped) instead of reaching the process's stdout, which is that
    /// server's transport.
    captured: Option<std::cell::RefCell<Captured>>,
}

/// What a command printed, when captured.
#[derive(Debug, Default, Clone)]
pub struct Captured {
    pub stdout: String,
    pub stderr: String,
    /// What the command reads for `-` (stdin): `None` refuses `-`, since the real stdin is a
    /// transport.
    pub input: Option<String>,
}

impl Out {
    pub fn new(json: bool) -> Out {
        Out { json, captured: None }
    }

    /// An `Out` that keeps everything printed, with `input` as what `-` reads.
    pub fn capturing(json: bool, input: Option<String>) -> Out {
        Out { json, captured: Some(std::cell::RefCell::new(Captured { input, ..Captured::default() })) }
    }

    /// What was printed so far (empty when not capturing).
    pub fn captured(&self) -> Captured {
        self.captured.as_ref().map(|c| c.borrow().clone()).unwrap_or_default()
    }

    /// Read what `-` names, at most `limit` bytes (one more tells the caller it was longer):
    /// the process's stdin, or the text given to a captured run.
    pub fn read_stdin(&self, limit: u64) -> std::io::Result<String> {
        if let Some(c) = &self.captured {
            return c.borrow().input.clone().ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "`-` (stdin) is not available here: pass the text itself"));
        }
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::Read::take(std::io::stdin(), limit), &mut text)?;
        Ok(text)
    }

    fn stdout(&self, text: &str) {
        if let Some(c) = &self.captured {
            c.borrow_mut().stdout.push_str(&anstream::adapter::strip_str(text).to_string());
            return;
        }
        let mut s = anstream::stdout();
        if let Err(e) = s.write_all(text.as_bytes()).and_then(|()| s.flush())
            && e.kind() == std::io::ErrorKind::BrokenPipe
        {
            std::process::exit(0);
        }
    }

    /// Bytes as they are (a binary format on stdout); a closed pipe ends the process quietly.
    pub fn stdout_bytes(&self, bytes: &[u8]) {
        if let Some(c) = &self.captured {
            c.borrow_mut().stdout.push_str(&String::from_utf8_lossy(bytes));
            return;
        }
        let mut s = std::io::stdout().lock();
        if let Err(e) = s.write_all(bytes).and_then(|()| s.flush())
            && e.kind() == std::io::ErrorKind::BrokenPipe
        {
            std::process::exit(0);
        }
    }

    fn stderr(&self, text: &str) {
        if let Some(c) = &self.captured {
            c.borrow_mut().stderr.push_str(&anstream::adapter::strip_str(text).to_string());
            return;
        }
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

    /// A failed command: the message on stderr, and under `--json` also
    /// `{"error": {"code", "exit", "message"}}` on stdout, so a program reading stdout learns
    /// why (the exit code stays what it was).
    pub fn failure(&self, exit: i32, message: &str) {
        self.error(message);
        if self.json {
            self.json_value(&json_error(exit, message));
        }
    }
}

/// clap's message without its usage and help lines, on one line.
pub fn clap_message(e: &clap::Error) -> String {
    let text = e.to_string();
    let lines: Vec<&str> = text.lines().take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information")).map(str::trim).filter(|l| !l.is_empty()).collect();
    lines.join(" ").trim_start_matches("error: ").to_string()
}

/// The `--json` form of a failure. `code` names the exit code's meaning: `bad_input` (2),
/// `environment` (3), else `failed`.
pub fn json_error(exit: i32, message: &str) -> serde_json::Value {
    let code = match exit {
        crate::exit::EXIT_USAGE => "bad_input",
        crate::exit::EXIT_ENV => "environment",
        _ => "failed",
    };
    serde_json::json!({"error": {"code": code, "exit": exit, "message": message}})
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

/// How many files a human list shows before "… N more files (--all lists them)".
pub const LIST_CAP: usize = 25;

/// One file of a blast radius as a reader wants it: where in it, how it is related, whether
/// it must change.
struct FileImpacts<'a> {
    file: &'a str,
    must: bool,
    places: std::collections::BTreeSet<(u32, &'a str)>,
    relations: std::collections::BTreeSet<String>,
    vias: std::collections::BTreeSet<String>,
    through: std::collections::BTreeSet<&'a str>,
}

/// Impacts grouped by file (one entry per file, its relations merged); must-change files first,
/// then by path.
fn by_file(impacts: &[crate::blast::Impact]) -> Vec<FileImpacts<'_>> {
    let word = |v: serde_json::Result<serde_json::Value>| v.ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    let mut files: std::collections::BTreeMap<&str, FileImpacts> = std::collections::BTreeMap::new();
    for i in impacts {
        let f = files.entry(i.file.as_str()).or_insert_with(|| FileImpacts {
            file: &i.file,
            must: false,
            places: Default::default(),
            relations: Default::default(),
            vias: Default::default(),
            through: Default::default(),
        });
        f.must |= i.must_change;
        f.places.insert((i.line, i.symbol.as_str()));
        f.relations.insert(word(serde_json::to_value(i.relation)));
        f.vias.insert(word(serde_json::to_value(i.via)));
        f.through.extend(i.through.as_deref());
    }
    let mut list: Vec<FileImpacts> = files.into_values().collect();
    list.sort_by_key(|f| !f.must);
    list
}

/// Up to `LIST_CAP` entries (all with `all`), then one line that says how many were left out
/// and what lists them (`hint`).
fn capped<T>(items: &[T], all: bool, hint: &str, line: impl Fn(&T) -> String) -> String {
    let shown = if all { items.len() } else { items.len().min(LIST_CAP) };
    let mut t: String = items[..shown].iter().map(|i| line(i) + "\n").collect();
    if shown < items.len() {
        t.push_str(&format!("  {DIM}… {} more ({hint} lists them){DIM:#}\n", items.len() - shown));
    }
    t
}

/// `file:first-line  symbol (lines), …  relations · sources via …`: each symbol once with its
/// lines, the longest parts capped.
fn impact_line(f: &FileImpacts) -> String {
    const SYMBOLS: usize = 3;
    const THROUGH: usize = 3;
    let mut symbols: Vec<(&str, Vec<u32>)> = Vec::new();
    for (line, symbol) in &f.places {
        let symbol = if *symbol == "(import)" { "import" } else { symbol };
        match symbols.iter_mut().find(|(s, _)| *s == symbol) {
            Some((_, lines)) => lines.push(*line),
            None => symbols.push((symbol, vec![*line])),
        }
    }
    let mut parts: Vec<String> = symbols.iter().take(SYMBOLS).map(|(s, lines)| format!("{BOLD}{s}{BOLD:#} ({})", lines.iter().map(u32::to_string).collect::<Vec<_>>().join(", "))).collect();
    if symbols.len() > SYMBOLS {
        parts.push(format!("+{} more", symbols.len() - SYMBOLS));
    }
    let through: Vec<&str> = f.through.iter().copied().take(THROUGH).collect();
    let more = f.through.len().saturating_sub(THROUGH);
    let more = if more > 0 { format!(" +{more}") } else { String::new() };
    let through = if f.through.is_empty() { String::new() } else { format!(" via {}{more}", through.join(", ")) };
    let first = f.places.iter().next().map_or(1, |(l, _)| *l);
    format!(
        "  {}:{first}  {}  {DIM}{} · {}{through}{DIM:#}",
        f.file,
        parts.join(", "),
        f.relations.iter().cloned().collect::<Vec<_>>().join(", "),
        f.vias.iter().cloned().collect::<Vec<_>>().join(", ")
    )
}

/// A blast radius, one line per file: must-change files first, each with its places
/// (`line symbol`), its relations and where the answer came from; long lists are capped
/// unless `all`.
pub fn blast(out: &Out, r: &BlastReport, all: bool) {
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
    let files = by_file(&r.impacted);
    let (must, other): (Vec<&FileImpacts>, Vec<&FileImpacts>) = files.iter().partition(|f| f.must);
    for (title, style, list) in [("must change", ERR, &must), ("touched", WARN, &other)] {
        if list.is_empty() {
            continue;
        }
        let places: usize = list.iter().map(|f| f.places.len()).sum();
        t.push_str(&format!("\n{style}{title}{style:#} ({} file{}, {places} place{})\n", list.len(), plural(list.len()), plural(places)));
        t.push_str(&capped(list, all, "--all", |f| impact_line(f)));
    }
    t.push_str(&format!("\n{} files ({} must change) · {} tests\n", files.len(), must.len(), r.tests.len()));
    if !r.completeness.added_by_registry.is_empty() {
        t.push_str(&format!(
            "{WARN}the server did not return {} file(s) the registry reaches; included:{WARN:#} {}\n",
            r.completeness.added_by_registry.len(),
            r.completeness.added_by_registry.join(", ")
        ));
    }
    if r.approximate {
        t.push_str(&format!("{WARN}approximate:{WARN:#} part of this answer comes from the registry alone (see notes)\n"));
    }
    out.stdout(&t);
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A manifest as a reader needs it: decisions, targets, must-change locations, what may be
/// affected, tests, criteria with verdicts, exclusions.
/// `all` lifts the cap on the must-change list (`manifest show --all`).
pub fn manifest(out: &Out, m: &Manifest, active: bool, all: bool) {
    if out.json {
        out.json_value(m);
        return;
    }
    let mut t = format!("{BOLD}manifest{BOLD:#} {}{}\n", m.id, if active { " (active)" } else { "" });
    t.push_str(&format!(
        "{DIM}request:{DIM:#} {}\n{DIM}planner {} · server {}{}{DIM:#}\n",
        m.request,
        m.provenance.planner,
        m.provenance.language_server,
        if m.provenance.approximate { " · approximate" } else { "" }
    ));
    t.push_str(&format!("\n{BOLD}{}{BOLD:#}\n", m.decisions.summary));
    for c in &m.decisions.changes {
        let kind = serde_json::to_value(c.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        t.push_str(&format!("  {KIND}{kind:<9}{KIND:#} {BOLD}{}{BOLD:#}  {DIM}{}{DIM:#}\n", c.symbol, c.intent));
    }
    for n in &m.decisions.new_symbols {
        let kind = serde_json::to_value(n.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        t.push_str(&format!("  {OK}new {kind:<5}{OK:#} {BOLD}{}{BOLD:#}  {DIM}near {}{DIM:#}\n", n.name, n.near));
    }
    t.push_str(&format!("\n{BOLD}targets{BOLD:#}\n"));
    for x in &m.facts.targets {
        t.push_str(&format!("  {}:{}-{}  {BOLD}{}{BOLD:#}  {DIM}{}{DIM:#}\n", x.file, x.start_line, x.end_line, x.symbol, x.signature));
    }
    let must: Vec<crate::blast::Impact> = m.facts.blast_radius.iter().filter(|i| i.must_change).cloned().collect();
    let must_by_file = by_file(&must);
    if !must_by_file.is_empty() {
        let places: usize = must_by_file.iter().map(|f| f.places.len()).sum();
        t.push_str(&format!("\n{ERR}must change{ERR:#} ({} file{}, {places} place{})\n", must_by_file.len(), plural(must_by_file.len()), plural(places)));
        t.push_str(&capped(&must_by_file, all, &format!("`maintaind manifest show {} --all`", m.id), impact_line));
    }
    let must_files: std::collections::BTreeSet<&str> = m.facts.blast_radius.iter().filter(|i| i.must_change).map(|i| i.file.as_str()).collect();
    let may: std::collections::BTreeSet<&str> = m
        .facts
        .blast_radius
        .iter()
        .filter(|i| !i.must_change && !crate::blast::is_test_file(&i.file) && !must_files.contains(i.file.as_str()) && !m.facts.targets.iter().any(|t| t.file == i.file))
        .map(|i| i.file.as_str())
        .collect();
    if !may.is_empty() {
        t.push_str(&format!("\n{WARN}may be affected{WARN:#} ({} file{})\n", may.len(), if may.len() == 1 { "" } else { "s" }));
        for f in may {
            t.push_str(&format!("  {f}\n"));
        }
    }
    t.push_str(&format!("\n{BOLD}files to modify{BOLD:#} ({}): {}\n", m.facts.files_to_modify.len(), m.facts.files_to_modify.join(", ")));
    t.push_str(&format!(
        "{BOLD}tests{BOLD:#} ({}){}\n",
        m.facts.test_files.len(),
        if m.facts.test_files.is_empty() {
            String::new()
        } else {
            format!(": {}", m.facts.test_files.iter().take(6).cloned().collect::<Vec<_>>().join(", ")) + if m.facts.test_files.len() > 6 { ", …" } else { "" }
        }
    ));
    if !m.widened.is_empty() {
        t.push_str(&format!("{BOLD}widened{BOLD:#} ({})\n", m.widened.len()));
        for w in &m.widened {
            t.push_str(&format!("  {}  {DIM}by {}: {}{DIM:#}\n", w.path, w.by, w.reason));
        }
    }
    if let Some(previous) = &m.amends {
        t.push_str(&format!("{DIM}amends {previous}{DIM:#}\n"));
    }
    t.push_str(&format!("\n{BOLD}acceptance criteria{BOLD:#}\n"));
    for f in &m.feasibility {
        match &f.verdict {
            crate::synthesizer::Verdict::Ok => t.push_str(&format!("  {OK}ok{OK:#}        {}\n", f.criterion)),
            crate::synthesizer::Verdict::Rejected { reason, alternative } => {
                t.push_str(&format!("  {ERR}rejected{ERR:#}  {}\n            {DIM}{reason}; instead: {alternative}{DIM:#}\n", f.criterion))
            }
        }
    }
    if !m.decisions.excluded_categories.is_empty() {
        t.push_str(&format!(
            "\n{BOLD}excluded{BOLD:#}: {}  {DIM}({}){DIM:#}\n",
            m.decisions.excluded_categories.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", "),
            m.facts.excluded_patterns.join(" ")
        ));
    }
    if !m.facts.generated_files.is_empty() {
        t.push_str(&format!("{DIM}generated (edit their source, not them): {}{DIM:#}\n", m.facts.generated_files.join(", ")));
    }
    out.stdout(&t);
}

pub fn manifest_list(out: &Out, list: &[(String, String)], active: Option<&str>) {
    if out.json {
        let v: Vec<serde_json::Value> = list.iter().map(|(id, r)| serde_json::json!({"id": id, "request": r, "active": Some(id.as_str()) == active})).collect();
        out.json_value(&v);
        return;
    }
    if list.is_empty() {
        out.stdout("no manifests (plan one with `maintaind change \"...\"`)\n");
        return;
    }
    let mut t = String::new();
    for (id, r) in list {
        let mark = if Some(id.as_str()) == active { format!("{OK}*{OK:#}") } else { " ".into() };
        t.push_str(&format!("{mark} {id}  {DIM}{r}{DIM:#}\n"));
    }
    out.stdout(&t);
}

pub fn agent_setup(out: &Out, changes: &[crate::cli::agent::Change], dry_run: bool) {
    if out.json {
        out.json_value(&changes);
        return;
    }
    let mut t = String::new();
    for c in changes {
        let action = if dry_run && c.action != "unchanged" { format!("would be {}", c.action) } else { c.action.to_string() };
        t.push_str(&format!("{BOLD}{}{BOLD:#}  {action}\n", c.path));
        for n in &c.notes {
            t.push_str(&format!("  {DIM}{n}{DIM:#}\n"));
        }
        if dry_run && !c.diff.is_empty() {
            t.push_str(&c.diff);
        }
    }
    out.stdout(&t);
}

/// A Claude Code `PreToolUse` decision on stdout.
pub fn hook_decision(out: &Out, decision: &str, reason: &str) {
    out.json_value(&serde_json::json!({"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": decision, "permissionDecisionReason": reason}}));
}

/// JSON on stdout whether or not `--json` was given (a schema has no other form).
pub fn json_always<T: Serialize>(out: &Out, value: &T) {
    out.json_value(value);
}

pub fn audit(out: &Out, a: &crate::tree::Audit) {
    if out.json {
        out.json_value(a);
        return;
    }
    let mut t = format!("{BOLD}audit{BOLD:#} of manifest {} {DIM}(since the work began, {} files touched){DIM:#}\n", a.manifest, a.touched.len());
    for x in &a.touched {
        let change = match x.change {
            crate::tree::Change::Created => "created",
            crate::tree::Change::Changed => "changed",
            crate::tree::Change::Deleted => "deleted",
        };
        if x.in_scope {
            t.push_str(&format!("  {OK}in scope{OK:#}      {change:<8} {}\n", x.path));
        } else {
            t.push_str(&format!("  {ERR}out of scope{ERR:#}  {change:<8} {}\n", x.path));
        }
    }
    if a.out_of_scope == 0 {
        t.push_str(&format!("{OK}every change is in the manifest's scope{OK:#}\n"));
    } else {
        t.push_str(&format!(
            "{ERR}{} change{} outside the manifest's scope{ERR:#}: undo {}, or add {} with `maintaind manifest widen PATH --reason \"...\"`\n",
            a.out_of_scope,
            if a.out_of_scope == 1 { "" } else { "s" },
            if a.out_of_scope == 1 { "it" } else { "them" },
            if a.out_of_scope == 1 { "it" } else { "them" }
        ));
    }
    out.stdout(&t);
}

pub fn gate(out: &Out, verdicts: &[crate::gate::Verdict]) {
    if out.json {
        out.json_value(&verdicts);
        return;
    }
    let mut t = String::new();
    for v in verdicts {
        if v.allowed {
            t.push_str(&format!("{OK}allowed{OK:#}  {}  {DIM}{}{DIM:#}\n", v.path.as_deref().unwrap_or(&v.input), v.reason));
        } else {
            t.push_str(&format!("{ERR}refused{ERR:#}  {}  {}\n", v.input, v.reason));
        }
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
    match &r.daemon {
        Some(d) => {
            let server = match (&d.server, &d.server_note) {
                (Some(s), _) => format!("{} {} {}, {} restart(s)", s.kind.as_str(), s.version, bridge_state(&s.state), s.restarts),
                (None, note) => note.clone().unwrap_or_else(|| "no server".into()),
            };
            text.push_str(&format!("{:<27} {OK}{}{OK:#} {DIM}(pid {}, generation {}, server: {server}){DIM:#}\n", "daemon", d.state, d.pid, d.generation));
        }
        None => text.push_str(&format!("{:<27} not running {DIM}(`maintaind daemon start`){DIM:#}\n", "daemon")),
    }
    out.stdout(&text);
}

pub fn applied(out: &Out, r: &crate::apply::ApplyReport) {
    for n in &r.diagnostics.notes {
        out.note(n);
    }
    if out.json {
        out.json_value(r);
        return;
    }
    let mut t = format!("{OK}applied{OK:#} transaction {BOLD}{}{BOLD:#} {DIM}(manifest {}; undo with `maintaind rollback {}`){DIM:#}\n", r.txn, r.manifest, r.txn);
    for f in &r.files {
        t.push_str(&format!("  {:<9} {}  {DIM}op {}{DIM:#}\n", f.action, f.path, f.ops.iter().map(|o| o.to_string()).collect::<Vec<_>>().join(", ")));
    }
    let d = &r.diagnostics;
    if d.checked {
        // A Prisma change is judged per tsconfig project by the project's compiler.
        let checked = if !d.files.is_empty() && d.files.iter().all(|f| maintaind_registry::is_tsconfig(f)) {
            format!("{} tsconfig project(s)", d.files.len())
        } else {
            format!("{} checked file(s)", d.files.len())
        };
        if d.new_errors.is_empty() {
            t.push_str(&format!("{OK}no new errors{OK:#} in {checked}"));
            t.push_str(&if d.new_warnings.is_empty() { "\n".to_string() } else { format!(" · {WARN}{} new warning(s){WARN:#}\n", d.new_warnings.len()) });
        } else {
            t.push_str(&format!("{ERR}{} new error(s){ERR:#} in {checked}:\n", d.new_errors.len()));
        }
        for e in d.new_errors.iter().chain(&d.new_warnings) {
            let label = if e.error { format!("{ERR}error{ERR:#}") } else { format!("{WARN}warning{WARN:#}") };
            t.push_str(&format!("  {}:{}:{}: {label} {}{}\n", e.file, e.line, e.col, e.code.as_deref().map(|c| format!("TS{c}: ")).unwrap_or_default(), e.message));
        }
    }
    out.stdout(&t);
}

/// `change --apply`: the plan, then what became of it. `stored`: the manifest was stored and
/// activated (not `--dry-run`).
pub fn change_applied(out: &Out, r: &crate::mechanical::ChangeApplied, stored: bool) {
    use crate::mechanical::Outcome;
    let id = &r.manifest.id;
    if out.json {
        out.json_value(r);
    } else {
        manifest(out, &r.manifest, stored, false);
        match r.outcome {
            Outcome::DryRun => out.stdout(&format!("\n{BOLD}would apply{BOLD:#} ({}; --dry-run, nothing written):\n{}", distinct(&r.kinds), r.diff.as_deref().unwrap_or(""))),
            Outcome::PlanOnly => {}
            _ => {
                out.stdout("\n");
                if let Some(a) = &r.applied {
                    applied(out, a);
                }
            }
        }
    }
    // What went wrong goes to stderr in either form.
    match r.outcome {
        Outcome::PlanOnly => {
            let reason = r.reason.as_deref().unwrap_or("plan only: needs a coder");
            if stored {
                out.error(&format!("{reason}; manifest {id} is active: edits inside its scope are allowed (`maintaind apply`, an agent, an editor)"));
            } else {
                out.error(&format!("{reason}; nothing stored (--dry-run)"));
            }
        }
        Outcome::RolledBack => out.error(&format!("the change added errors, so it was rolled back (nothing of it remains); manifest {id} stays active for a coder")),
        Outcome::Unverified => out.error(&format!(
            "{} could not be checked, so the change was rolled back; manifest {id} stays active",
            r.applied.as_ref().map(|a| if a.diagnostics.unchecked.is_empty() { "the files".to_string() } else { a.diagnostics.unchecked.join(", ") }).unwrap_or_default()
        )),
        Outcome::Applied | Outcome::DryRun => {}
    }
}

/// `a, b` from `[a, a, b]`, first seen first.
fn distinct(items: &[String]) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for i in items {
        if !seen.contains(&i.as_str()) {
            seen.push(i);
        }
    }
    seen.join(", ")
}

pub fn journal(out: &Out, txns: &[crate::journal::Txn]) {
    if out.json {
        out.json_value(&txns);
        return;
    }
    if txns.is_empty() {
        out.note("the journal is empty: nothing was applied here");
        return;
    }
    let mut t = String::new();
    for x in txns.iter().rev() {
        let state = serde_json::to_value(x.state).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        t.push_str(&format!("{BOLD}{}{BOLD:#}  {state:<11} {} file(s)  {DIM}{}{DIM:#}\n", x.id, x.files.len(), x.files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>().join(", ")));
    }
    out.stdout(&t);
}

pub fn rolled_back(out: &Out, txn: &crate::journal::Txn) {
    if out.json {
        out.json_value(txn);
        return;
    }
    let mut t = format!("{OK}rolled back{OK:#} transaction {BOLD}{}{BOLD:#}\n", txn.id);
    for f in &txn.files {
        t.push_str(&format!("  {} {}\n", if f.before.is_some() { "restored" } else { "removed " }, f.path));
    }
    out.stdout(&t);
}

pub fn hash(out: &Out, file: &str, start: u32, end: u32, hash: &str) {
    if out.json {
        out.json_value(&serde_json::json!({"file": file, "start_line": start, "end_line": end, "hash": hash}));
    } else {
        out.stdout(&format!("{hash}\n"));
    }
}

/// How a check's report is shown: `all` lifts the caps; `rerun` is the command that checks
/// again; SARIF paths are relative to the repository's top (`repo_prefix` is the project's
/// directory in it, `repo_top` the checkout).
pub struct CheckView<'a> {
    pub all: bool,
    pub rerun: &'a str,
    pub repo_prefix: &'a str,
    pub repo_top: Option<&'a std::path::Path>,
}

/// A check's report: what changed, then one line per file that breaks (must-change first),
/// then, when refused, three lines that say what to do.
pub fn check(out: &Out, r: &crate::check::CheckReport, sarif: bool, view: &CheckView) {
    for n in &r.notes {
        out.note(n);
    }
    if sarif {
        out.json_value(&sarif_log(r, view));
        return;
    }
    if out.json {
        out.json_value(r);
        return;
    }
    let what = if r.compared.is_some() { "branch" } else { "commit" };
    let mut t = format!(
        "{BOLD}maintaind check{BOLD:#}: {}{} file{} in the {what} · {} symbol change{}{}\n",
        r.compared.as_deref().map(|c| format!("{c} · ")).unwrap_or_default(),
        r.committed.len(),
        plural(r.committed.len()),
        r.changes.len(),
        plural(r.changes.len()),
        r.manifest.as_deref().map(|m| format!(" · manifest {m}")).unwrap_or_default()
    );
    t.push_str(&capped(&r.changes, view.all, "--all", |c| {
        let kind = serde_json::to_value(c.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        let renamed = c.renamed_to.as_deref().map(|n| format!(" → {n}")).unwrap_or_default();
        format!("  {KIND}{kind:<9}{KIND:#} {}{renamed}  {DIM}{}{DIM:#}", c.symbol, c.file)
    }));
    let broken: std::collections::BTreeSet<&str> = r.violations.iter().map(|v| v.file.as_str()).collect();
    let quiet: Vec<&String> = r.candidates.iter().filter(|c| !broken.contains(c.as_str())).collect();
    if !quiet.is_empty() {
        let shown = if view.all { quiet.len() } else { quiet.len().min(LIST_CAP) };
        let more = if shown < quiet.len() { format!(", … {} more", quiet.len() - shown) } else { String::new() };
        let verdict = if r.checked_with_server { "no new error" } else { "not verified without the language server" };
        t.push_str(&format!("{DIM}must change by the blast radius, not in the {what} ({verdict}): {}{more}{DIM:#}\n", quiet[..shown].iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")));
    }
    if !r.changes.is_empty() && !r.checked_with_server {
        t.push_str(&format!("{WARN}without the language server{WARN:#}: only references to removed or renamed symbols were checked\n"));
    }
    if r.violations.is_empty() {
        t.push_str(&format!("{OK}ok{OK:#}: nothing outside the {what} breaks\n"));
        out.stdout(&t);
        return;
    }
    // One line per file: its first violation, then how many more and where.
    let mut files: std::collections::BTreeMap<&str, Vec<&crate::check::Violation>> = std::collections::BTreeMap::new();
    for v in &r.violations {
        files.entry(v.file.as_str()).or_default().push(v);
    }
    let files: Vec<(&str, Vec<&crate::check::Violation>)> = files.into_iter().collect();
    t.push_str(&format!("{ERR}{} violation{} in {} file{}{ERR:#}:\n", r.violations.len(), plural(r.violations.len()), files.len(), plural(files.len())));
    t.push_str(&capped(&files, view.all, "--all", |(file, vs)| {
        let first = vs[0];
        let at = first.line.map(|l| format!("{file}:{l}")).unwrap_or_else(|| file.to_string());
        let more = if vs.len() > 1 {
            let lines: Vec<String> = vs[1..].iter().filter_map(|v| v.line.map(|l| l.to_string())).collect();
            format!("  {DIM}(+{} more{}){DIM:#}", vs.len() - 1, if lines.is_empty() { String::new() } else { format!(" at {}", lines.join(", ")) })
        } else {
            String::new()
        };
        format!("  {ERR}{}{ERR:#} {at}: {}{more}", first.rule, first.message)
    }));
    for line in what_to_do(r, what, view) {
        t.push_str(&line);
        t.push('\n');
    }
    out.stdout(&t);
}

/// Three lines: what was refused, how to fix it, how to check again.
fn what_to_do(r: &crate::check::CheckReport, what: &str, view: &CheckView) -> [String; 3] {
    let count = |rule: &str| r.violations.iter().filter(|v| v.rule.starts_with(rule)).map(|v| v.file.as_str()).collect::<std::collections::BTreeSet<_>>().len();
    let (broken, scope) = (count("broken-caller"), count("out-of-scope"));
    let mut why = Vec::new();
    if broken > 0 {
        why.push(format!("{broken} file{} outside the {what} break", plural(broken)));
    }
    if scope > 0 {
        why.push(format!("{scope} file{} outside the active manifest's scope", plural(scope)));
    }
    let refused = format!("\n{ERR}refused{ERR:#}: {}", why.join(", and "));
    let changed: Vec<&crate::check::SymbolChange> = r.changes.iter().filter(|c| c.kind != crate::blast::ChangeKind::Behavior).collect();
    let mut fixes = Vec::new();
    if broken > 0 {
        let lists = match changed.as_slice() {
            [c] => format!(
                " (`maintaind blast {}#{} --change {}` lists every place)",
                c.file,
                c.symbol,
                serde_json::to_value(c.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
            ),
            _ => String::new(),
        };
        fixes.push(format!("update them in this {what}{lists}, or undo the change that breaks them"));
    }
    if scope > 0 {
        fixes.push("leave the files outside the scope out, or `maintaind manifest widen FILE --reason \"…\"`".to_string());
    }
    let fix = format!("  {BOLD}fix{BOLD:#}: {}", fixes.join("; "));
    let all = if view.all || r.violations.len() <= LIST_CAP { String::new() } else { " (--all lists every violation)".to_string() };
    let again = format!("  {BOLD}then{BOLD:#}: `{}`{all}", view.rerun);
    [refused, fix, again]
}

/// SARIF 2.1.0 for code scanning: one run, one rule per violation kind (with help), one
/// result per violation, each at a file and line (line 1 when the violation has none) relative
/// to the repository's top, with a fingerprint that survives lines moving.
fn sarif_log(r: &crate::check::CheckReport, view: &CheckView) -> serde_json::Value {
    const HELP: &str = "https://github.com/maintaind/maintaind/blob/main/docs/guide/ci.md";
    let rules = [
        (
            "maintaind/broken-caller",
            "A file outside the change breaks because of a symbol the change changes",
            "The change alters a symbol (its parameters, return type, shape or name, or removes it), and a file that uses it is not part of the change: with the change, that file no longer compiles (the language server's new error), or it still names a removed or renamed symbol.",
            "Update the file in the same commit or branch, or undo the change. `maintaind blast FILE#SYMBOL --change KIND` lists every place that must change.",
            "broken-caller",
        ),
        (
            "maintaind/out-of-scope",
            "A changed file is outside the active manifest's scope",
            "A change manifest is active (`maintaind change`), and the commit changes a file that it neither lists nor allows.",
            "Leave the file out of the commit, or widen the manifest with `maintaind manifest widen FILE --reason \"...\"` so that the widening is recorded.",
            "out-of-scope",
        ),
        (
            "maintaind/out-of-scope-write",
            "A file was written outside the active manifest's scope since its activation",
            "Since the active manifest was activated, a file outside its scope was created, changed or deleted, whether or not it is in this commit (a write that bypassed the write gate).",
            "Undo the write, or widen the manifest with `maintaind manifest widen FILE --reason \"...\"`.",
            "out-of-scope-write",
        ),
    ];
    let rule_index = |id: &str| rules.iter().position(|r| r.0 == id);
    let mut seen: std::collections::HashMap<u64, usize> = std::collections::HashMap::new();
    let results: Vec<serde_json::Value> = r
        .violations
        .iter()
        .map(|v| {
            let id = format!("maintaind/{}", v.rule);
            let uri = format!("{}{}", view.repo_prefix, v.file);
            // Line numbers move with unrelated edits; the rule, file and message do not.
            let key = xxhash_rust::xxh3::xxh3_64(format!("{id}\0{uri}\0{}", v.message).as_bytes());
            let n = seen.entry(key).or_default();
            *n += 1;
            let mut result = serde_json::json!({
                "ruleId": id,
                "level": "error",
                "message": {"text": v.message},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": v.line.unwrap_or(1).max(1)}
                }}],
                "partialFingerprints": {"maintaindViolation/v1": format!("{key:016x}:{n}")}
            });
            if let Some(i) = rule_index(&id) {
                result["ruleIndex"] = serde_json::json!(i);
            }
            result
        })
        .collect();
    let mut run = serde_json::json!({
        "tool": {"driver": {
            "name": "maintaind",
            "version": env!("CARGO_PKG_VERSION"),
            "informationUri": "https://github.com/maintaind/maintaind",
            "rules": rules.iter().map(|(id, short, full, help, anchor)| serde_json::json!({
                "id": id,
                "shortDescription": {"text": short},
                "fullDescription": {"text": full},
                "help": {"text": help, "markdown": format!("**{short}.** {full}\n\n**Fix:** {help}")},
                "helpUri": format!("{HELP}#{anchor}"),
                "defaultConfiguration": {"level": "error"}
            })).collect::<Vec<_>>()
        }},
        "automationDetails": {"id": "maintaind/check/"},
        "columnKind": "utf16CodeUnits",
        "results": results
    });
    if let Some(top) = view.repo_top {
        let mut uri = maintaind_lsp_bridge::uri::path_to_uri(top);
        if !uri.ends_with('/') {
            uri.push('/');
        }
        run["originalUriBaseIds"] = serde_json::json!({"%SRCROOT%": {"uri": uri}});
    }
    serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run]
    })
}

pub fn exported(out: &Out, path: &str, bytes: usize, s: &crate::scip_export::ExportSummary) {
    if out.json {
        out.json_value(&serde_json::json!({"path": path, "bytes": bytes, "summary": s}));
        return;
    }
    out.stdout(&format!(
        "{OK}wrote{OK:#} {path} {DIM}({} KiB){DIM:#}: {} documents · {} definitions · {} references · {} route implementations · {} SDK symbols linked to the published package\n",
        bytes.div_ceil(1024),
        s.documents,
        s.definitions,
        s.references,
        s.relationships,
        s.published
    ));
    out.note("references are the registry's, resolved through imports and declarations (no language server): a use through a chain of re-exports names its first segment only (docs/guide/scip.md)");
}

pub fn hook_installed(out: &Out, i: &crate::hook::Installed) {
    if out.json {
        out.json_value(i);
        return;
    }
    let missing = match i.missing {
        crate::hook::Missing::Block => "without the maintaind binary a commit is refused, with the reason",
        crate::hook::Missing::Skip => "without the maintaind binary the check is skipped, with a warning",
    };
    out.stdout(&format!("{OK}{}{OK:#} {} {DIM}({}; {missing}){DIM:#}\n", i.action, i.path.display(), i.via));
}

/// Any serialisable value as `--json` output.
pub fn json<T: Serialize>(out: &Out, value: &T) {
    out.json_value(value);
}

pub fn daemon_status(out: &Out, s: &crate::rpc::Status) {
    if out.json {
        out.json_value(s);
        return;
    }
    let up = s.uptime_ms / 1000;
    out.stdout(&format!(
        "{OK}maintaind daemon{OK:#} {BOLD}{}{BOLD:#} for {}\n  pid {} · up {}h{:02}m{:02}s · maintaind {} · protocol {}\n",
        s.state,
        s.root,
        s.pid,
        up / 3600,
        up / 60 % 60,
        up % 60,
        s.maintaind,
        s.protocol
    ));
    match s.pending {
        0 => out.stdout(&format!("  registry: generation {} · {} files · {} symbols\n", s.generation, s.files, s.symbols)),
        n => out.stdout(&format!(
            "  registry: generation {} · {} files, {n} still being indexed in the background (each is parsed at once when a question needs it) · {} symbols so far\n",
            s.generation, s.files, s.symbols
        )),
    }
    match &s.server {
        Some(sv) => {
            let loaded = sv.projects.iter().filter(|p| p.loaded).count();
            out.stdout(&format!(
                "  server: {} {} ({}, {}/{} projects loaded, {} document(s) open, {} restart(s){})\n",
                sv.kind.as_str(),
                sv.version,
                bridge_state(&sv.state),
                loaded,
                sv.projects.len(),
                sv.open_documents,
                sv.restarts,
                s.server_pid.map(|p| format!(", pid {p}")).unwrap_or_default()
            ));
            let config = |dir: &str| if dir.is_empty() { "tsconfig.json".to_string() } else { format!("{dir}/tsconfig.json") };
            for p in sv.projects.iter().filter_map(|p| p.covered_by.as_ref().map(|by| (&p.dir, by))) {
                out.stdout(&format!("  {DIM}{} not loaded: {} holds its files (each file is checked once){DIM:#}\n", config(p.0), config(p.1)));
            }
        }
        None => out.stdout(&format!("  server: {WARN}none{WARN:#} {DIM}({}){DIM:#}\n", s.server_note.as_deref().unwrap_or("not started"))),
    }
    let w = &s.watcher;
    out.stdout(&format!("  watcher: {} dirs · {} batches · {} files updated · {} full re-walks\n", w.dirs, w.batches, w.files_updated, w.full_refreshes));
    if let Some(e) = &w.last_error {
        out.stdout(&format!("  {WARN}watcher problem{WARN:#}: {e}\n"));
    }
    out.stdout(&format!("  clients: {} · requests: {} · idle exit: {}\n  log: {}\n", s.clients, s.requests, s.idle_exit_secs.map(|x| format!("{x}s")).unwrap_or_else(|| "never".into()), s.log));
    out.stdout(&format!("  memory: daemon {:.1} MiB · language server {:.1} MiB\n", s.memory.daemon_kib as f64 / 1024.0, s.memory.server_kib as f64 / 1024.0));
    if !s.out_of_scope_writes.is_empty() {
        out.stdout(&format!("  {ERR}written outside the active manifest's scope{ERR:#}: {} (`maintaind gate audit` for all)\n", s.out_of_scope_writes.join(", ")));
    }
}

fn bridge_state(state: &maintaind_lsp_bridge::BridgeState) -> String {
    use maintaind_lsp_bridge::BridgeState;
    match state {
        BridgeState::Running => "running".into(),
        BridgeState::Restarted(n) => format!("restarted after {n} crash(es)"),
        BridgeState::Failed(why) => format!("failed: {why}"),
        BridgeState::Stopped => "stopped".into(),
    }
}
