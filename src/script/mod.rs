//! Everything that touches Rhai. The primitives are plain Rust; this layer registers them
//! into one engine ([`engine::build`]), converts arguments and results, resolves imports
//! (embedded stdlib and recipes, project overrides) and maps errors to script positions.

pub mod api;
pub mod bind;
pub mod check;
pub mod convert;
pub mod doc;
pub mod doc_markdown;
pub mod engine;
pub mod errors;
pub mod fidelity;
pub mod options;
pub mod register;
pub mod resolver;
pub mod run;
pub mod script_output;
pub mod state;

pub use engine::build;
pub use run::{Script, ScriptOutcome};
pub use state::ScriptState;
