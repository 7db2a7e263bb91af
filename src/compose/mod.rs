//! Compose projects on any host, planned locally: hoist reads the compose and env files
//! from the host, interpolates and validates them itself (so `render()` and plans need no
//! compose tool), and drives the host's compose tool (v2 plugin or v1) for everything that
//! acts. `ps` comes from the Engine API by compose's labels, the same for both tools.

pub mod env_file;
pub mod interpolate;
pub mod merge;
pub mod model;
pub mod project;
pub mod ps;
pub mod render;
pub mod tool;
mod up_plan;
pub mod validate;
pub mod yaml;

pub use project::{
    ComposeOptions, DownOptions, ExecOptions, LogsOptions, Project, PullPolicy, RmOptions,
    RunOptions, UpOptions,
};
pub use ps::ContainerState;
pub use tool::Tool;
