//! `maintaind.toml` at the project root: settings a team commits. Command-line flags win over
//! it; it wins over defaults.
//!
//! ```toml
//! ts_server = "native"   # auto | tsls | native
//! offline = false        # true: never install a language server
//! ready_timeout_secs = 120
//!
//! [daemon]
//! idle_exit_secs = 3600  # exit after an hour without clients (default: never for
//!                        # `daemon start`, 600 for one an editor or agent started; 0: never)
//!
//! [journal]              # how much of .maintaind/journal/ is kept
//! keep = 20              # finished transactions kept at most
//! keep_days = 3          # and none older than this
//!
//! [hook]                 # maintaind gate claude-hook
//! outside_root = "allow" # a write outside the project: not ours to judge ("deny" blocks it)
//! allow_in_scope = false # true: answer "allow" for writes in scope (skips Claude's own prompt)
//!
//! [llm]                  # maintaind change --planner llm (environment variables win)
//! base_url = "https://api.openai.com/v1"
//! model = "gpt-4.1-mini"
//! api_key_env = "OPENAI_API_KEY"   # the variable's name, never the key
//! timeout_secs = 60
//! max_attempts = 3
//! max_total_tokens = 60000
//! ```

use std::path::Path;

use maintaind_lsp_bridge::ServerChoice;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub ts_server: Option<ServerChoice>,
    pub offline: Option<bool>,
    /// How long to wait for every TypeScript project to load before answering approximately.
    pub ready_timeout_secs: Option<u64>,
    /// The LLM planner (`maintaind change --planner llm`).
    pub llm: Option<LlmTable>,
    /// The background daemon.
    pub daemon: Option<DaemonTable>,
    /// How much of `.maintaind/journal/` is kept.
    pub journal: Option<JournalTable>,
    /// The Claude Code hook.
    pub hook: Option<HookTable>,
}

/// The `[hook]` table: how `gate claude-hook` answers what is not a write in scope.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HookTable {
    /// A write outside the project root: `allow` (default: none of maintaind's business) or `deny`.
    pub outside_root: Option<OutsideRoot>,
    /// Answer `allow` for a write in scope, which skips Claude Code's own permission prompt
    /// (default false: no answer, Claude Code asks as usual).
    pub allow_in_scope: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutsideRoot {
    Allow,
    Deny,
}

/// The `[llm]` table of `maintaind.toml`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmTable {
    pub base_url: Option<String>,
    pub model: Option<String>,
    /// The name of the environment variable holding the key (never the key itself).
    pub api_key_env: Option<String>,
    pub timeout_secs: Option<u64>,
    pub max_attempts: Option<usize>,
    pub max_total_tokens: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalTable {
    /// Finished transactions kept at most (default 20).
    pub keep: Option<usize>,
    /// Finished transactions older than this many days are pruned (default 3).
    pub keep_days: Option<u64>,
}

/// How much of the journal is kept (`maintaind.toml`: `[journal] keep`, `keep_days`).
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    pub keep: usize,
    pub keep_days: u64,
}

impl Default for Retention {
    fn default() -> Retention {
        Retention { keep: 20, keep_days: 3 }
    }
}

impl Config {
    pub fn journal_retention(&self) -> Retention {
        let d = Retention::default();
        let j = self.journal.clone().unwrap_or_default();
        Retention { keep: j.keep.unwrap_or(d.keep), keep_days: j.keep_days.unwrap_or(d.keep_days) }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaemonTable {
    /// Exit after this many seconds with no client (0 or absent: never).
    pub idle_exit_secs: Option<u64>,
}

pub const FILE_NAME: &str = "maintaind.toml";

impl Config {
    /// Read `<root>/maintaind.toml`; a missing file is the default, a broken one an error that
    /// names the file and the problem.
    pub fn load(root: &Path) -> Result<Config, String> {
        let path = root.join(FILE_NAME);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        toml::from_str(&text).map_err(|e| format!("{}: {}", path.display(), e.message()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_known_keys_and_refuses_unknown_ones() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Config::load(dir.path()).unwrap().ts_server.is_none());
        std::fs::write(dir.path().join(FILE_NAME), "ts_server = \"tsls\"\noffline = true\n").unwrap();
        let c = Config::load(dir.path()).unwrap();
        assert_eq!((c.ts_server, c.offline), (Some(ServerChoice::Tsls), Some(true)));
        std::fs::write(dir.path().join(FILE_NAME), "ts_server = \"vim\"\n").unwrap();
        assert!(Config::load(dir.path()).unwrap_err().contains("unknown variant"));
        std::fs::write(dir.path().join(FILE_NAME), "tsserver = \"tsls\"\n").unwrap();
        assert!(Config::load(dir.path()).unwrap_err().contains("unknown field"));
    }
}
