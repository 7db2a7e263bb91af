//! Host configuration as desired state: `h.packages`, `h.user`, `h.group`,
//! `h.authorized_key`, `h.cron`, `h.line_in_file`, `h.block_in_file`, `h.file`. Argument
//! conversion only; the work (probe, plan, apply) is in `crate::config`. Each returns whether
//! anything changed.

use rhai::Array;

use crate::config::cron::CronOpts;
use crate::config::file_state::FileStateOpts;
use crate::config::keys::KeyOpts;
use crate::config::lines::{BlockOpts, LineOpts};
use crate::config::packages::PackageOpts;
use crate::config::users::{GroupOpts, UserOpts};
use crate::host::Host;
use crate::script::bind::Bind;
use crate::script::errors::{RhaiResult, lift, usage};

fn strings(a: Array, what: &str) -> RhaiResult<Vec<String>> {
    a.into_iter()
        .map(|d| {
            let t = d.type_name();
            d.into_string()
                .or_else(|_| usage(format!("{what}: every item must be a string, found {t}")))
        })
        .collect()
}

pub fn register(b: &mut Bind) {
    b.method1_optional_opts(
        "packages",
        &["h", "names"],
        "Packages installed (state \"present\", default), removed (\"absent\") or upgraded (\"latest\", apt) with the host's manager (apt, dnf/yum, apk).\n\
         update: refresh the index (once per run). An unknown package is an error naming it. True if anything changed.",
        |h: Host, names: Array, o: PackageOpts| async move {
            let names = strings(names, "h.packages()")?;
            lift(h.packages(&names, &o).await)
        },
    );
    b.method1_required_opts(
        "user",
        &["h", "name"],
        "A user account as wanted (groups: exactly these). True if anything changed.",
        |h: Host, name: String, o: UserOpts| async move { h.ensure_user(&name, &o).await },
    );
    b.method1_required_opts(
        "group",
        &["h", "name"],
        "A group as wanted. True if anything changed.",
        |h: Host, name: String, o: GroupOpts| async move { h.ensure_group(&name, &o).await },
    );
    b.method2_optional_opts(
        "authorized_key",
        &["h", "user", "key"],
        "The ssh-copy-id step as desired state: the public key line is in (state \"present\") or out of (\"absent\") the user's ~/.ssh/authorized_keys, never twice. True if the file changed.",
        |h: Host, user: String, key: String, o: KeyOpts| async move {
            h.authorized_key(&user, &key, &o).await
        },
    );
    b.method1_required_opts(
        "cron",
        &["h", "name"],
        "One named entry in a crontab, added, replaced or removed by name, never duplicated:\n\
         schedule \"0 * * * *\" or \"@hourly\". True if the crontab changed.",
        |h: Host, name: String, o: CronOpts| async move { h.cron(&name, &o).await },
    );
    b.method1_required_opts(
        "line_in_file",
        &["h", "path"],
        "One line of a text file as wanted, every other line kept: regexp replaces the last match\n\
         (or removes the matches); after, before: regexps placing a new line; mode: of a new file. True if the file changed.",
        |h: Host, path: String, o: LineOpts| async move { h.line_in_file(&path, &o).await },
    );
    b.method2_optional_opts(
        "block_in_file",
        &["h", "path", "text"],
        "A block of lines between marker lines (\"# BEGIN hoist managed block\" ... \"# END ...\"), replaced in place,\n\
         every other line kept; marker: with {mark}. True if the file changed.",
        |h: Host, path: String, text: String, o: BlockOpts| async move {
            h.block_in_file(&path, &text, &o).await
        },
    );
    b.method1_required_opts(
        "file",
        &["h", "path"],
        "A path as wanted: state \"file\" | \"directory\" | \"link\" | \"absent\"; recurse: directories; src: links.\n\
         Only what differs is changed; true if anything changed.",
        |h: Host, path: String, o: FileStateOpts| async move { h.file_state(&path, &o).await },
    );
}
