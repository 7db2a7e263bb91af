//! Which step the current thread is in, so errors and the audit log can name it. Fan-out
//! threads inherit the step of the thread that started them.

use std::cell::RefCell;

thread_local! {
    static STEPS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// The innermost step, if any (nested steps are joined with " › ").
pub fn current() -> Option<String> {
    STEPS.with(|s| {
        let s = s.borrow();
        if s.is_empty() {
            None
        } else {
            Some(s.join(" › "))
        }
    })
}

/// Enter a step until the guard drops.
pub fn enter(name: &str) -> Guard {
    STEPS.with(|s| s.borrow_mut().push(name.to_string()));
    Guard(())
}

/// Start a thread inside the same steps as its parent.
pub fn inherit(steps: Option<String>) -> Option<Guard> {
    steps.map(|s| enter(&s))
}

pub struct Guard(());

impl Drop for Guard {
    fn drop(&mut self) {
        STEPS.with(|s| {
            s.borrow_mut().pop();
        });
    }
}
