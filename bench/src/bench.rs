//! Benchmarks (filled in below).
pub struct Options { pub entities: usize, pub edits: usize, pub out: Option<std::path::PathBuf>, pub maintaind: Option<std::path::PathBuf> }
pub fn run(_o: Options) -> anyhow::Result<()> { anyhow::bail!("not yet") }
