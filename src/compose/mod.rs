//! Compose projects on any host, planned locally: hoist reads the compose and env files
//! from the host, interpolates and validates them itself (so `render()` and plans need no
//! compose tool), and drives the host's compose tool (v2 plugin or v1) for what needs the
//! files (`up`, `run`, `stop` ...). The day-2 verbs of a running project (`ps`, `logs`,
//! `exec`, `down`) go through the Engine API by compose's labels instead: the same for both
//! tools, and without the project's files (see labels.rs).

pub mod down;
pub mod labels;
mod logs;
pub mod merge;
pub mod model;
pub mod project;
pub mod ps;
pub mod render;
pub mod schema;
pub mod shellwords;
pub mod short_syntax;
pub mod tool;
mod up_plan;
pub mod validate;
pub mod yaml;

pub use down::Removed;
pub use logs::LogsOptions;
pub use project::{
    ComposeOptions, DownOptions, ExecOptions, Project, PullPolicy, RmOptions, RunOptions, UpOptions,
};
pub use ps::ContainerState;
pub use tool::Tool;
