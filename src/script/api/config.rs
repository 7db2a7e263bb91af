//! Host configuration as desired state: `h.packages`, `h.user`, `h.group`,
//! `h.authorized_key`, `h.cron`, `h.line_in_file`, `h.block_in_file`, `h.file`. Argument
//! conversion only; the work (probe, plan, apply) is in `crate::config`. Each returns whether
//! anything changed.

use std::sync::Arc;

use rhai::{Array, Engine, Map};
use serde::de::DeserializeOwned;

use crate::config::cron::CronOpts;
use crate::config::file_state::FileStateOpts;
use crate::config::keys::KeyOpts;
use crate::config::lines::{BlockOpts, LineOpts};
use crate::config::packages::PackageOpts;
use crate::config::users::{GroupOpts, UserOpts};
use crate::host::Host;
use crate::script::convert::options;
use crate::script::errors::{RhaiResult, lift, usage};
use crate::script::register::func;
use crate::script::state::ScriptState;

fn opts<T: DeserializeOwned + Default>(m: Option<Map>, what: &str) -> RhaiResult<T> {
    options(m, what)
}

fn strings(a: Array, what: &str) -> RhaiResult<Vec<String>> {
    a.into_iter()
        .map(|d| {
            let t = d.type_name();
            d.into_string()
                .or_else(|_| usage(format!("{what}: every item must be a string, found {t}")))
        })
        .collect()
}

pub fn register(engine: &mut Engine, st: &Arc<ScriptState>) {
    let doc = "Packages installed (state \"present\", default), removed (\"absent\") or upgraded (\"latest\", apt) with the host's manager (apt, dnf/yum, apk).\nopts #{state, update (refresh the index, once per run), sudo}; an unknown package is an error naming it. True if anything changed.";
    let s = st.clone();
    func(
        engine,
        "packages",
        ["h", "names"],
        doc,
        move |h: &mut Host, names: Array| -> RhaiResult<bool> {
            let names = strings(names, "h.packages()")?;
            lift(s.rt.block_on(h.packages(&names, &PackageOpts::default())))
        },
    );
    let s = st.clone();
    func(
        engine,
        "packages",
        ["h", "names", "opts"],
        doc,
        move |h: &mut Host, names: Array, o: Map| -> RhaiResult<bool> {
            let names = strings(names, "h.packages()")?;
            let o: PackageOpts = opts(Some(o), "h.packages()")?;
            lift(s.rt.block_on(h.packages(&names, &o)))
        },
    );

    let doc = "A user account as wanted: opts #{uid, group, groups (exactly these), shell, home, system, state, remove_home, sudo}. True if anything changed.";
    let s = st.clone();
    func(
        engine,
        "user",
        ["h", "name", "opts"],
        doc,
        move |h: &mut Host, name: &str, o: Map| -> RhaiResult<bool> {
            let o: UserOpts = opts(Some(o), "h.user()")?;
            lift(s.rt.block_on(h.ensure_user(name, &o)))
        },
    );
    let doc = "A group as wanted: opts #{gid, system, state, sudo}. True if anything changed.";
    let s = st.clone();
    func(
        engine,
        "group",
        ["h", "name", "opts"],
        doc,
        move |h: &mut Host, name: &str, o: Map| -> RhaiResult<bool> {
            let o: GroupOpts = opts(Some(o), "h.group()")?;
            lift(s.rt.block_on(h.ensure_group(name, &o)))
        },
    );

    let doc = "The ssh-copy-id step as desired state: the public key line is in (state \"present\") or out of (\"absent\") the user's ~/.ssh/authorized_keys, never twice. opts #{state, sudo}. True if the file changed.";
    let s = st.clone();
    func(
        engine,
        "authorized_key",
        ["h", "user", "key"],
        doc,
        move |h: &mut Host, user: &str, key: &str| -> RhaiResult<bool> {
            lift(s.rt.block_on(h.authorized_key(user, key, &KeyOpts::default())))
        },
    );
    let s = st.clone();
    func(
        engine,
        "authorized_key",
        ["h", "user", "key", "opts"],
        doc,
        move |h: &mut Host, user: &str, key: &str, o: Map| -> RhaiResult<bool> {
            let o: KeyOpts = opts(Some(o), "h.authorized_key()")?;
            lift(s.rt.block_on(h.authorized_key(user, key, &o)))
        },
    );

    let doc = "One named entry in a crontab, added, replaced or removed by name, never duplicated: opts #{schedule (\"0 * * * *\" or \"@hourly\"), command, user, state, sudo}. True if the crontab changed.";
    let s = st.clone();
    func(
        engine,
        "cron",
        ["h", "name", "opts"],
        doc,
        move |h: &mut Host, name: &str, o: Map| -> RhaiResult<bool> {
            let o: CronOpts = opts(Some(o), "h.cron()")?;
            lift(s.rt.block_on(h.cron(name, &o)))
        },
    );

    let doc = "One line of a text file as wanted, every other line kept: opts #{line, regexp (replace the last match / remove matches), state, after, before (regexps placing a new line), mode (new file), sudo}. True if the file changed.";
    let s = st.clone();
    func(
        engine,
        "line_in_file",
        ["h", "path", "opts"],
        doc,
        move |h: &mut Host, path: &str, o: Map| -> RhaiResult<bool> {
            let o: LineOpts = opts(Some(o), "h.line_in_file()")?;
            lift(s.rt.block_on(h.line_in_file(path, &o)))
        },
    );
    let doc = "A block of lines between marker lines (\"# BEGIN hoist managed block\" ... \"# END ...\"), replaced in place, every other line kept: opts #{marker (with {mark}), state, mode, sudo}. True if the file changed.";
    let s = st.clone();
    func(
        engine,
        "block_in_file",
        ["h", "path", "text"],
        doc,
        move |h: &mut Host, path: &str, text: &str| -> RhaiResult<bool> {
            lift(s.rt.block_on(h.block_in_file(path, text, &BlockOpts::default())))
        },
    );
    let s = st.clone();
    func(
        engine,
        "block_in_file",
        ["h", "path", "text", "opts"],
        doc,
        move |h: &mut Host, path: &str, text: &str, o: Map| -> RhaiResult<bool> {
            let o: BlockOpts = opts(Some(o), "h.block_in_file()")?;
            lift(s.rt.block_on(h.block_in_file(path, text, &o)))
        },
    );

    let doc = "A path as wanted: opts #{state: \"file\"|\"directory\"|\"link\"|\"absent\", mode, owner, group, recurse (directories), src (links), sudo}. Only what differs is changed; true if anything changed.";
    let s = st.clone();
    func(
        engine,
        "file",
        ["h", "path", "opts"],
        doc,
        move |h: &mut Host, path: &str, o: Map| -> RhaiResult<bool> {
            let o: FileStateOpts = opts(Some(o), "h.file()")?;
            lift(s.rt.block_on(h.file_state(path, &o)))
        },
    );
}
