//! Plan fidelity: what each script function does under `--dry-run`, declared next to the
//! reference so `hoist doc` and the book show it (Ansible's modules declare check-mode support
//! the same way). The declarations are held true by tests/dry_run_snapshot.rs, which snapshots
//! a fleet host around a dry run of the primitives and the built-in recipes, and by
//! tests/dry_run.rs; a function with no declaration is shown as such, and tests/book.rs fails
//! on the generated page while one is missing.

/// How a function behaves in a dry run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fidelity {
    /// Touches no host or engine (a handle, a value, the run's own control).
    Inert,
    /// Only reads: runs in a dry run too and answers what is there now.
    Reads,
    /// A change: a dry run plans it exactly (a file as its diff), having read what is there,
    /// and makes nothing.
    Exact,
    /// A change planned and not made whose result only the change could give: what the dry
    /// run returns instead (described).
    StandIn(&'static str),
    /// Planned on an assumption the plan lists under "assumed".
    Assumes(&'static str),
    /// A result of a command: a stand-in when the dry run only planned the command; `marked`:
    /// reading it marks the plan uncertain from that line.
    CommandResult { marked: bool },
}

impl Fidelity {
    /// The sentence `hoist doc` shows after "Dry run:".
    pub fn text(self) -> String {
        match self {
            Fidelity::Inert => "changes nothing, the same as in a real run.".into(),
            Fidelity::Reads => "only reads, so it runs in a dry run too.".into(),
            Fidelity::Exact => {
                "exact — the plan lists the change it would make (a file's as its diff); nothing is changed.".into()
            }
            Fidelity::StandIn(what) => format!(
                "planned, not made — {what}."
            ),
            Fidelity::Assumes(what) => {
                format!("planned, not made — assuming {what} (the plan lists it under \"assumed\").")
            }
            Fidelity::CommandResult { marked: true } => "of a command the dry run only planned, a stand-in (code 0, no output); the plan marks where the script reads it.".into(),
            Fidelity::CommandResult { marked: false } => "of a command the dry run only planned, a stand-in (code 0, no output).".into(),
        }
    }
}

const COMMAND: Fidelity = Fidelity::StandIn(
    "unless opts.probe says it only reads, the command does not run: its output is a stand-in (code 0, no output), and the plan marks where the script reads it",
);

/// A command in a container: there is no probe option.
const CONTAINER_COMMAND: Fidelity = Fidelity::StandIn(
    "the command does not run: its output is a stand-in (code 0, no output), and the plan marks where the script reads it",
);

/// The declaration for a property `name` of `this_type` (read without a call).
pub fn of_property(this_type: Option<&str>, name: &str) -> Fidelity {
    match (this_type, name) {
        (Some("Output"), "code" | "ok" | "stdout" | "stderr" | "stdout_blob") => {
            Fidelity::CommandResult { marked: true }
        }
        _ => Fidelity::Inert,
    }
}

/// The declaration for `name` (a method of `this_type`, or a free function).
pub fn of(this_type: Option<&str>, name: &str) -> Option<Fidelity> {
    use Fidelity::*;
    Some(match (this_type.unwrap_or(""), name) {
        // How a value prints, and joining secrets: values only (a planned command's output
        // prints its stand-in).
        ("Output", "to_string" | "to_debug") => CommandResult { marked: false },
        (_, "to_string" | "to_debug" | "+") => Inert,
        // Free functions: the run's own control and values.
        (
            "",
            "always" | "app_dir" | "assume" | "docker" | "dry_run" | "fail" | "fail_at_end"
            | "hosts" | "image_tag" | "info" | "local" | "now" | "on" | "on_failure"
            | "project_dir" | "registry" | "render" | "run_info" | "script_dir" | "secret"
            | "secret_env" | "secret_file" | "sha256" | "sleep" | "ssh" | "step" | "utc_stamp"
            | "warn",
        ) => Inert,
        ("", "secret_cmd") => Reads,
        ("", "wait_http") => Reads,
        ("", "confirm") => Assumes("the answer yes"),
        ("", "with_lock") => Exact,

        // Host: files and configuration are exact; commands are planned unless probes.
        (
            "Host",
            "append" | "authorized_key" | "block_in_file" | "cron" | "download" | "edit_file"
            | "file" | "group" | "line_in_file" | "mkdir" | "mount" | "packages" | "remove"
            | "set_env" | "template" | "umount" | "upload" | "user" | "write",
        ) => Exact,
        (
            "Host",
            "capture" | "check_traversable" | "env_file" | "exists" | "facts" | "is_mounted"
            | "live_release" | "mount_plan" | "mounts" | "read" | "release_records" | "try_capture",
        ) => Reads,
        ("Host", "run" | "interactive") => COMMAND,
        ("Host", "test") => StandIn(
            "unless opts.probe says it only reads, the command does not run: the answer is true, and the plan lists that under \"assumed\"",
        ),
        (
            "Host",
            "compose" | "docker" | "git" | "on" | "proxy" | "release" | "stack" | "swarm"
            | "systemd",
        ) => Inert,
        ("Host", "forward" | "with_tunnel") => Inert,

        // Docker engine.
        (
            "Docker",
            "ensure_network" | "ensure_volume" | "login" | "pull" | "push" | "remove_network"
            | "remove_volume" | "restart" | "rm" | "rmi" | "send" | "start" | "stop" | "tag",
        ) => Exact,
        ("Docker", "build") => StandIn("the image is not built and the id returned is empty"),
        ("Docker", "run") => StandIn("the container is not created and the id returned is empty"),
        ("Docker", "exec") => CONTAINER_COMMAND,
        (
            "Docker",
            "image_exists" | "images" | "inspect" | "ip" | "logs" | "networks" | "ps" | "volumes"
            | "wait_healthy",
        ) => Reads,

        // Compose projects.
        (
            "Compose",
            "down" | "pull" | "restart" | "rm" | "start" | "stop" | "write" | "write_template",
        ) => Exact,
        ("Compose", "up") => Assumes(
            "the services start (and with wait, become healthy); each service's create / recreate / unchanged is in the plan",
        ),
        ("Compose", "exec" | "run") => CONTAINER_COMMAND,
        ("Compose", "config" | "logs" | "ps" | "render" | "require_containers" | "tool") => Reads,

        // Registries.
        ("Registry", "delete" | "login") => Exact,
        ("Registry", "digest" | "exists" | "tags") => Reads,
        ("Registry", "image") => Inert,

        // Releases: each step plans what it would do and says what it takes for granted.
        ("Release", "prepare_back" | "records" | "diff" | "pinned_services") => Reads,
        ("Release", "prepare") => Assumes(
            "an image the run would first pull or send is pinned by the digest it gets then",
        ),
        ("Release", "confirm") => Exact,
        ("Release", "preflight") => Assumes("the new release passes its checks"),
        ("Release", "cutover") => Assumes("the new release passes its checks once live"),
        ("Release", "watch") => Assumes("the live release stays healthy"),

        // Swarm stacks and membership.
        ("Stack", "deploy") => Assumes(
            "each service converges to its new spec (images not yet pushed are named by tag)",
        ),
        ("Stack", "rm" | "rm_service") => Exact,
        ("Stack", "rollback") => Assumes("the service converges to its previous spec"),
        ("Stack", "logs" | "ps" | "services" | "specs") => Reads,
        ("Swarm", "activate" | "drain" | "init" | "join" | "leave") => Exact,
        ("Swarm", "nodes") => Reads,

        // The front proxy: route changes are shown as a diff of Caddy's config.
        (
            "Proxy",
            "ensure" | "live" | "maintenance" | "reboot" | "route" | "switch" | "unroute",
        ) => Exact,
        ("Proxy", "config" | "logs" | "routes" | "status") => Reads,

        // Git checkouts.
        // A planned pull fetches nothing; its answer (HEAD would move) comes from the remote.
        ("Repo", "clone" | "checkout" | "pull") => Exact,
        ("Repo", "dirty" | "head") => Reads,

        // systemd units.
        (
            "Service",
            "disable" | "enable" | "install" | "mask" | "restart" | "start" | "stop" | "unmask",
        ) => Exact,
        ("Service", "active" | "journal") => Reads,

        ("Output", "to_map") => CommandResult { marked: false },
        ("Secret", "expose" | "sudo_password") => Inert,
        ("Tunnel", "close") => Inert,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_and_free_functions_are_told_apart() {
        assert_eq!(of(Some("Host"), "write"), Some(Fidelity::Exact));
        assert_eq!(of(Some("Host"), "read"), Some(Fidelity::Reads));
        assert_eq!(of(None, "render"), Some(Fidelity::Inert));
        // `run` of Host is a command; a free `run` does not exist.
        assert_eq!(of(None, "run"), None);
        // A host command can be a probe; a command in a container cannot.
        assert!(of(Some("Host"), "run").unwrap().text().contains("probe"));
        assert!(!of(Some("Docker"), "exec").unwrap().text().contains("probe"));
        // What a planned command printed is a stand-in; a host's name is a plain value.
        assert_eq!(
            of_property(Some("Output"), "stdout"),
            Fidelity::CommandResult { marked: true }
        );
        assert_eq!(of_property(Some("Host"), "name"), Fidelity::Inert);
        assert!(
            of(None, "confirm")
                .unwrap()
                .text()
                .contains("assuming the answer yes")
        );
    }
}
