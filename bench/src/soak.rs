//! `maintaind-bench soak`: a daemon under a mixed load for N minutes; does its memory plateau?
//!
//! A generated backend, `maintaind daemon start`, then a loop of what clients do: searches
//! (with misses, which ask for "did you mean"), blast radii at ever new depths (each a new
//! cache key), saves (a declaration appended to a provider, later removed), `status`, and new
//! connections. The daemon's resident memory (`VmRSS`; the language server is a separate
//! process, reported beside it) is sampled after a warm-up, after one minute, every minute,
//! and at the end. The target: the end within 20% of the one-minute figure.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use maintaind::blast::ChangeKind;
use maintaind::rpc::{BlastParams, Client, Method, StatusParams, SymbolsParams, method};

use crate::generate;

pub const BEGIN: &str = "<!-- soak:begin (maintaind-bench soak) -->";
pub const END: &str = "<!-- soak:end -->";
/// A soak of a real backend (`--root`) has its own section.
pub const REAL_BEGIN: &str = "<!-- soak-real:begin (maintaind-bench soak --root) -->";
pub const REAL_END: &str = "<!-- soak-real:end -->";

pub struct Options {
    pub minutes: u64,
    pub entities: usize,
    /// A real backend to soak instead of a generated one (copied first, hard links for
    /// `node_modules/`).
    pub root: Option<PathBuf>,
    pub out: Option<PathBuf>,
    pub maintaind: Option<PathBuf>,
    pub no_lsp: bool,
}

struct Sample {
    at: Duration,
    daemon_kib: u64,
    server_kib: u64,
    requests: u64,
}

