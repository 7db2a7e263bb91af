//! `p.ps()`, `p.logs()`, `p.exec()` and `p.down()` of a compose project that hoist did not
//! start and whose files it is not shown (the project is opened at a directory that does not
//! exist): everything is found through the Engine API by the labels compose puts on what it
//! creates. On a compose v2 server (host1) and a v1 one (host2), whose labels differ in
//! details (container names, one-off names); a scaled service, a stopped one, a one-off
//! container, a custom and an external network, a named, an anonymous and no external
//! volume. Every check of a host's state reads that host.

mod support;

use hoist::compose::{ComposeOptions, DownOptions, ExecOptions, LogsOptions, Project};
use hoist::host::HostSpec;
use support::fleet::{FleetHost, OnDrop, fleet};

/// The anonymous volumes (at `/anon`) of the project's `web` containers on the host.
fn anonymous_volumes(h: &FleetHost, project: &str) -> Vec<String> {
    h.sh_ok(&format!(
        "docker inspect -f '{{{{range .Mounts}}}}{{{{if eq .Destination \"/anon\"}}}}{{{{.Name}}}}{{{{end}}}}{{{{end}}}}' \
         $(docker ps -aq --filter label=com.docker.compose.project={project} --filter label=com.docker.compose.service=web)"
    ))
    .lines()
    .map(str::to_string)
    .collect()
}

/// The lines of `logs` that came from the container shown as `who` (`web-1`) and carry `needle`.
fn from<'a>(logs: &'a str, who: &str, needle: &str) -> Vec<&'a str> {
    logs.lines()
        .filter(|l| {
            l.split_once(" | ")
                .is_some_and(|(prefix, text)| prefix.trim() == who && text.contains(needle))
        })
        .collect()
}

