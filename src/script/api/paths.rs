//! `script_dir()` and `project_dir()`: the two directories a script's local paths can mean.
//! Relative local paths resolve against `project_dir()` in every primitive (the one path
//! rule); `script_dir()` reaches files shipped beside a script.

use crate::script::bind::Bind;

pub fn register(b: &mut Bind) {
    let s = b.st.clone();
    b.sync_fn(
        "project_dir",
        [],
        "The directory relative local paths start at (docker build contexts, local().read/write, \
         upload and template sources, local commands): hoist.toml's directory, or — with no \
         hoist.toml — the directory of the script being run.",
        move || s.project_dir().display().to_string(),
    );
    let s = b.st.clone();
    b.sync_fn(
        "script_dir",
        [],
        "The directory of the script being run (a built-in recipe's is project_dir()): \
         `script_dir() + \"/nginx.conf.j2\"` names a file shipped beside the script.",
        move || s.script_dir().display().to_string(),
    );
}
