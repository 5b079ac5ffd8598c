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
    t.push_str(&format!("\n{} files ({} must change) · {} tests\n", r.files.len(), r.must_change_files.len(), r.tests.len()));
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

/// A manifest as a reader needs it: decisions, targets, must-change locations, what may be
/// affected, tests, criteria with verdicts, exclusions.
pub fn manifest(out: &Out, m: &Manifest, active: bool) {
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
    let must: std::collections::BTreeSet<(&str, u32, &str)> = m.facts.blast_radius.iter().filter(|i| i.must_change).map(|i| (i.file.as_str(), i.line, i.symbol.as_str())).collect();
    if !must.is_empty() {
        t.push_str(&format!("\n{ERR}must change{ERR:#} ({})\n", must.len()));
        for (file, line, symbol) in must {
            t.push_str(&format!("  {file}:{line}  {symbol}\n"));
        }
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
        manifest(out, &r.manifest, stored);
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

pub fn check(out: &Out, r: &crate::check::CheckReport, sarif: bool) {
    for n in &r.notes {
        out.note(n);
    }
    if sarif {
        out.json_value(&sarif_log(r));
        return;
    }
    if out.json {
        out.json_value(r);
        return;
    }
    let mut t = format!(
        "{BOLD}maintaind check{BOLD:#}: {} file(s) in the commit · {} symbol change(s){}\n",
        r.committed.len(),
        r.changes.len(),
        r.manifest.as_deref().map(|m| format!(" · manifest {m}")).unwrap_or_default()
    );
    for c in &r.changes {
        let kind = serde_json::to_value(c.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        let renamed = c.renamed_to.as_deref().map(|n| format!(" → {n}")).unwrap_or_default();
        t.push_str(&format!("  {KIND}{kind:<9}{KIND:#} {}{renamed}  {DIM}{}{DIM:#}\n", c.symbol, c.file));
    }
    if !r.candidates.is_empty() {
        t.push_str(&format!("{DIM}must change, not in the commit: {}{DIM:#}\n", r.candidates.join(", ")));
    }
    if !r.changes.is_empty() && !r.checked_with_server {
        t.push_str(&format!("{WARN}without the language server{WARN:#}: only references to removed or renamed symbols were checked\n"));
    }
    if r.violations.is_empty() {
        t.push_str(&format!("{OK}ok{OK:#}: nothing outside the commit breaks\n"));
    } else {
        t.push_str(&format!("{ERR}{} violation(s){ERR:#}:\n", r.violations.len()));
        for v in &r.violations {
            let at = v.line.map(|l| format!("{}:{l}", v.file)).unwrap_or_else(|| v.file.clone());
            t.push_str(&format!("  {ERR}{}{ERR:#} {at}: {}\n", v.rule, v.message));
        }
    }
    out.stdout(&t);
}

/// SARIF 2.1.0: one run, one rule per violation kind, one result per violation.
fn sarif_log(r: &crate::check::CheckReport) -> serde_json::Value {
    let results: Vec<serde_json::Value> = r
        .violations
        .iter()
        .map(|v| {
            let mut location = serde_json::json!({"physicalLocation": {"artifactLocation": {"uri": v.file, "uriBaseId": "%SRCROOT%"}}});
            if let Some(line) = v.line {
                location["physicalLocation"]["region"] = serde_json::json!({"startLine": line});
            }
            serde_json::json!({"ruleId": format!("maintaind/{}", v.rule), "level": "error", "message": {"text": v.message}, "locations": [location]})
        })
        .collect();
    serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "maintaind",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/maintaind/maintaind",
                "rules": [
                    {"id": "maintaind/broken-caller", "shortDescription": {"text": "A file outside the commit must change because of a symbol the commit changes"}},
                    {"id": "maintaind/out-of-scope", "shortDescription": {"text": "A committed file is outside the active manifest's scope"}},
                    {"id": "maintaind/out-of-scope-write", "shortDescription": {"text": "A file was written outside the active manifest's scope since its activation"}}
                ]
            }},
            "results": results
        }]
    })
}

pub fn hook_installed(out: &Out, i: &crate::hook::Installed) {
    if out.json {
        out.json_value(i);
        return;
    }
    out.stdout(&format!("{OK}{}{OK:#} {} {DIM}({}){DIM:#}\n", i.action, i.path.display(), i.via));
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
    out.stdout(&format!("  registry: generation {} · {} files · {} symbols\n", s.generation, s.files, s.symbols));
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
