//! maintaind-bench: the backend generator and the benchmarks (not shipped with maintaind).
//!
//! `maintaind-bench gen --preset bbs --out DIR` writes the fixture backend;
//! `maintaind-bench gen --entities N --out DIR` a scale backend;
//! `maintaind-bench run [--entities N] [--out docs/benchmarks.md]` measures (see bench.rs);
//! `maintaind-bench real --corpora DIR` measures on real generated backends (see real.rs);
//! `maintaind-bench apply --corpora DIR` runs `change --apply` on real backends (see apply.rs);
//! `maintaind-bench traits --corpora DIR` counts what real output contains (see traits.rs).

mod accuracy;
mod apply;
mod bench;
mod floor;
mod generate;
mod real;
mod soak;
mod traits;

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use std::io::Write as _;

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e:#}");
        std::process::exit(2);
    }
}

fn usage() -> &'static str {
    "usage:\n  maintaind-bench gen (--preset bbs | --entities N) --out DIR [--force]\n  maintaind-bench traits --corpora DIR [--fixture DIR] [--write docs/real-output.md]\n  maintaind-bench real --corpora DIR [--out docs/benchmarks.md] [--backends a,b] [--requests FILE] [--sample N] [--prisma-fields N]\n  maintaind-bench run [--entities N] [--edits N] [--out FILE] [--maintaind PATH] [--no-lsp] [--large-truth FILE]\n  maintaind-bench soak [--minutes N] [--entities N | --root REAL_BACKEND] [--out FILE] [--maintaind PATH] [--no-lsp]\n  maintaind-bench floor [--entities N | --root REAL_BACKEND] [--symbols N] [--runs N] [--out FILE] [--maintaind PATH]\n  maintaind-bench apply --corpora DIR [--requests FILE,FILE] [--out FILE] [--maintaind PATH]"
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    // Flags are read by name: `--help` anywhere would otherwise be ignored and the bench run.
    if args.iter().any(|a| a == "--help" || a == "-h") {
        // A closed pipe (`| head`) is no error here.
        let _ = writeln!(std::io::stdout(), "{}", usage());
        return Ok(());
    }
    match args.first().map(String::as_str) {
        Some("gen") => {
            let out = PathBuf::from(flag("--out").context(usage())?);
            let entities = match (flag("--preset").as_deref(), flag("--entities")) {
                (Some("bbs"), None) => generate::bbs(),
                (None, Some(n)) => generate::scale(n.parse().context("--entities takes a number")?),
                _ => bail!("{}", usage()),
            };
            let title = if flag("--preset").is_some() { "bbs-backend" } else { "scale-backend" };
            write_backend(&out, &generate::generate(&entities, title), args.iter().any(|a| a == "--force"))
        }
        Some("run") => {
            let entities = flag("--entities").map(|n| n.parse()).transpose().context("--entities takes a number")?.unwrap_or(58);
            let edits = flag("--edits").map(|n| n.parse()).transpose().context("--edits takes a number")?.unwrap_or(100);
            bench::run(bench::Options {
                entities,
                edits,
                out: flag("--out").map(PathBuf::from),
                maintaind: flag("--maintaind").map(PathBuf::from),
                no_lsp: args.iter().any(|a| a == "--no-lsp"),
                large_truth: flag("--large-truth").map(PathBuf::from),
            })
        }
        Some("traits") => {
            let fixture = traits::Backend::read(&PathBuf::from(flag("--fixture").unwrap_or_else(|| "fixtures/bbs-backend".into())))?;
            let mut real = Vec::new();
            if let Some(dir) = flag("--corpora") {
                let mut names: Vec<_> = std::fs::read_dir(&dir).with_context(|| format!("cannot read {dir}"))?.flatten().filter(|e| e.path().join("package.json").exists()).collect();
                names.sort_by_key(|e| e.file_name());
                for e in names {
                    real.push((e.file_name().to_string_lossy().to_string(), traits::Backend::read(&e.path())?));
                }
            }
            if real.is_empty() {
                bail!("--corpora DIR: a directory of real backends (bash scripts/real-corpora SRC DIR)");
            }
            let table = traits::table(&real, &fixture);
            match flag("--write") {
                Some(doc) => {
                    let text = std::fs::read_to_string(&doc).with_context(|| format!("cannot read {doc}"))?;
                    let new = traits::splice(&text, traits::BEGIN, traits::END, &table).with_context(|| format!("{doc} has no `{}` … `{}` markers", traits::BEGIN, traits::END))?;
                    let new = traits::splice(&new, traits::SIZES_BEGIN, traits::SIZES_END, &traits::sizes(&real))
                        .with_context(|| format!("{doc} has no `{}` … `{}` markers", traits::SIZES_BEGIN, traits::SIZES_END))?;
                    std::fs::write(&doc, new)?;
                    eprintln!("wrote the trait table of {} real backends to {doc}", real.len());
                }
                None => print!("{table}"),
            }
            Ok(())
        }
        Some("real") => real::run(real::Options {
            corpora: PathBuf::from(flag("--corpora").context("--corpora DIR: real backends exported by `bash scripts/real-corpora SRC DIR`")?),
            out: flag("--out").map(PathBuf::from),
            backends: match flag("--backends") {
                Some(list) => list.split(',').map(str::to_string).collect(),
                None => real::DEFAULT_BACKENDS.iter().map(|s| s.to_string()).collect(),
            },
            requests: flag("--requests").map(PathBuf::from).unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("real-requests.json")),
            sample: flag("--sample").map(|n| n.parse()).transpose().context("--sample takes a number")?.unwrap_or(40),
            prisma_fields: flag("--prisma-fields").map(|n| n.parse()).transpose().context("--prisma-fields takes a number")?.unwrap_or(6),
        }),
        Some("soak") => soak::run(soak::Options {
            minutes: flag("--minutes").map(|n| n.parse()).transpose().context("--minutes takes a number")?.unwrap_or(10),
            entities: flag("--entities").map(|n| n.parse()).transpose().context("--entities takes a number")?.unwrap_or(58),
            root: flag("--root").map(PathBuf::from),
            out: flag("--out").map(PathBuf::from),
            maintaind: flag("--maintaind").map(PathBuf::from),
            no_lsp: args.iter().any(|a| a == "--no-lsp"),
        }),
        Some("floor") => floor::run(floor::Options {
            entities: flag("--entities").map(|n| n.parse()).transpose().context("--entities takes a number")?.unwrap_or(58),
            root: flag("--root").map(PathBuf::from),
            symbols: flag("--symbols").map(|n| n.parse()).transpose().context("--symbols takes a number")?.unwrap_or(30),
            runs: flag("--runs").map(|n| n.parse()).transpose().context("--runs takes a number")?.unwrap_or(3).max(1),
            out: flag("--out").map(PathBuf::from),
            maintaind: flag("--maintaind").map(PathBuf::from),
        }),
        Some("apply") => apply::run(apply::Options {
            corpora: PathBuf::from(flag("--corpora").context("--corpora DIR: real backends exported by `bash scripts/real-corpora SRC DIR`")?),
            out: flag("--out").map(PathBuf::from),
            requests: match flag("--requests") {
                Some(list) => list.split(',').map(PathBuf::from).collect(),
                None => ["real-requests.json", "apply-requests.json"].iter().map(|f| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(f)).collect(),
            },
            maintaind: flag("--maintaind").map(PathBuf::from),
        }),
        Some("extract-only") => bench::extract_only(std::path::Path::new(args.get(1).context(usage())?)),
        Some("keep-trees") => bench::keep_trees(std::path::Path::new(args.get(1).context(usage())?)),
        _ => bail!("{}", usage()),
    }
}

