//! Planning a change: the planner (offline vocabulary, or an LLM under `llm.rs`'s harness)
//! writes only decisions; the synthesizer fills every fact from the registry and the blast
//! radius into a manifest (`manifest.rs`: the format, its keyed digest, the store of plans).

pub mod llm;
pub mod manifest;
pub mod planner;
pub mod synthesizer;
pub mod tree;
