//! `with_lock`: the per-app lock of `release::lock` for scripts (argument conversion only).

use std::sync::Arc;
use std::time::Duration;

use rhai::{Array, Dynamic, Engine, FnPtr, Map, NativeCallContext};

use crate::host::Host;
use crate::script::convert::options;
use crate::script::errors::{RhaiResult, lift, usage};
use crate::script::register::func;
use crate::script::state::ScriptState;

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LockOpts {
    /// Seconds to wait for another run's lock (default: --lock-wait, else 0 = refuse at once).
    #[serde(default, deserialize_with = "crate::options::opt_float")]
    wait: Option<f64>,
}

const DOC: &str = "Run body holding the lock `name` (e.g. the app) on every host: taken on all of them before body starts\n\
(~/.hoist/locks/NAME, made atomically), removed after it, also when body fails or Ctrl-C stops it.\n\
Another run holding it: refused at once with an error naming the holder (user, controller, pid, run id, recipe, since),\n\
or waits up to opts.wait / --lock-wait seconds. Nested with_lock of the same name in one run is a no-op.\n\
`hoist lock status|release --app NAME` shows or breaks it.";

pub fn register(engine: &mut Engine, st: &Arc<ScriptState>) {
    register_record_fields(engine);
    let s = st.clone();
    func(
        engine,
        "with_lock",
        ["hosts", "name", "body"],
        DOC,
        move |ctx: NativeCallContext, hosts: Array, name: &str, body: FnPtr| {
            with_lock(&s, &ctx, hosts, name, None, body)
        },
    );
    let s = st.clone();
    func(
        engine,
        "with_lock",
        ["hosts", "name", "opts", "body"],
        "with_lock() with options: #{wait: SECONDS}.",
        move |ctx: NativeCallContext, hosts: Array, name: &str, opts: Map, body: FnPtr| {
            with_lock(&s, &ctx, hosts, name, Some(opts), body)
        },
    );
    let s = st.clone();
    func(
        engine,
        "with_lock",
        ["name", "body"],
        "with_lock() on every host of the selected environment.",
        move |ctx: NativeCallContext, name: &str, body: FnPtr| {
            let hosts = lift(s.rt.group(None))?
                .into_iter()
                .map(Dynamic::from)
                .collect();
            with_lock(&s, &ctx, hosts, name, None, body)
        },
    );
}

fn with_lock(
    s: &ScriptState,
    ctx: &NativeCallContext,
    hosts: Array,
    name: &str,
    opts: Option<Map>,
    body: FnPtr,
) -> RhaiResult<Dynamic> {
    let o: LockOpts = options(opts, "with_lock()")?;
    let hosts: Vec<Host> = hosts
        .into_iter()
        .map(|d| {
            let t = d.type_name();
            d.try_cast::<Host>().ok_or(t)
        })
        .collect::<Result<_, _>>()
        .or_else(|t| usage(format!("with_lock(): every item must be a Host, found {t}")))?;
    let wait = o.wait.unwrap_or(s.rt.settings.lock_wait);
    if !(wait >= 0.0 && wait.is_finite()) {
        return usage("with_lock(): wait must be >= 0 seconds");
    }
    let recipe = recipe_name(&s.main_source());
    lift(crate::release::with_lock(
        &s.rt,
        &hosts,
        name,
        &recipe,
        Duration::from_secs_f64(wait),
        || body.call_within_context::<Dynamic>(ctx, ()),
    ))?
}

/// `recipe:deploy` / `/path/deploy.rhai` → `deploy`.
fn recipe_name(source: &str) -> String {
    let base = source.rsplit(['/', ':']).next().unwrap_or(source);
    base.trim_end_matches(".rhai").to_string()
}

/// What a release record says about the run that made it, and the digests it keeps.
fn register_record_fields(engine: &mut Engine) {
    func(
        engine,
        "run_info",
        [],
        "This run, as a release record names it: #{run_id, user, controller} (the same run id the lock holder shows).",
        || {
            let mut m = Map::new();
            m.insert("run_id".into(), crate::release::lock::run_id().into());
            m.insert("user".into(), crate::local_user::current_user().into());
            m.insert(
                "controller".into(),
                crate::release::lock::controller_name().into(),
            );
            m
        },
    );
    func(
        engine,
        "sha256",
        ["text"],
        "The SHA-256 of a text, as 64 hex digits (what `sha256sum` prints for a file holding it).",
        |text: &str| {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(text.as_bytes()))
        },
    );
}
