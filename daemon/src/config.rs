//! `maintaind.toml` at the project root: settings a team commits. Command-line flags win over
//! it; it wins over defaults.
//!
//! ```toml
//! ts_server = "native"   # auto | tsls | native
//! offline = false        # true: never install a language server
//! ready_timeout_secs = 120
//!
//! [daemon]
//! idle_exit_secs = 3600  # exit after an hour without clients (default: never)
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
    pub llm: Option<crate::llm::LlmTable>,
    /// The background daemon.
    pub daemon: Option<DaemonTable>,
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
