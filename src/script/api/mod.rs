//! One module per primitive; each only converts arguments and results.

pub mod docker;
pub mod fanout;
pub mod hosts;
pub mod registry;
pub mod run_control;
