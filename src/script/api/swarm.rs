//! `h.swarm()` (membership) and `h.stack(name, dir, [opts])` (a compose file deployed to a
//! swarm). Argument conversion only; the work is in `crate::swarm`.

use crate::compose::{ComposeOptions, Project};
use crate::docker::Docker;
use crate::host::Host;
use crate::script::bind::Bind;
use crate::script::convert;
use crate::script::errors::lift;
use crate::swarm::{DeployOpts, InitOpts, JoinOpts, LeaveOpts, Stack, StackLogOpts};

/// A host's engine, seen as a swarm member.
#[derive(Clone)]
pub struct Swarm(Docker);

pub fn register(b: &mut Bind) {
    b.property("name", "st", "The stack's name.", |s: &mut Stack| {
        s.name.clone()
    });
    let s = b.st.clone();
    b.method0(
        "swarm",
        &["h"],
        "The host's engine as a swarm member: .init() .join(manager_host) .leave() .nodes() .drain(node) .activate(node).",
        move |h: Host| {
            let s = s.clone();
            async move { s.rt.docker(&h).await.map(Swarm) }
        },
    );
    b.method0_optional_opts(
        "init",
        &["sw"],
        "Make this engine a swarm manager (advertising the address its SSH connection reaches, unless\n\
         advertise_addr says); false if it already is in a swarm.",
        |sw: Swarm, o: InitOpts| async move { sw.0.swarm_init(o.advertise_addr).await },
    );
    let s = b.st.clone();
    b.method1_optional_opts(
        "join",
        &["sw", "manager"],
        "Join the swarm the manager host manages (role \"worker\", default, or \"manager\"); false if already in a swarm.",
        move |sw: Swarm, m: Host, o: JoinOpts| {
            let s = s.clone();
            async move {
                let md = s.rt.docker(&m).await?;
                sw.0.swarm_join(&md, o.role).await
            }
        },
    );
    b.method0_optional_opts(
        "leave",
        &["sw"],
        "Leave the swarm (a manager needs force); false if not in one.",
        |sw: Swarm, o: LeaveOpts| async move { sw.0.swarm_leave(o.force).await },
    );
    b.method0(
        "nodes",
        &["sw"],
        "The swarm's nodes (ask a manager): [#{name, role, state, availability, engine, address, labels, id}].",
        |sw: Swarm| async move { convert::rows(&lift(sw.0.swarm_nodes().await)?) },
    );
    b.method1(
        "drain",
        &["sw", "node"],
        "Drain a node (its tasks move elsewhere); false if it already was.",
        |sw: Swarm, n: String| async move { sw.0.swarm_availability(&n, true).await },
    );
    b.method1(
        "activate",
        &["sw", "node"],
        "Make a drained node active again.",
        |sw: Swarm, n: String| async move { sw.0.swarm_availability(&n, false).await },
    );
    let s = b.st.clone();
    b.method2_optional_opts(
        "stack",
        &["h", "name", "dir"],
        "A stack: the compose project in dir (on this host, a swarm manager) deployed to the swarm through its engine;\n\
         options as h.compose(). .deploy() .ps() .services() .specs() .logs(svc) .rollback(svc) .rm() .rm_service(svc).",
        move |h: Host, name: String, dir: String, o: ComposeOptions| {
            let s = s.clone();
            async move {
                let p = Project::new(&h, &dir, o)?;
                let d = s.rt.docker(&h).await?;
                Stack::new(&name, p, d)
            }
        },
    );
    b.method0_optional_opts(
        "deploy",
        &["st"],
        "Create or update every service (images pinned by digest, registry auth sent), then wait until each runs its new spec;\n\
         a failed update is rolled back by swarm and the error names the service, node and task error. Returns the services' rows.",
        |stk: Stack, o: DeployOpts| async move { convert::rows(&lift(stk.deploy(&o).await)?) },
    );
    b.method0(
        "ps",
        &["st"],
        "The stack's tasks: [#{service, node, desired, state, error, image, id}].",
        |stk: Stack| async move { convert::rows(&lift(stk.ps().await)?) },
    );
    b.method0(
        "services",
        &["st"],
        "The stack's services: [#{name, mode, replicas, image, update}].",
        |stk: Stack| async move { convert::rows(&lift(stk.services().await)?) },
    );
    b.method0(
        "specs",
        &["st"],
        "The Engine API service specs the compose file converts to (nothing changes).",
        |stk: Stack| async move { convert::to_dynamic(&lift(stk.specs().await)?) },
    );
    b.method1_optional_opts(
        "logs",
        &["st", "service"],
        "The service's logs (every task).",
        |stk: Stack, svc: String, o: StackLogOpts| async move { stk.logs(&svc, o.tail).await },
    );
    b.method1(
        "rollback",
        &["st", "service"],
        "Put the service back on its previous spec and wait for it.",
        |stk: Stack, svc: String| async move { stk.rollback(&svc).await },
    );
    b.method0(
        "rm",
        &["st"],
        "Remove the stack: services, network, secrets, configs.",
        |stk: Stack| async move { stk.rm().await },
    );
    b.method1(
        "rm_service",
        &["st", "service"],
        "Remove one service of the stack.",
        |stk: Stack, svc: String| async move { stk.rm_service(&svc).await },
    );
}
