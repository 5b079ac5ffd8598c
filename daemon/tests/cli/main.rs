//! CLI tests: the real `maintaind` binary against a temp copy of `fixtures/bbs-backend`.
//! All CLI tests live in this one binary so they link once.

mod apply;
mod architecture;
mod bad_input;
mod blast;
mod change;
mod change_apply;
mod check;
mod daemon;
mod editor;
mod export_scip;
mod gate;
mod hardening;
mod index;
mod llm;
mod mcp;

mod symbols;
mod work_order;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/bbs-backend")
}

/// A temp copy of the fixture and a way to run `maintaind` against it.
pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Run `maintaind --root <tmp> <args>`.
    pub fn run(&self, args: &[&str]) -> Run {
        let mut full = vec!["--root", self.root().to_str().unwrap()];
        full.extend_from_slice(args);
        run_in(self.root(), &full, &[])
    }

    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut full = vec!["--root", self.root().to_str().unwrap()];
        full.extend_from_slice(args);
        run_in(self.root(), &full, env)
    }

    pub fn write(&self, rel: &str, text: impl AsRef<[u8]>) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

pub fn setup() -> Env {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture(), dir.path());
    Env { dir }
}

/// Make the temp copy a git repository with one commit (maintaind's state dir ignored).
pub fn git_init(env: &Env) {
    git(env, &["init", "-q", "-b", "main"]);
    std::fs::write(env.path(".git/info/exclude"), ".maintaind/\n").unwrap();
    git(env, &["add", "-A"]);
    git(env, &["commit", "-q", "-m", "fixture"]);
}

/// Run git in the temp copy (identity and config isolated from the machine's).
pub fn git(env: &Env, args: &[&str]) -> String {
    git_in(env.root(), args)
}

/// Run git in `dir`, as [`git`] does; its stdout.
pub fn git_in(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Nothing in the working tree differs from the last commit.
#[track_caller]
pub fn assert_untouched(env: &Env) {
    let status = git(env, &["status", "--porcelain", "--untracked-files=all"]);
    assert!(status.is_empty(), "the working tree changed:\n{status}");
}

/// An empty project root (a `package.json` only).
pub fn empty() -> Env {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("package.json"), "{}").unwrap();
    Env { dir }
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() == ".maintaind" || entry.file_name() == "node_modules" {
                continue;
            }
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_maintaind")
}

pub fn run_in(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(bin());
    cmd.args(args).current_dir(cwd).env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let output = cmd.output().expect("run maintaind");
    Run { args: args.iter().map(|s| s.to_string()).collect(), cwd: cwd.to_path_buf(), output }
}

/// A finished run; assertion helpers print everything needed to debug a failure.
pub struct Run {
    pub args: Vec<String>,
    pub cwd: PathBuf,
    pub output: Output,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    pub fn code(&self) -> i32 {
        self.output.status.code().unwrap_or(-1)
    }

    fn describe(&self) -> String {
        let listing = walkdir(&self.cwd, 60);
        format!(
            "command: maintaind {}\ncwd: {}\nexit: {:?}\n--- listing ---\n{listing}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.args.join(" "),
            self.cwd.display(),
            self.output.status.code(),
            self.stdout(),
            self.stderr()
        )
    }

    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Run {
        assert_eq!(self.code(), code, "unexpected exit code\n{}", self.describe());
        self
    }

    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.output.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{}", self.describe()))
    }

    #[track_caller]
    pub fn stderr_has(&self, needle: &str) -> &Run {
        assert!(self.stderr().contains(needle), "stderr lacks {needle:?}\n{}", self.describe());
        self
    }

    #[track_caller]
    pub fn stdout_has(&self, needle: &str) -> &Run {
        assert!(self.stdout().contains(needle), "stdout lacks {needle:?}\n{}", self.describe());
        self
    }
}

fn walkdir(dir: &Path, max: usize) -> String {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            out.push(p.strip_prefix(dir).unwrap_or(&p).display().to_string());
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                stack.push(p);
            }
        }
    }
    out.sort();
    let n = out.len();
    out.truncate(max);
    if n > max {
        out.push(format!("… {} more", n - max));
    }
    out.join("\n")
}

/// Names of the symbols a `symbols --json` run printed.
pub fn names(v: &serde_json::Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|h| h["name"].as_str().unwrap().to_string()).collect()
}
