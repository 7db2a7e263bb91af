//! One module per primitive; each only converts arguments and results.

pub mod cleanup;
pub mod compose;
pub mod config;
pub mod docker;
pub mod error_value;
pub mod fanout;
pub mod host_edits;
pub mod hosts;
pub mod mount;
pub mod output;
pub mod paths;
pub mod registry;
pub mod release;
pub mod run_control;
pub mod stdlib;
pub mod swarm;
