//! Build, push and pull progress as reporter events: the CLI draws bars on a terminal and
//! lines otherwise; `--json` gets the events as they are.

use crate::report::Event;
use crate::services::Services;

/// One long operation (`push 127.0.0.1:5000/app:1`) on one host.
pub struct Progress {
    services: Services,
    host: String,
    task: String,
    finished: bool,
}

impl Progress {
    pub fn start(services: &Services, host: &str, task: impl Into<String>) -> Progress {
        Progress {
            services: services.clone(),
            host: host.to_string(),
            task: task.into(),
            finished: false,
        }
    }

    /// An item (a layer, a build step) moved on.
    pub fn update(&self, id: &str, status: &str, current: Option<i64>, total: Option<i64>) {
        let status = self.services.redactor.redact(status.trim_end());
        if status.is_empty() && current.is_none() {
            return;
        }
        self.services.reporter.event(Event::Progress {
            host: self.host.clone(),
            task: self.task.clone(),
            id: id.to_string(),
            status,
            current: current.and_then(|c| u64::try_from(c).ok()),
            total: total.and_then(|t| u64::try_from(t).ok()).filter(|t| *t > 0),
        });
    }

    pub fn done(mut self) {
        self.finish();
    }

    fn finish(&mut self) {
        if !self.finished {
            self.finished = true;
            self.services.reporter.event(Event::ProgressDone {
                host: self.host.clone(),
                task: self.task.clone(),
            });
        }
    }
}

/// A failed operation still closes its display.
impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