pub fn run(o: Options) -> Result<()> {
    let tmp = std::env::temp_dir().join(format!("maintaind-soak-{}", std::process::id()));
    let root = tmp.join("backend");
    let (described, names, providers) = match &o.root {
        None => {
            let files = generate::generate(&generate::scale(o.entities), "soak-backend");
            crate::write_backend(&root, &files, true)?;
            let names: Vec<String> = generate::scale(o.entities).iter().flat_map(|e| [format!("{}.ICreate", e.dto()), e.dto()]).collect();
            (
                format!("a generated {}-entity backend ({} files)", o.entities, files.len()),
                names,
                files.keys().filter(|p| p.starts_with("src/providers/") && p.ends_with(".ts")).cloned().collect::<Vec<_>>(),
            )
        }
        Some(real) => {
            std::fs::create_dir_all(&tmp)?;
            let ok = Command::new("cp").arg("-al").arg(real).arg(&root).status()?.success();
            anyhow::ensure!(ok, "cannot copy {}", real.display());
            let _ = std::fs::remove_dir_all(root.join(".maintaind"));
            let stems = |dir: &str| -> Vec<String> {
                let mut v: Vec<String> =
                    std::fs::read_dir(root.join(dir)).into_iter().flatten().flatten().filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(".ts")).map(str::to_string)).collect();
                v.sort();
                v
            };
            let names = stems("src/api/structures");
            let providers: Vec<String> = stems("src/providers").into_iter().map(|n| format!("src/providers/{n}.ts")).collect();
            anyhow::ensure!(!names.is_empty() && !providers.is_empty(), "{} has no src/api/structures or src/providers", real.display());
            (
                format!(
                    "a copy of the real backend `{}` ({} DTO files, {} providers)",
                    real.file_name().map(|n| n.to_string_lossy().replacen('+', "/", 2)).unwrap_or_default(),
                    names.len(),
                    providers.len()
                ),
                names,
                providers,
            )
        }
    };
    // Saves rewrite a provider from its original text (hard-linked copies are replaced, not
    // written in place, so the source tree is never touched).
    let originals: Vec<String> = providers.iter().map(|p| std::fs::read_to_string(root.join(p))).collect::<std::io::Result<_>>()?;
    let maintaind = o.maintaind.clone().unwrap_or_else(|| std::env::current_exe().expect("exe").with_file_name("maintaind"));
    let root_arg = root.to_str().context("temp path is UTF-8")?.to_string();
    let mut start = Command::new(&maintaind);
    start.args(["--root", &root_arg, "daemon", "start"]);
    if o.no_lsp {
        start.arg("--no-lsp");
    } else {
        start.args(["--ts-server", "native"]);
    }
    anyhow::ensure!(start.stdout(std::process::Stdio::null()).status()?.success(), "maintaind daemon start failed on {}", root.display());
    struct Stop(PathBuf, PathBuf, PathBuf);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = Command::new(&self.1).args(["--root", self.0.to_str().unwrap(), "daemon", "stop"]).stderr(std::process::Stdio::null()).status();
            let _ = std::fs::remove_dir_all(&self.2);
        }
    }
    let _stop = Stop(root.clone(), maintaind.clone(), tmp.clone());
    let mut client = Client::connect(&root)?.context("the daemon does not answer")?;
    let pid = client.hello.pid;

    fn ask<M: Method>(c: &mut Client, params: &M::Params, synced: bool) -> Result<()> {
        let answer = if synced { c.request_synced::<M>(params) } else { c.request::<M>(params) };
        answer.map(|_| ()).map_err(|e| anyhow::anyhow!("{}: {e}", M::NAME))
    }

    let mut k: u64 = 0;
    let mut step = |c: &mut Client| -> Result<()> {
        let name = &names[k as usize % names.len()];
        match k % 10 {
            0..=3 => ask::<method::Symbols>(c, &SymbolsParams::new(name), false)?,
            4 => ask::<method::Symbols>(c, &SymbolsParams::new(format!("{name}Missing{}", k % 97)), false)?,
            5..=7 => ask::<method::Blast>(c, &BlastParams { depth: 1 + (k % 3000) as usize, ..BlastParams::new(name.as_str(), ChangeKind::Shape) }, false)?,
            8 => ask::<method::Status>(c, &StatusParams::default(), false)?,
            _ => {
                // A save, undone ten rounds later.
                let i = (k / 20) as usize % providers.len();
                let abs = root.join(&providers[i]);
                let original = &originals[i];
                let text = if (k / 10).is_multiple_of(2) { format!("{original}\nexport const soakSaved{k} = {k};\n") } else { original.clone() };
                // Replace (not write in place): the copy's files are hard links to the source.
                let tmp_file = abs.with_extension("soak-tmp");
                std::fs::write(&tmp_file, text)?;
                std::fs::rename(&tmp_file, &abs)?;
                ask::<method::Symbols>(c, &SymbolsParams::new("soakSaved"), true)?;
            }
        }
        k += 1;
        Ok(())
    };
    // Warm-up: every name answered once, the server's projects loaded.
    for _ in 0..names.len() * 2 {
        step(&mut client)?;
    }
    let server_pid = || -> Option<u32> { Client::connect(&root).ok().flatten()?.request::<method::Status>(&StatusParams::default()).ok()?.server_pid };
    let server = server_pid();
    let started = Instant::now();
    let total = Duration::from_secs(o.minutes * 60);
    let mut samples = vec![Sample { at: Duration::ZERO, daemon_kib: maintaind::memory::rss_kib(pid), server_kib: server.map_or(0, maintaind::memory::rss_kib), requests: 0 }];
    let mut next_sample = Duration::from_secs(60);
    let mut requests = 0u64;
    while started.elapsed() < total {
        step(&mut client)?;
        requests += 1;
        if requests.is_multiple_of(200) {
            // A new connection now and then, as editors and hooks open them.
            client = Client::connect(&root)?.context("the daemon went away")?;
        }
        if started.elapsed() >= next_sample {
            samples.push(Sample { at: started.elapsed(), daemon_kib: maintaind::memory::rss_kib(pid), server_kib: server.map_or(0, maintaind::memory::rss_kib), requests });
            next_sample += Duration::from_secs(60);
        }
    }
    if samples.last().is_none_or(|s| s.requests != requests) {
        samples.push(Sample { at: started.elapsed(), daemon_kib: maintaind::memory::rss_kib(pid), server_kib: server.map_or(0, maintaind::memory::rss_kib), requests });
    }

    let mb = |kib: u64| kib as f64 / 1024.0;
    let one_minute = samples.iter().find(|s| s.at >= Duration::from_secs(60)).unwrap_or(&samples[0]);
    let end = samples.last().expect("samples");
    let ratio = end.daemon_kib as f64 / one_minute.daemon_kib.max(1) as f64;
    let mut md = String::new();
    let _ = writeln!(md, "\n## Soak: memory under a mixed load{} (issue 12)\n", if o.root.is_some() { ", real backend" } else { "" });
    let _ = writeln!(
        md,
        "`maintaind-bench soak --minutes {}{}` at commit `{}` on {}, `maintaind daemon start{}`: one client looping over searches (one in ten a miss, which computes \"did you mean\"), blast radii at a new depth each time (depth 1…3000: a new cache key per request), saves of a provider undone ten requests later, `status`, and a new connection every 200 requests.\n",
        o.minutes,
        o.root.as_ref().map(|_| " --root DIR").unwrap_or_default(),
        crate::commit(),
        described,
        if o.no_lsp { " --no-lsp" } else { " --ts-server native" }
    );
    let _ = writeln!(md, "| at | requests | daemon RSS | language server RSS |");
    let _ = writeln!(md, "|---|---:|---:|---:|");
    for s in &samples {
        let _ = writeln!(md, "| {:.0} s | {} | {:.1} MB | {} |", s.at.as_secs_f64(), s.requests, mb(s.daemon_kib), if server.is_some() { format!("{:.1} MB", mb(s.server_kib)) } else { "—".into() });
    }
    let _ = writeln!(
        md,
        "\n**Plateau:** daemon RSS at the end / after one minute = **{ratio:.2}** (target ≤ 1.20; {:.1} MB → {:.1} MB over {} requests). The blast-answer cache holds at most {} answers (least recently used first out).",
        mb(one_minute.daemon_kib),
        mb(end.daemon_kib),
        end.requests,
        maintaind::workspace::BLAST_CACHE_ENTRIES
    );
    let _ = writeln!(
        md,
        "\n{}",
        if o.root.is_some() {
            "Re-run with `maintaind-bench soak --root DIR --out docs/benchmarks.md` on a backend exported by `bash scripts/real-corpora`."
        } else {
            "Re-run with `bash scripts/bench` (it runs the soak after the other benchmarks; `SOAK_MINUTES` shortens it)."
        }
    );
    let (begin, end) = if o.root.is_some() { (REAL_BEGIN, REAL_END) } else { (BEGIN, END) };
    crate::publish(o.out.as_deref(), begin, end, &md, "soak")
}