/// The short hash of the commit the benchmarks run on (empty outside git).
pub fn commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// Today's date, UTC, as `YYYY-MM-DD`.
pub fn today() -> String {
    std::process::Command::new("date").args(["-u", "+%Y-%m-%d"]).output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).unwrap_or_default()
}

/// A working copy of a real backend at `to` (created): every entry but `node_modules`, `.git`
/// and `.maintaind` copied, `node_modules` hard-linked (never written through: maintaind
/// refuses hard-linked files, and a regenerated Prisma client replaces its directory).
pub fn copy_backend(root: &std::path::Path, to: &std::path::Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(root)? {
        let e = e?;
        if matches!(e.file_name().to_str(), Some("node_modules" | ".git" | ".maintaind")) {
            continue;
        }
        anyhow::ensure!(std::process::Command::new("cp").arg("-r").arg(e.path()).arg(to).status()?.success(), "cp -r {} failed", e.path().display());
    }
    anyhow::ensure!(std::process::Command::new("cp").arg("-al").arg(root.join("node_modules")).arg(to.join("node_modules")).status()?.success(), "cp -al node_modules failed");
    // The generated Prisma client is the copy's own: a change that regenerates it must not
    // write through a hard link into the backend it was copied from.
    let client = to.join("node_modules/.prisma");
    if client.exists() {
        std::fs::remove_dir_all(&client)?;
        anyhow::ensure!(std::process::Command::new("cp").arg("-a").arg(root.join("node_modules/.prisma")).arg(&client).status()?.success(), "cp -a node_modules/.prisma failed");
    }
    Ok(())
}

/// A benchmark's markdown: printed, and written as `what`'s section of `out` when given.
pub fn publish(out: Option<&std::path::Path>, begin: &str, end: &str, md: &str, what: &str) -> Result<()> {
    print!("{md}");
    if let Some(out) = out {
        write_section(out, begin, end, md)?;
        eprintln!("wrote the {what} section of {}", out.display());
    }
    Ok(())
}

/// Replace the section between `begin` and `end` in `out` (appended when absent): each
/// benchmark command owns its section of docs/benchmarks.md.
pub fn write_section(out: &std::path::Path, begin: &str, end: &str, md: &str) -> Result<()> {
    let old = std::fs::read_to_string(out).unwrap_or_default();
    let section = format!("{begin}\n{md}{end}");
    let new = match (old.find(begin), old.find(end)) {
        (Some(b), Some(e)) if b < e => format!("{}{section}{}", &old[..b], &old[e + end.len()..]),
        _ => format!("{old}\n{section}\n"),
    };
    std::fs::write(out, new).with_context(|| format!("cannot write {}", out.display()))
}

/// Write generated files under `out`. Refuses to write into a non-empty directory unless
/// `force`, and then replaces only the generated files' directories' contents it owns.
pub fn write_backend(out: &std::path::Path, files: &std::collections::BTreeMap<String, String>, force: bool) -> Result<()> {
    if out.exists() && std::fs::read_dir(out)?.next().is_some() {
        if !force {
            bail!("{} is not empty; pass --force to replace it", out.display());
        }
        for dir in ["src", "test", "prisma", "stubs"] {
            let d = out.join(dir);
            if d.exists() {
                std::fs::remove_dir_all(&d).with_context(|| format!("cannot clear {}", d.display()))?;
            }
        }
    }
    for (rel, text) in files {
        let path = out.join(rel);
        std::fs::create_dir_all(path.parent().unwrap())?;
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    eprintln!("wrote {} files to {}", files.len(), out.display());
    Ok(())
}
