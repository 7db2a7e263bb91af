//! What a `hoist` run printed, for the tests that run the binary.

use std::process::Output;

/// The run's stdout; the test fails (with both streams) when the run did.
pub fn ok(o: &Output) -> String {
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(o.status.success(), "hoist failed:\n{out}\n{err}");
    out.into_owned()
}

/// The list a `--json` run returned (the `value` of its last line).
pub fn list_value(o: &Output) -> Vec<serde_json::Value> {
    let out = ok(o);
    let last: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    last["value"]
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {last}"))
        .clone()
}
