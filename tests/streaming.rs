//! Streamed output over SSH arrives line by line while the command still runs (what
//! `logs --follow` and `stream: true` rely on): a line is shown when its newline arrives, not
//! when the next output or the end of the command does. On the fleet's real sshd.

mod support;

use hoist::report::Event;
use support::fleet::{OnDrop, fleet};
use support::run_script;

#[test]
fn a_streamed_line_is_shown_while_the_command_still_runs() {
    let f = fleet();
    let h = f.host(1);
    let gate = format!("/tmp/ro-stream-gate-{}", std::process::id());
    h.sh(&format!("rm -f {gate}"));
    let _cleanup = OnDrop(|| {
        h.sh(&format!("rm -f {gate}"));
    });
    let (rt, events) = f.runtime();
    // The command prints one line, then waits (at most 60 s) for the gate this test opens
    // once it has seen that line; it exits 0 only if the gate was opened.
    let script = format!(
        "let h = ssh(\"{spec}\");\n\
         h.run(\"echo ready; i=0; while [ ! -e {gate} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; test -e {gate}\", #{{stream: true, check: false}}).code",
        spec = h.spec()
    );
    let runner = {
        let rt = rt.clone();
        std::thread::spawn(move || run_script(&rt, &script))
    };
    let shown = || {
        events
            .0
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, Event::Output { line, .. } if line == "ready"))
    };
    while !shown() {
        assert!(
            !runner.is_finished(),
            "the command ended before its first line was shown: streamed output waited for the end"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    h.sh_ok(&format!("touch {gate}"));
    let code = runner
        .join()
        .unwrap()
        .unwrap_or_else(|e| panic!("{}", e.render()));
    assert_eq!(code, 0, "the line was shown while the command waited");
    rt.shutdown();
}
