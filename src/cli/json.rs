//! `--json`: every event as one JSON object per line on stdout.

use std::io::Write;

use crate::report::{Event, Reporter};

pub struct Json;

impl Json {
    pub fn emit(value: &serde_json::Value) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{value}");
    }
}

impl Reporter for Json {
    fn event(&self, event: Event) {
        if let Ok(v) = serde_json::to_value(&event) {
            Self::emit(&v);
        }
    }
}
