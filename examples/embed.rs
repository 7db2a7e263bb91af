//! Embedding hoist in another Rust program: the primitives as plain async Rust, and a recipe
//! run from text, with events collected instead of printed.
//!
//! Run: `cargo run --example embed`

use std::sync::Arc;

use hoist::command::Command;
use hoist::report::{Collect, Event};

fn main() -> hoist::Result<()> {
    let events = Arc::new(Collect::default());
    let rt = hoist::Runtime::builder()
        .reporter(events.clone())
        .no_audit_log()
        .build()?;

    // The Rust API: a host, a command as data (argv, quoted in one place), typed output.
    let local = rt.local();
    let out = rt.block_on(local.run(&Command::argv(["uname", "-sr"])))?;
    println!("kernel: {}", out.stdout.trim());
    let facts = rt.block_on(local.facts())?;
    println!("{} cpus, {} MiB", facts.cpus, facts.mem_mb);

    // The same through a script.
    let script = hoist::script::Script {
        name: "inline.rhai".into(),
        text: "step(\"Count files\", || local().run(\"ls /etc | wc -l\").stdout.parse_int())"
            .into(),
        base_dir: std::env::current_dir()?,
    };
    let n = hoist::run_script(&rt, &script, &rt.vars)?;
    println!("/etc holds {n} entries");

    let steps = events
        .0
        .lock()
        .expect("events")
        .iter()
        .filter(|e| matches!(e, Event::StepFinished { .. }))
        .count();
    println!("{steps} step(s) reported");
    Ok(())
}
