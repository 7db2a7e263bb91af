//! `h.swarm()` (membership) and `h.stack(name, dir, [opts])` (a compose file deployed to a
//! swarm). Argument conversion only; the work is in `crate::swarm`.

use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, Map};

use crate::compose::{ComposeOptions, Project};
use crate::docker::Docker;
use crate::host::Host;
use crate::script::convert::{self, options};
use crate::script::errors::{RhaiResult, lift};
use crate::script::options::ScriptOptions;
use crate::script::register::func;
use crate::script::state::ScriptState;
use crate::swarm::{DeployOpts, Role, Stack};

/// A host's engine, seen as a swarm member.
#[derive(Clone)]
pub struct Swarm(Docker);

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct InitOpts {
    #[serde(default)]
    advertise_addr: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct JoinOpts {
    #[serde(default)]
    role: Role,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LeaveOpts {
    #[serde(default)]
    force: bool,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LogOpts {
    #[serde(default)]
    tail: Option<u32>,
}

fn rows<T: serde::Serialize>(items: &[T]) -> RhaiResult<Array> {
    items.iter().map(convert::to_dynamic).collect()
}

pub fn register(engine: &mut Engine, st: &Arc<ScriptState>) {
    engine.register_get("name", |s: &mut Stack| s.name.clone());

    let s = st.clone();
    func(
        engine,
        "swarm",
        ["h"],
        "The host's engine as a swarm member: .init([#{advertise_addr}]) .join(manager_host, [#{role}]) .leave([#{force}]) .nodes() .drain(node) .activate(node).",
        move |h: &mut Host| -> RhaiResult<Swarm> {
            Ok(Swarm(lift(s.rt.block_on(s.rt.docker(h)))?))
        },
    );

    let s = st.clone();
    func(
        engine,
        "init",
        ["sw"],
        "Make this engine a swarm manager (advertising the address its SSH connection reaches); false if it already is in a swarm.",
        move |sw: &mut Swarm| lift(s.rt.block_on(sw.0.swarm_init(None))),
    );
    let s = st.clone();
    func(
        engine,
        "init",
        ["sw", "opts"],
        "init() with #{advertise_addr}.",
        move |sw: &mut Swarm, o: Map| -> RhaiResult<bool> {
            let o: InitOpts = options(Some(o), "sw.init()")?;
            lift(s.rt.block_on(sw.0.swarm_init(o.advertise_addr)))
        },
    );
    let s = st.clone();
    func(
        engine,
        "join",
        ["sw", "manager"],
        "Join the swarm the manager host manages, as a worker; false if already in a swarm.",
        move |sw: &mut Swarm, m: Host| -> RhaiResult<bool> {
            let md = lift(s.rt.block_on(s.rt.docker(&m)))?;
            lift(s.rt.block_on(sw.0.swarm_join(&md, Role::Worker)))
        },
    );
    let s = st.clone();
    func(
        engine,
        "join",
        ["sw", "manager", "opts"],
        "join() with #{role: \"worker\"|\"manager\"}.",
        move |sw: &mut Swarm, m: Host, o: Map| -> RhaiResult<bool> {
            let o: JoinOpts = options(Some(o), "sw.join()")?;
            let md = lift(s.rt.block_on(s.rt.docker(&m)))?;
            lift(s.rt.block_on(sw.0.swarm_join(&md, o.role)))
        },
    );
    let s = st.clone();
    func(
        engine,
        "leave",
        ["sw"],
        "Leave the swarm; false if not in one.",
        move |sw: &mut Swarm| lift(s.rt.block_on(sw.0.swarm_leave(false))),
    );
    let s = st.clone();
    func(
        engine,
        "leave",
        ["sw", "opts"],
        "leave() with #{force} (a manager needs it).",
        move |sw: &mut Swarm, o: Map| -> RhaiResult<bool> {
            let o: LeaveOpts = options(Some(o), "sw.leave()")?;
            lift(s.rt.block_on(sw.0.swarm_leave(o.force)))
        },
    );
    let s = st.clone();
    func(
        engine,
        "nodes",
        ["sw"],
        "The swarm's nodes (ask a manager): [#{name, role, state, availability, engine, address, labels, id}].",
        move |sw: &mut Swarm| -> RhaiResult<Array> {
            rows(&lift(s.rt.block_on(sw.0.swarm_nodes()))?)
        },
    );
    let s = st.clone();
    func(
        engine,
        "drain",
        ["sw", "node"],
        "Drain a node (its tasks move elsewhere); false if it already was.",
        move |sw: &mut Swarm, n: &str| lift(s.rt.block_on(sw.0.swarm_availability(n, true))),
    );
    let s = st.clone();
    func(
        engine,
        "activate",
        ["sw", "node"],
        "Make a drained node active again.",
        move |sw: &mut Swarm, n: &str| lift(s.rt.block_on(sw.0.swarm_availability(n, false))),
    );

    let stack_doc = "A stack: the compose project in dir (on this host, a swarm manager) deployed to the swarm through its engine.\nopts as h.compose(): #{files, env_files, profiles, env}. .deploy([#{prune, wait, timeout}]) .ps() .services() .specs() .logs(svc, [#{tail}]) .rollback(svc) .rm() .rm_service(svc).";
    let s = st.clone();
    func(
        engine,
        "stack",
        ["h", "name", "dir"],
        stack_doc,
        move |h: &mut Host, name: &str, dir: &str| -> RhaiResult<Stack> {
            let p = lift(Project::new(h, dir, ComposeOptions::default()))?;
            let d = lift(s.rt.block_on(s.rt.docker(h)))?;
            lift(Stack::new(name, p, d))
        },
    );
    let s = st.clone();
    func(
        engine,
        "stack",
        ["h", "name", "dir", "opts"],
        stack_doc,
        move |h: &mut Host, name: &str, dir: &str, o: Map| -> RhaiResult<Stack> {
            let p = lift(Project::new(
                h,
                dir,
                ComposeOptions::from_map(Some(o), "h.stack()")?,
            ))?;
            let d = lift(s.rt.block_on(s.rt.docker(h)))?;
            lift(Stack::new(name, p, d))
        },
    );
    let deploy_doc = "Create or update every service (images pinned by digest, registry auth sent), then wait until each runs its new spec;\na failed update is rolled back by swarm and the error names the service, node and task error. Returns the services' rows.";
    let s = st.clone();
    func(
        engine,
        "deploy",
        ["st"],
        deploy_doc,
        move |stk: &mut Stack| -> RhaiResult<Array> {
            rows(&lift(s.rt.block_on(stk.deploy(&DeployOpts::default())))?)
        },
    );
    let s = st.clone();
    func(
        engine,
        "deploy",
        ["st", "opts"],
        "deploy() with #{prune, wait, timeout}.",
        move |stk: &mut Stack, o: Map| -> RhaiResult<Array> {
            let o: DeployOpts = options(Some(o), "stack.deploy()")?;
            rows(&lift(s.rt.block_on(stk.deploy(&o)))?)
        },
    );
    let s = st.clone();
    func(
        engine,
        "ps",
        ["st"],
        "The stack's tasks: [#{service, node, desired, state, error, image, id}].",
        move |stk: &mut Stack| -> RhaiResult<Array> { rows(&lift(s.rt.block_on(stk.ps()))?) },
    );
    let s = st.clone();
    func(
        engine,
        "services",
        ["st"],
        "The stack's services: [#{name, mode, replicas, image, update}].",
        move |stk: &mut Stack| -> RhaiResult<Array> { rows(&lift(s.rt.block_on(stk.services()))?) },
    );
    let s = st.clone();
    func(
        engine,
        "specs",
        ["st"],
        "The Engine API service specs the compose file converts to (nothing changes).",
        move |stk: &mut Stack| -> RhaiResult<Dynamic> {
            convert::to_dynamic(&lift(s.rt.block_on(stk.specs()))?)
        },
    );
    let s = st.clone();
    func(
        engine,
        "logs",
        ["st", "service"],
        "The service's logs (every task).",
        move |stk: &mut Stack, svc: &str| lift(s.rt.block_on(stk.logs(svc, None))),
    );
    let s = st.clone();
    func(
        engine,
        "logs",
        ["st", "service", "opts"],
        "logs() with #{tail}.",
        move |stk: &mut Stack, svc: &str, o: Map| -> RhaiResult<String> {
            let o: LogOpts = options(Some(o), "stack.logs()")?;
            lift(s.rt.block_on(stk.logs(svc, o.tail)))
        },
    );
    let s = st.clone();
    func(
        engine,
        "rollback",
        ["st", "service"],
        "Put the service back on its previous spec and wait for it.",
        move |stk: &mut Stack, svc: &str| lift(s.rt.block_on(stk.rollback(svc))),
    );
    let s = st.clone();
    func(
        engine,
        "rm",
        ["st"],
        "Remove the stack: services, network, secrets, configs.",
        move |stk: &mut Stack| lift(s.rt.block_on(stk.rm())),
    );
    let s = st.clone();
    func(
        engine,
        "rm_service",
        ["st", "service"],
        "Remove one service of the stack.",
        move |stk: &mut Stack, svc: &str| lift(s.rt.block_on(stk.rm_service(svc))),
    );
}
