//! One module per primitive; each only converts arguments and results.

pub mod fanout;
pub mod hosts;
pub mod run_control;
pub mod docker;
pub mod registry;
