//! The release engine (`h.release(app, opts)`, its candidates) and `with_lock`, the per-app
//! lock, for scripts: argument conversion only — every decision is `crate::release`'s.

use std::time::Duration;

use rhai::{Array, Dynamic, FnPtr, Map, NativeCallContext};

use crate::host::Host;
use crate::release::lock::LockOpts;
use crate::release::{Candidate, NewFiles, Release, ReleaseOptions, Store};
use crate::script::bind::Bind;
use crate::script::convert::{self, options, to_dynamic};
use crate::script::errors::{RhaiResult, lift, to_rhai, usage};
use crate::script::state::ScriptState;

const DOC: &str = "Run body holding the lock `name` (e.g. the app) on every host: taken on all of them before body starts\n\
(~/.hoist/locks/NAME, made atomically), removed after it, also when body fails or Ctrl-C stops it.\n\
Another run holding it: refused at once with an error naming the holder (user, controller, pid, run id, recipe, since),\n\
or waits up to opts.wait / --lock-wait seconds. Nested with_lock of the same name in one run is a no-op.\n\
`hoist lock status|release --app NAME` shows or breaks it.";

pub fn register(b: &mut Bind) {
    register_record_fields(b);
    register_engine(b);
    let s = b.st.clone();
    b.sync_fn(
        "with_lock",
        ["hosts", "name", "body"],
        DOC,
        move |ctx: NativeCallContext, hosts: Array, name: &str, body: FnPtr| {
            with_lock(&s, &ctx, hosts, name, None, body)
        },
    );
    let s = b.st.clone();
    b.taking::<LockOpts>().sync_fn(
        "with_lock",
        ["hosts", "name", "opts", "body"],
        "with_lock() with options: #{wait: SECONDS}.",
        move |ctx: NativeCallContext, hosts: Array, name: &str, opts: Map, body: FnPtr| {
            with_lock(&s, &ctx, hosts, name, Some(opts), body)
        },
    );
    let s = b.st.clone();
    b.sync_fn(
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
    let hosts = convert::hosts(hosts, "with_lock()")?;
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
fn register_record_fields(b: &mut Bind) {
    b.sync_fn(
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
    b.sync_fn(
        "sha256",
        ["text"],
        "The SHA-256 of a text, as 64 hex digits (what `sha256sum` prints for a file holding it).",
        |text: &str| {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(text.as_bytes()))
        },
    );
}

/// `h.release(app, opts)` and the steps of a release.
fn register_engine(b: &mut Bind) {
    b.properties::<Release, String>(
        "r",
        &[
            ("app", "The app (its compose project).", |r| {
                r.app().to_string()
            }),
            ("dir", "The project directory on the host.", |r| {
                r.dir().to_string()
            }),
        ],
    );
    b.properties::<Release, Array>(
        "r",
        &[
            ("env_files", "The env files the project runs with.", |r| {
                strings(r.env_files())
            }),
            (
                "profiles",
                "The compose profiles the project runs with.",
                |r| strings(r.profiles()),
            ),
        ],
    );
    b.properties::<Candidate, String>(
        "c",
        &[
            ("id", "The release's id: r1, r2, … per host (what upgrade --to ID names).", |c| c.record().id.clone()),
            ("image", "The image as asked for (registry/app:tag).", |c| c.record().image.clone()),
            ("pinned", "What the release runs: repo@sha256:… (its digest), sha256:… (an image id) or the tag.", |c| c.record().pinned.clone()),
            ("previous", "The id of the live release it replaces (\"\" when there is none).", |c| c.previous().map(|p| p.id.clone()).unwrap_or_default()),
        ],
    );
    b.property(
        "record",
        "c",
        "Its release record, as a map.",
        |c: &mut Candidate| to_dynamic(c.record()).unwrap_or(Dynamic::UNIT),
    );
    b.printed_as_debug::<Release>("r", "Release(APP in DIR on HOST)");
    b.printed_as_debug::<Candidate>("c", "Release(ID IMAGE STAGE)");
    let rt = b.st.rt.clone();
    b.method1_optional_opts(
        "release",
        &["h", "app"],
        "The releases of compose app `app` on the host (project directory opts.dir, default ~/apps/APP): records in\n\
         .hoist/releases.jsonl, each release's files kept under .hoist/releases/. env_files / profiles default to the\n\
         live release's. health_port / health_path: an HTTP check; timeout: seconds per check; services: recreate order;\n\
         keep_releases: how many releases keep their files (default 10). Settles what earlier runs' host-side guards left.",
        move |h: Host, app: String, o: ReleaseOptions| {
            let rt = rt.clone();
            async move {
                let d = rt.docker(&h).await?;
                Release::open(&h, d, &app, o).await
            }
        },
    );
    b.method1_optional_opts(
        "prepare",
        &["r", "image"],
        "A new release of `image` (already on the host: pulled or sent), read-only: its files (opts.compose and\n\
         opts.env_files #{name: text}; none: the project's own), what pins the image, which services run it, its record.\n\
         A compose file that runs no service of the image's repository is refused here, before anything changes.",
        |r: Release, image: String, o: NewFiles| async move { r.prepare(&image, o).await },
    );
    b.method1(
        "prepare_back",
        &["r", "to"],
        "Going back, read-only: to \"\" is --rollback (the release before the live one, never forward again),\n\
         else the recorded release `to` (--to ID). Its files come back from their kept copies.",
        |r: Release, to: String| async move {
            r.prepare_back((!to.is_empty()).then_some(to.as_str())).await
        },
    );
    b.method1(
        "pinned_services",
        &["r", "image"],
        "The services of the project's compose file (on the host) that run `image`'s repository; none is an error.",
        |r: Release, image: String| async move {
            r.pinned_services(&image)
                .await
                .map(|v| v.into_iter().map(Dynamic::from).collect::<Array>())
        },
    );
    b.method1(
        "preflight",
        &["r", "c"],
        "Prove release c beside the live one (project APP-preflight, no published ports): its containers must be up,\n\
         healthy, not restarting, and answer the HTTP check on their address. The pre-flight project goes whatever\n\
         happens (a host-side guard removes it even if this run is killed). A failure leaves the live release untouched.",
        |r: Release, c: Candidate| async move { r.preflight(&c).await },
    );
    b.method1(
        "cutover",
        &["r", "c"],
        "Put release c live: files, hoist's pin and records in place, compose recreates what changed, every check must\n\
         pass. A host-side guard armed first puts the live release back exactly (files, records, containers) on failure,\n\
         Ctrl-C, or when this run is lost. Returns #{release, image, pinned, previous}.",
        |r: Release, c: Candidate| async move {
            let s = r.cutover(&c).await.map_err(to_rhai)?;
            let mut m = Map::new();
            m.insert("release".into(), s.release.into());
            m.insert("image".into(), s.image.into());
            m.insert("pinned".into(), s.pinned.into());
            m.insert("previous".into(), s.previous.into());
            Ok::<_, Box<rhai::EvalAltResult>>(m)
        },
    );
    b.method2(
        "watch",
        &["r", "c", "seconds"],
        "Watch live release c for `seconds`: one that turns unhealthy, exits or restarts is rolled back to the release\n\
         before it and recorded as failed with the reason (an error then).",
        |r: Release, c: Candidate, seconds: i64| async move {
            r.watch(&c, seconds.max(0) as u64).await
        },
    );
    b.method0(
        "confirm",
        &["r"],
        "Keep the live release: a later plain --rollback does not go past it. Returns its record.",
        |r: Release| async move {
            let rec = r.confirm().await.map_err(to_rhai)?;
            to_dynamic(&rec)
        },
    );
    b.method0(
        "records",
        &["r"],
        "The release records, oldest first (maps: id, image, pinned, pin, files, env_files, profiles, params, outcome, …).",
        |r: Release| async move {
            let h = r.history().await.map_err(to_rhai)?;
            crate::script::convert::rows(&h.records)
        },
    );
    b.method2(
        "diff",
        &["r", "from", "to"],
        "What changed from release `from` to `to`: image, profiles, the compose file as a diff, env files by key (no values).",
        |r: Release, from: String, to: String| async move { r.diff(&from, &to).await },
    );
    let s = b.st.clone();
    b.sync_fn(
        "image_tag",
        ["context"],
        "The tag for a build context: its git commit (short, `-dirty` with changes), else the time (UTC).",
        move |context: &str| -> RhaiResult<String> {
            let local = s.rt.local();
            let dir = crate::script::api::hosts::resolve_local(&s, context);
            lift(s.rt.block_on(crate::release::tag::for_context(&local, &dir)))
        },
    );
    b.sync_fn(
        "app_dir",
        ["app", "dir"],
        "The project directory of `app` on a host: `dir` when given (not () or \"\"), else ~/apps/APP.",
        |app: &str, dir: Dynamic| {
            let dir = dir.into_string().ok();
            crate::release::layout::project_dir(app, dir.as_deref())
        },
    );
    let s = b.st.clone();
    b.sync_fn(
        "release_records",
        ["h", "dir"],
        "The release records of the project in `dir` on host h, oldest first ([] when never released) — read only.",
        move |h: Host, dir: &str| -> RhaiResult<Array> {
            let history = lift(s.rt.block_on(Store::new(&h, dir).load()))?;
            crate::script::convert::rows(&history.records)
        },
    );
    let s = b.st.clone();
    b.sync_fn(
        "live_release",
        ["h", "dir"],
        "The live release record of the project in `dir` on host h, or () — read only.",
        move |h: Host, dir: &str| -> RhaiResult<Dynamic> {
            let history = lift(s.rt.block_on(Store::new(&h, dir).load()))?;
            match history.live() {
                Some(r) => to_dynamic(r),
                None => Ok(Dynamic::UNIT),
            }
        },
    );
}

fn strings(v: &[String]) -> Array {
    v.iter().map(|s| Dynamic::from(s.clone())).collect()
}
