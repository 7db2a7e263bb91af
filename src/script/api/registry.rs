//! `registry(url, opts)` and the `Registry` methods.

use rhai::{Array, Dynamic};

use crate::registry::{Registry, RegistryOpts};
use crate::script::api::hosts::resolve_local;
use crate::script::bind::Bind;
use crate::script::state::ScriptState;
use crate::sensitive::Sensitive;

/// `registry(url, opts)`'s options.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Opts {
    #[serde(default)]
    user: Option<String>,
    /// Only a secret: a password written in the script would be in the script.
    #[serde(default)]
    password: Option<Sensitive>,
    #[serde(default)]
    password_env: Option<String>,
    #[serde(default)]
    password_file: Option<String>,
}

fn open(s: &ScriptState, url: &str, o: Opts) -> crate::error::Result<Registry> {
    let r = Registry::new(
        url,
        RegistryOpts {
            user: o.user,
            password: o.password.map(|p| p.0),
            password_env: o.password_env,
            password_file: o.password_file.map(|f| resolve_local(s, &f).into()),
            services: Some(s.rt.services.clone()),
        },
    )?;
    // However the password arrived, it is hidden from every output from now on.
    if let Ok((_, p)) = r.credentials() {
        s.rt.services.redactor.register(&p);
    }
    Ok(r)
}

pub fn register(b: &mut Bind) {
    b.properties::<Registry, String>(
        "r",
        &[
            (
                "server",
                "`host[:port]`: the name docker stores the registry's credentials under.",
                |r| r.server(),
            ),
            (
                "url",
                "The registry as given (scheme, host, namespace).",
                |r| r.url(),
            ),
        ],
    );
    b.printed(
        "r",
        ("its url", |r: &mut Registry| r.url()),
        ("Registry(URL)", |r: &mut Registry| format!("{r:?}")),
    );
    let s = b.st.clone();
    b.function1_optional_opts(
        "registry",
        &["url"],
        "A registry: \"host[:port][/namespace]\" (http for loopback, else https, unless the URL says).\n\
         Without options: no credentials (anonymous reads). The password is a secret, an environment\n\
         variable's name (password_env) or a local file (password_file).",
        move |url: String, o: Opts| {
            let r = open(&s, &url, o);
            async move { r }
        },
    );
    b.method0(
        "login",
        &["r"],
        "Check the credentials with the registry, then store them on this machine as `docker login`\n\
         does (credential helper, or ~/.docker/config.json). A refusal names the registry and its answer.",
        |r: Registry| async move { r.login().await },
    );
    b.method1(
        "tags",
        &["r", "repo"],
        "The tags of a repository (sorted).",
        |r: Registry, repo: String| async move {
            let tags = r.tags(&repo).await?;
            Ok::<Array, crate::error::Error>(tags.into_iter().map(Dynamic::from).collect())
        },
    );
    b.method1(
        "digest",
        &["r", "ref"],
        "The manifest digest (sha256:...) of \"repo:tag\".",
        |r: Registry, reference: String| async move { r.digest(&reference).await },
    );
    b.method1(
        "exists",
        &["r", "ref"],
        "Is \"repo:tag\" in the registry?",
        |r: Registry, reference: String| async move { r.exists(&reference).await },
    );
    b.method1(
        "delete",
        &["r", "ref"],
        "Delete the manifest \"repo:tag\" points to (the registry must allow deletes).",
        |r: Registry, reference: String| async move { r.delete(&reference).await },
    );
    b.sync_fn(
        "image",
        ["r", "repo", "tag"],
        "The full image name \"host[/namespace]/repo:tag\" for pushes and pulls.",
        |r: &mut Registry, repo: &str, tag: &str| r.image(repo, tag),
    );
}
