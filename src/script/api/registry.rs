//! `registry(url, opts)` and the `Registry` methods.

use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, Map};

use crate::registry::{Registry, RegistryOpts};
use crate::script::api::hosts::resolve_local;
use crate::script::convert::{self, Text, options, take};
use crate::script::errors::{RhaiResult, lift};
use crate::script::register::func;
use crate::script::state::ScriptState;
use crate::secret::Secret;

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Opts {
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    password_env: Option<String>,
    #[serde(default)]
    password_file: Option<String>,
}

fn open(s: &ScriptState, url: &str, opts: Option<Map>) -> RhaiResult<Registry> {
    let mut opts = opts;
    let password = match take(&mut opts, "password") {
        Some(p) => Some(match convert::text(p, "registry(): password")? {
            Text::Plain(p) => Secret::new(p),
            Text::Secret(p) => p,
        }),
        None => None,
    };
    let o: Opts = options(opts, "registry()")?;
    let r = lift(Registry::new(
        url,
        RegistryOpts {
            user: o.user,
            password,
            password_env: o.password_env,
            password_file: o.password_file.map(|f| resolve_local(s, &f).into()),
            services: Some(s.rt.services.clone()),
        },
    ))?;
    // However the password arrived, it is hidden from every output from now on.
    if let Ok((_, p)) = r.credentials() {
        s.rt.services.redactor.register(&p);
    }
    Ok(r)
}

pub fn register(engine: &mut Engine, st: &Arc<ScriptState>) {
    engine.register_type_with_name::<Registry>("Registry");
    engine.register_get("server", |r: &mut Registry| r.server());
    engine.register_get("url", |r: &mut Registry| r.url());
    engine.register_fn("to_string", |r: &mut Registry| r.url());
    engine.register_fn("to_debug", |r: &mut Registry| format!("{r:?}"));

    let s = st.clone();
    func(
        engine,
        "registry",
        "url: String, opts: Map -> Registry",
        "A registry: \"host[:port][/namespace]\" (http for loopback, else https, unless the URL says).\n\
         opts: #{user, password | password_env | password_file}.",
        move |url: &str, opts: Map| open(&s, url, Some(opts)),
    );
    let s = st.clone();
    func(
        engine,
        "registry",
        "url: String -> Registry",
        "A registry without credentials (anonymous reads).",
        move |url: &str| open(&s, url, None),
    );
    let s = st.clone();
    func(
        engine,
        "login",
        "r: Registry",
        "Check the credentials with the registry, then store them on this machine as `docker login`\n\
         does (credential helper, or ~/.docker/config.json). A refusal names the registry and its answer.",
        move |r: &mut Registry| -> RhaiResult<()> { lift(s.rt.block_on(r.login())) },
    );
    let s = st.clone();
    func(
        engine,
        "tags",
        "r: Registry, repo: String -> Array",
        "The tags of a repository (sorted).",
        move |r: &mut Registry, repo: &str| -> RhaiResult<Array> {
            Ok(lift(s.rt.block_on(r.tags(repo)))?
                .into_iter()
                .map(Dynamic::from)
                .collect())
        },
    );
    let s = st.clone();
    func(
        engine,
        "digest",
        "r: Registry, ref: String -> String",
        "The manifest digest (sha256:...) of \"repo:tag\".",
        move |r: &mut Registry, reference: &str| -> RhaiResult<String> {
            lift(s.rt.block_on(r.digest(reference)))
        },
    );
    let s = st.clone();
    func(
        engine,
        "exists",
        "r: Registry, ref: String -> bool",
        "Is \"repo:tag\" in the registry?",
        move |r: &mut Registry, reference: &str| -> RhaiResult<bool> {
            lift(s.rt.block_on(r.exists(reference)))
        },
    );
    let s = st.clone();
    func(
        engine,
        "delete",
        "r: Registry, ref: String",
        "Delete the manifest \"repo:tag\" points to (the registry must allow deletes).",
        move |r: &mut Registry, reference: &str| -> RhaiResult<()> {
            lift(s.rt.block_on(r.delete(reference)))
        },
    );
    func(
        engine,
        "image",
        "r: Registry, repo: String, tag: String -> String",
        "The full image name \"host[/namespace]/repo:tag\" for pushes and pulls.",
        |r: &mut Registry, repo: &str, tag: &str| r.image(repo, tag),
    );
}
