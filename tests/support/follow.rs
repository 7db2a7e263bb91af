//! Watching a long-running child (`hoist logs --follow`): its stdout gathered as it comes,
//! and a wait until it shows something (the child ending first fails the test with what it
//! printed).

use std::io::Read;
use std::process::Child;
use std::sync::{Arc, Mutex};

/// Read a child's stdout into a shared string as it comes.
pub fn collect(child: &mut Child) -> Arc<Mutex<String>> {
    let out = Arc::new(Mutex::new(String::new()));
    let mut pipe = child.stdout.take().unwrap();
    let sink = out.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    out
}

/// Wait until `cond` holds for what the child printed so far.
pub fn wait_for(
    what: &str,
    out: &Arc<Mutex<String>>,
    child: &mut Child,
    cond: impl Fn(&str) -> bool,
) {
    loop {
        if cond(&out.lock().unwrap()) {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            panic!(
                "the run ended ({status}) before {what}:\n{}\n{err}",
                out.lock().unwrap()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}
