//! Run control: `step`, `info`, `warn`, `fail`, `confirm`, `secret`, `render`, `sleep`,
//! `dry_run`, `assume`.

use std::time::Instant;

use rhai::{Dynamic, FnPtr, Map, NativeCallContext};

use crate::error::Error;
use crate::report::{Event, Level};
use crate::script::bind::Bind;
use crate::script::convert;
use crate::script::errors::{RhaiResult, lift, to_rhai, usage};
use crate::script::state::ScriptState;
use crate::secret::Secret;

pub fn register(b: &mut Bind) {
    b.printed(
        "s",
        ("[REDACTED], never the value", |s: &mut Secret| {
            s.to_string()
        }),
        ("[REDACTED], never the value", |s: &mut Secret| {
            s.to_string()
        }),
    );
    // Joining a secret into a string keeps it redacted rather than leaking it.
    b.sync_fn(
        "+",
        ["a", "s"],
        "Text joined with a secret: the secret stays [REDACTED] (use it through secret_env or stdin).",
        |a: &str, s: Secret| format!("{a}{s}"),
    );
    b.sync_fn(
        "+",
        ["s", "a"],
        "A secret joined with text: the secret stays [REDACTED] (use it through secret_env or stdin).",
        |s: Secret, a: &str| format!("{s}{a}"),
    );

    let s = b.st.clone();
    b.sync_fn(
        "dry_run",
        [],
        "Is this a --dry-run? Changes are then recorded in the plan, not made; a check that\n\
         needs them made (a health check of the new release) is skipped with assume().",
        move || s.rt.services.effects().planning(),
    );
    let s = b.st.clone();
    b.sync_fn(
        "assume",
        ["what"],
        "In a --dry-run, say what the plan takes for granted (\"the new release is healthy\"):\n\
         the plan lists it. Does nothing in a real run.",
        move |what: &str| {
            let effects = s.rt.services.effects();
            if effects.planning() {
                effects.assume("", what.to_string());
            }
        },
    );
    let s = b.st.clone();
    b.sync_fn(
        "step",
        ["name", "body"],
        "Run `body` as a named step: shown as a banner, timed, and named in every error inside it.",
        move |ctx: NativeCallContext, name: &str, body: FnPtr| -> RhaiResult<Dynamic> {
            let reporter = &s.rt.services.reporter;
            reporter.event(Event::StepStarted {
                name: name.to_string(),
            });
            let started = Instant::now();
            let result = {
                let _guard = crate::step::enter(name);
                body.call_within_context::<Dynamic>(&ctx, ())
            };
            reporter.event(Event::StepFinished {
                name: name.to_string(),
                ok: result.is_ok(),
                ms: started.elapsed().as_millis() as u64,
            });
            result
        },
    );

    for (fname, level) in [("info", Level::Info), ("warn", Level::Warn)] {
        let s = b.st.clone();
        b.sync_fn(
            fname,
            ["message"],
            "Tell the user something (goes to the reporter, and to --json).",
            move |m: Dynamic| {
                let text = s.rt.services.redactor.redact(&m.to_string());
                s.rt.services.reporter.event(Event::Message { level, text });
            },
        );
    }

    b.sync_fn(
        "fail",
        ["message"],
        "Stop the run with this error (the position of the call is shown).",
        |m: &str| -> RhaiResult<()> { Err(to_rhai(Error::failed(m))) },
    );

    let s = b.st.clone();
    b.sync_fn(
        "fail_at_end",
        ["message"],
        "Let the run go on and show its result, then end it as failed (exit code 1) with this message —\n\
         for a report whose every row matters even when some could not be had (`hoist status` with a host down).",
        move |m: &str| s.rt.services.fail_at_end(m),
    );

    let s = b.st.clone();
    b.sync_fn(
        "confirm",
        ["question"],
        "Ask yes/no on the terminal. --yes answers yes; with no terminal and no --yes it is an error.\n\
         A dry run answers yes without asking (it changes nothing) and its plan says so.",
        move |q: &str| -> RhaiResult<bool> {
            let settings = &s.rt.settings;
            if settings.yes {
                return Ok(true);
            }
            let effects = s.rt.services.effects();
            if effects.planning() {
                effects.assume("local", format!("the answer yes to \"{q}\""));
                return Ok(true);
            }
            match (&settings.confirm, settings.interactive) {
                (Some(ask), true) => lift(ask(q)),
                _ => Err(to_rhai(
                    Error::usage(format!(
                        "confirm(\"{q}\") needs an answer but there is no terminal"
                    ))
                    .hint("pass --yes to answer yes"),
                )),
            }
        },
    );

    let s = b.st.clone();
    b.sync_fn(
        "secret",
        ["value"],
        "Mark a value secret: shown as [REDACTED] in every output, plan, log and error.\nIt reaches commands only through opts.env or opts.stdin, never argv.",
        move |v: &str| {
            let secret = Secret::new(v);
            s.rt.services.redactor.register(&secret);
            secret
        },
    );
    let s = b.st.clone();
    b.sync_fn(
        "sudo_password",
        ["password"],
        "From now on, `sudo: true` commands give sudo this password when it asks (for users\n\
         without passwordless sudo), e.g. sudo_password(secret_cmd([\"pass\", \"show\", \"ops/sudo\"])).",
        move |password: Secret| s.rt.services.set_sudo_password(password),
    );
    let s = b.st.clone();
    b.sync_fn(
        "secret_env",
        ["name"],
        "A secret read from a local environment variable (an error when unset).",
        move |name: &str| -> RhaiResult<Secret> {
            let v = std::env::var(name).map_err(|_| {
                to_rhai(Error::usage(format!(
                    "secret_env(): environment variable {name} is not set"
                )))
            })?;
            let secret = Secret::new(v);
            s.rt.services.redactor.register(&secret);
            Ok(secret)
        },
    );
    let s = b.st.clone();
    b.sync_fn(
        "secret_cmd",
        ["argv"],
        "A secret from a password manager: the local command runs without a shell and its stdout\n(trailing newline removed) is the secret: secret_cmd([\"pass\", \"show\", \"lab/registry\"]), [\"op\", \"read\", \"op://vault/item/field\"], [\"sops\", \"-d\", \"secrets.env\"].\nA failure shows the command, exit code and stderr, never the value.",
        move |argv: rhai::Array| -> RhaiResult<Secret> {
            let argv: Vec<String> = argv.into_iter().map(|d| d.to_string()).collect();
            let secret = crate::secret_command::secret_from_command(&argv).map_err(to_rhai)?;
            s.rt.services.redactor.register(&secret);
            Ok(secret)
        },
    );
    let s = b.st.clone();
    b.sync_fn(
        "secret_file",
        ["path"],
        "A secret read from a local file (trailing newline removed).",
        move |path: &str| -> RhaiResult<Secret> {
            let p = super::hosts::resolve_local(&s, path);
            let v = std::fs::read_to_string(&p).map_err(|e| {
                to_rhai(Error::usage(format!("secret_file(): cannot read {p}: {e}")))
            })?;
            let secret = Secret::new(v.trim_end_matches(['\n', '\r']));
            s.rt.services.redactor.register(&secret);
            Ok(secret)
        },
    );
    b.sync_fn(
        "expose",
        ["s"],
        "The secret's real text. Only for passing it on to a primitive that wants a string.",
        |s: &mut Secret| s.expose().to_string(),
    );

    b.sync_fn(
        "render",
        ["template", "vars"],
        "Render minijinja template text with vars (undefined variables are errors).",
        |t: &str, vars: Map| -> RhaiResult<String> {
            let v = convert::to_json(&Dynamic::from_map(vars));
            lift(crate::template::render_str("render()", t, &v))
        },
    );

    let s = b.st.clone();
    b.sync_fn(
        "sleep",
        ["seconds"],
        "Wait (interrupted by Ctrl-C).",
        move |secs: f64| -> RhaiResult<()> { sleep(&s, secs) },
    );
    let s = b.st.clone();
    b.sync_fn(
        "sleep",
        ["seconds"],
        "Wait (interrupted by Ctrl-C).",
        move |secs: i64| -> RhaiResult<()> { sleep(&s, secs as f64) },
    );
}

fn sleep(s: &ScriptState, secs: f64) -> RhaiResult<()> {
    if !(secs >= 0.0 && secs.is_finite()) {
        return usage("sleep(): seconds must be >= 0");
    }
    let cancel = s.rt.services.cancel_token();
    s.rt.block_on(async {
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs_f64(secs)) => Ok(()),
            _ = cancel.cancelled() => Err(to_rhai(Error::cancelled())),
        }
    })
}
