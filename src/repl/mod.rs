//! The interactive REPL (issue: REPL). Placeholder until the reedline front-end lands.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::runtime::Runtime;

pub fn run(_rt: &Arc<Runtime>, _hosts: &[String]) -> Result<()> {
    Err(Error::usage("hoist repl is not built yet"))
}