#[test]
fn a_project_started_by_hand_is_read_exec_d_into_and_taken_down_from_its_labels_alone() {
    let f = fleet();
    let _up = f.hosts_up();
    f.login_hosts();
    let id = std::process::id();
    let image = f.page_image(&format!("d2-lbl{id}:1"), "labels");
    let (rt, _) = f.runtime();
    for fh in [f.host(1), f.host(2)] {
        let name = format!("d2-lbl{id}-{}", fh.n);
        let dir = format!("/tmp/{name}");
        let cli = fh.compose_cli();
        let _cleanup = OnDrop(|| {
            fh.sh(&format!(
                "cd {dir} 2>/dev/null && {cli} -p {name} down -v --remove-orphans; \
                 docker network rm {name}-outside; rm -rf {dir}"
            ));
        });
        let compose = format!(
            "services:\n\
             \x20 web:\n    image: {image}\n\
             \x20   command: [\"sh\", \"-c\", \"trap 'exit 0' TERM; i=0; while :; do i=$$((i+1)); echo web tick $$i; sleep 0.2; done\"]\n\
             \x20   volumes: [\"data:/data\", \"/anon\"]\n\
             \x20 worker:\n    image: {image}\n    depends_on: [web]\n\
             \x20   command: [\"sh\", \"-c\", \"trap 'exit 0' TERM; echo worker ready; while :; do sleep 0.2; done\"]\n\
             \x20   networks: [default, back, outside]\n\
             \x20 idle:\n    image: {image}\n    command: [\"echo\", \"idle done\"]\n\
             networks:\n  back: {{}}\n  outside:\n    external: true\n    name: {name}-outside\n\
             volumes:\n  data: {{}}\n"
        );
        fh.sh_ok(&format!(
            "set -e; mkdir -p {dir} && cd {dir} && printf %s {c} > docker-compose.yml && \
             docker network create {name}-outside >/dev/null && \
             {cli} -p {name} up -d --scale web=2 2>&1 && \
             {cli} -p {name} run -d --no-deps worker sh -c 'trap \"exit 0\" TERM; while :; do sleep 0.2; done' 2>&1 && \
             for i in $(seq 50); do docker ps -a --filter label=com.docker.compose.project={name} \
               --filter status=exited | grep -q idle && break; sleep 0.2; done",
            c = hoist::command::quote(&compose)
        ));
        let all = fh.project_containers(&name);
        assert_eq!(all.lines().count(), 5, "{}: {all}", fh.name);

        let h = rt.host(&HostSpec::parse(&fh.spec()).unwrap());
        // Opened where there is no file at all: the name is all it takes.
        let open = |project: &str| {
            Project::new(
                &h,
                "/nonexistent/d2",
                ComposeOptions {
                    project: Some(project.to_string()),
                    ..ComposeOptions::default()
                },
            )
            .unwrap()
        };
        let p = open(&name);

        // ps: the services' containers (not the one-off), the stopped one too.
        let ps = rt.block_on(p.ps()).unwrap();
        let services: Vec<(&str, String)> = ps
            .iter()
            .map(|c| (c.service.as_str(), c.state.to_string()))
            .collect();
        assert_eq!(
            services,
            [
                ("idle", "exited".to_string()),
                ("web", "running".to_string()),
                ("web", "running".to_string()),
                ("worker", "running".to_string())
            ],
            "{}",
            fh.name
        );

        // logs: every container's last lines, each prefixed by its service and number.
        let logs = rt
            .block_on(p.logs(&LogsOptions {
                tail: Some(2),
                ..LogsOptions::default()
            }))
            .unwrap();
        for who in ["web-1", "web-2"] {
            assert_eq!(
                from(&logs, who, "web tick").len(),
                2,
                "{}:\n{logs}",
                fh.name
            );
        }
        assert_eq!(from(&logs, "worker-1", "worker ready").len(), 1, "{logs}");
        assert_eq!(from(&logs, "idle-1", "idle done").len(), 1, "{logs}");
        assert_eq!(logs.lines().count(), 6, "{}:\n{logs}", fh.name);
        let web = rt
            .block_on(p.logs(&LogsOptions {
                service: Some("web".into()),
                tail: Some(1),
                timestamps: true,
                ..LogsOptions::default()
            }))
            .unwrap();
        assert_eq!(web.lines().count(), 2, "{web}");
        assert!(
            web.lines()
                .all(|l| l.contains(" | 20") && l.contains("web tick")),
            "with timestamps:\n{web}"
        );
        let e = rt
            .block_on(p.logs(&LogsOptions {
                service: Some("wbe".into()),
                ..LogsOptions::default()
            }))
            .unwrap_err();
        assert!(
            e.message.contains("no service `wbe`") && e.message.contains("idle, web, worker"),
            "{}",
            e.message
        );

        // exec: argv with env, workdir and user; the exit code comes back.
        let out = rt
            .block_on(p.exec(
                "web",
                &[
                    "sh".into(),
                    "-c".into(),
                    "echo $GREETING in $(pwd) as $(id -u); exit 3".into(),
                ],
                &ExecOptions {
                    env: [("GREETING".to_string(), "hi there".to_string())].into(),
                    workdir: Some("/bin".into()),
                    user: Some("65534".into()),
                    check: Some(false),
                },
            ))
            .unwrap();
        assert_eq!(
            (out.code, out.stdout.as_str()),
            (3, "hi there in /bin as 65534\n"),
            "{}",
            fh.name
        );
        let e = rt
            .block_on(p.exec("web", &["false".into()], &ExecOptions::default()))
            .unwrap_err();
        assert_eq!(e.exit_code, Some(1), "{}", e.render());
        assert_eq!(e.host.as_deref(), Some(fh.name.as_str()));
        for (service, needle) in [
            ("idle", "service `idle` of compose project"),
            ("wbe", "no service `wbe`"),
        ] {
            let e = rt
                .block_on(p.exec(service, &["true".into()], &ExecOptions::default()))
                .unwrap_err();
            assert!(e.message.contains(needle), "{service}: {}", e.message);
        }
        let idle = rt
            .block_on(p.exec("idle", &["true".into()], &ExecOptions::default()))
            .unwrap_err();
        assert!(idle.message.contains("not running"), "{}", idle.message);

        // A project with no container here: the error says so and names the ones that are.
        let none = open(&format!("{name}-none"));
        let e = rt
            .block_on(none.exec("web", &["true".into()], &ExecOptions::default()))
            .unwrap_err();
        assert!(
            e.message
                .contains(&format!("no containers of compose project {name}-none"))
                && e.message.contains(&name),
            "{}",
            e.message
        );

        // A dry run of down plans it and changes nothing.
        let plan_rt = f.dry_runtime();
        let ph = plan_rt.host(&HostSpec::parse(&fh.spec()).unwrap());
        let planned = Project::new(
            &ph,
            "/nonexistent/d2",
            ComposeOptions {
                project: Some(name.clone()),
                ..ComposeOptions::default()
            },
        )
        .unwrap();
        plan_rt
            .block_on(planned.down(&DownOptions {
                volumes: true,
                ..DownOptions::default()
            }))
            .unwrap();
        let plan = plan_rt.services.effects().plan();
        let changes: Vec<String> = plan.changes.iter().map(|c| c.change.summary()).collect();
        assert_eq!(
            changes,
            [format!("down compose project {name} and its volumes")],
            "{}",
            fh.name
        );
        assert_eq!(
            fh.project_containers(&name),
            all,
            "{}: the dry run",
            fh.name
        );
        let notes = &plan.changes[0].notes;
        assert!(
            notes
                .iter()
                // The one-off: `NAME-worker-run-ID` (v2), `NAME_worker_run_ID` (v1).
                .any(|n| n.starts_with("containers: ")
                    && (n.contains("worker-run-") || n.contains("worker_run_")))
                && notes.contains(&format!("volumes: {name}_data")),
            "{notes:?}"
        );
        // A project that only the plan starts (its `up` planned above): exec and down are
        // planned too, logs are empty, instead of "no containers".
        let fresh = Project::new(
            &ph,
            &dir,
            ComposeOptions {
                project: Some(format!("{name}-fresh")),
                ..ComposeOptions::default()
            },
        )
        .unwrap();
        plan_rt
            .block_on(fresh.up(&hoist::compose::UpOptions::default()))
            .unwrap();
        let out = plan_rt
            .block_on(fresh.exec("web", &["true".into()], &ExecOptions::default()))
            .unwrap();
        assert!(out.planned);
        assert_eq!(
            plan_rt
                .block_on(fresh.logs(&LogsOptions::default()))
                .unwrap(),
            ""
        );
        plan_rt
            .block_on(fresh.down(&DownOptions::default()))
            .unwrap();
        let planned: Vec<String> = plan_rt
            .services
            .effects()
            .plan()
            .changes
            .iter()
            .skip(2)
            .map(|c| c.change.summary())
            .collect();
        assert_eq!(
            planned,
            [
                format!("exec in service web of compose project {name}-fresh: true"),
                format!("down compose project {name}-fresh")
            ],
            "{}",
            fh.name
        );
        assert_eq!(fh.project_containers(&format!("{name}-fresh")), "");

        // down: every container (the one-off too) and the project's networks; not the
        // external network, not the volumes (named or anonymous, as with compose).
        let anon = anonymous_volumes(fh, &name);
        assert_eq!(anon.len(), 2, "{}: web-1's and web-2's /anon", fh.name);
        rt.block_on(p.down(&DownOptions::default())).unwrap();
        assert_eq!(fh.project_containers(&name), "", "{}", fh.name);
        for net in ["default", "back"] {
            assert!(
                !fh.has_docker("network", &format!("{name}_{net}")),
                "{} {net}",
                fh.name
            );
        }
        assert!(
            fh.has_docker("network", &format!("{name}-outside")),
            "{}",
            fh.name
        );
        for v in anon.iter().chain([&format!("{name}_data")]) {
            assert!(fh.has_docker("volume", v), "{}: {v}", fh.name);
        }
        fh.sh_ok(&format!("docker volume rm {}", anon.join(" ")));
        // Again: nothing left is no error.
        rt.block_on(p.down(&DownOptions::default())).unwrap();
        // Up again; down with volumes: its named volume and the containers' anonymous ones go.
        fh.sh_ok(&format!(
            "cd {dir} && {cli} -p {name} up -d --scale web=2 2>&1"
        ));
        let anon = anonymous_volumes(fh, &name);
        rt.block_on(p.down(&DownOptions {
            volumes: true,
            ..DownOptions::default()
        }))
        .unwrap();
        for v in anon.iter().chain([&format!("{name}_data")]) {
            assert!(!fh.has_docker("volume", v), "{}: {v}", fh.name);
        }
    }
}
