//! Starting the one OpenSSH ControlMaster per host that every command, file transfer and tunnel
//! of a run goes through. Started here rather than by the `openssh` crate's builder for two
//! reasons that crate does not let us choose:
//!
//! - **It must not outlive hoist.** `ControlPersist` is a few seconds, not forever: the master
//!   lives while hoist holds a channel through it (the host keeps one shell open), so when hoist
//!   ends — cleanly, by a signal, or by `kill -9` — the master follows within
//!   [`LINGER`] instead of staying logged in for ever.
//! - **It must not carry secrets.** A daemonized ssh inherits its parent's environment, which
//!   holds registry passwords and `secret_env` values; `/proc/PID/environ` shows them to anyone
//!   who may read it. The master gets only the variables ssh itself uses
//!   ([`PASSED_ENV`], plus any named in `HOIST_SSH_ENV`).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use openssh::Session;

use super::spec::HostSpec;
use super::ssh_options::SshOptions;
use crate::error::{Error, Result};

/// How long a master stays after its last channel closed.
pub const LINGER: Duration = Duration::from_secs(3);

/// The environment a master keeps: what ssh, its agent, askpass helpers and Kerberos read.
const PASSED_ENV: &[&str] = &[
    "HOME",
    "USER",
    "LOGNAME",
    "PATH",
    "SHELL",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TERM",
    "TMPDIR",
    "XDG_RUNTIME_DIR",
    "SSH_AUTH_SOCK",
    "SSH_ASKPASS",
    "SSH_ASKPASS_REQUIRE",
    "SSH_SK_PROVIDER",
    "DISPLAY",
    "XAUTHORITY",
    "KRB5CCNAME",
];

/// SSH handshakes in flight at once, over the whole run (`HOIST_SSH_HANDSHAKES`): a fan-out to
/// a hundred hosts connects them concurrently, but not all at once — a burst of key exchanges
/// only makes every one of them slower on a busy controller, and a bastion's sshd drops
/// connections beyond its `MaxStartups`.
fn handshakes() -> &'static tokio::sync::Semaphore {
    static HANDSHAKES: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    HANDSHAKES.get_or_init(|| {
        // The CLI refuses a bad value before a run starts (`ssh_env::check`).
        let n = super::ssh_env::count(super::ssh_env::HANDSHAKES)
            .ok()
            .flatten()
            .map_or(32, |n| {
                n.min(tokio::sync::Semaphore::MAX_PERMITS as u64) as usize
            });
        tokio::sync::Semaphore::new(n)
    })
}

/// Start a master for `spec` and return the session that speaks to it over its socket.
pub async fn launch(spec: &HostSpec, opts: &SshOptions) -> Result<Session> {
    let _turn = handshakes()
        .acquire()
        .await
        .map_err(|e| Error::wrap("cannot wait for a connection slot", e))?;
    let dir = control_dir()?;
    let log = dir.path().join("log");
    let mut ssh = tokio::process::Command::new(ssh_program());
    ssh.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .env_clear()
        .envs(passed_env())
        .arg("-E")
        .arg(&log)
        .arg("-S")
        .arg(dir.path().join("master"))
        .args(["-M", "-f", "-N"]);
    for o in options(opts) {
        ssh.arg("-o").arg(o);
    }
    if let Some(p) = spec.port {
        ssh.arg("-p").arg(p.to_string());
    }
    if let Some(u) = &spec.user {
        ssh.arg("-l").arg(u);
    }
    if let Some(k) = &spec.key {
        ssh.args(["-o", "IdentitiesOnly=yes", "-i"])
            .arg(expand_home(k));
    }
    if let Some(cfg) = &opts.config_file {
        ssh.arg("-F").arg(cfg);
    }
    if let Some(j) = &spec.jump {
        ssh.arg("-J").arg(j);
    }
    // `--` so a host named like an option can never be read as one.
    ssh.arg("--").arg(&spec.host);
    // ssh forks into the background once the connection is up (`-f`): its exit status is
    // the connection's outcome.
    let status = ssh
        .status()
        .await
        .map_err(|e| Error::wrap("cannot start ssh (is the OpenSSH client installed?)", e))?;
    if !status.success() {
        let said = std::fs::read_to_string(&log).unwrap_or_default();
        return Err(connect_error(spec, said.trim()));
    }
    Ok(Session::new_native_mux(dir))
}

/// The `ssh` program, found on hoist's PATH once. Started by its full path, hoist spawns it
/// without copying its own address space (`posix_spawn`): with PATH in the master's cleared
/// environment and a bare name, the standard library falls back to `fork`, which copies the
/// page tables of a process running a thread per host — the biggest cost hoist itself had in a
/// hundred-host fan-out.
pub fn ssh_program() -> &'static std::path::Path {
    static SSH: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    SSH.get_or_init(|| which::which("ssh").unwrap_or_else(|_| "ssh".into()))
}

/// A private control directory: in `$TMPDIR` when it is set (the user chose it), else in the
/// user's runtime dir or /dev/shm (memory) before /tmp, so the directory, socket and log each
/// host needs cost no inode allocation on a disk file system.
fn control_dir() -> Result<tempfile::TempDir> {
    let make = |parent: &std::path::Path| {
        tempfile::Builder::new()
            .prefix(".ssh-connection")
            .tempdir_in(parent)
    };
    let chosen = std::env::var_os("TMPDIR").filter(|d| !d.is_empty());
    let memory = if chosen.is_some() {
        None
    } else {
        dirs::runtime_dir()
            .into_iter()
            .chain([std::path::PathBuf::from("/dev/shm")])
            .find_map(|parent| make(&parent).ok())
    };
    memory
        .map_or_else(|| make(&std::env::temp_dir()), Ok)
        .map_err(|e| Error::wrap("cannot create the ssh control directory", e))
}

fn options(opts: &SshOptions) -> Vec<String> {
    vec![
        format!("ControlPersist={}s", LINGER.as_secs()),
        "BatchMode=yes".to_string(),
        format!(
            "StrictHostKeyChecking={}",
            if opts.accept_new_host_keys {
                "accept-new"
            } else {
                "yes"
            }
        ),
        format!("ConnectTimeout={}", opts.connect_timeout.as_secs().max(1)),
        format!("ServerAliveInterval={}", opts.keepalive.as_secs().max(1)),
        "ServerAliveCountMax=3".to_string(),
    ]
}

/// The part of hoist's environment a master may see.
fn passed_env() -> Vec<(String, std::ffi::OsString)> {
    let extra = std::env::var("HOIST_SSH_ENV").unwrap_or_default();
    let wanted = |k: &str| {
        PASSED_ENV.contains(&k)
            || k.starts_with("LC_")
            || extra.split(',').any(|e| !e.is_empty() && e.trim() == k)
    };
    std::env::vars_os()
        .filter_map(|(k, v)| {
            let k = k.into_string().ok()?;
            wanted(&k).then_some((k, v))
        })
        .collect()
}

fn expand_home(p: &str) -> PathBuf {
    match (p.strip_prefix("~/"), dirs::home_dir()) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(p),
    }
}

/// Turn what ssh said (its log) into an error that tells the user what to do.
fn connect_error(spec: &HostSpec, detail: &str) -> Error {
    let all = detail;
    let name = spec.display_name();
    let mut err = Error::failed(format!("cannot connect to {name}"))
        .host(name.clone())
        .stderr(detail);
    if all.contains("Host key verification failed")
        || all.contains("No ED25519 host key is known")
        || all.contains("host key")
    {
        err.message = format!("cannot connect to {name}: host key verification failed");
        err = err.hint(
            "the host's key is unknown or changed. Check it (ssh-keyscan) and add it to known_hosts, \
             or pass --accept-new-host-keys to trust a host seen for the first time",
        );
    } else if let Some(why) = unreachable_reason(all) {
        err.message = format!("cannot connect to {name}: {why}");
        err = err
            .hint("is the address right and sshd running? (`ssh` with the same spec tells more)");
    } else if all.contains("Permission denied") {
        err.message = format!("cannot connect to {name}: authentication failed");
        err =
            err.hint("load a key into ssh-agent or name one with ssh(#{key: ...}) / ~/.ssh/config");
    }
    err
}

/// Why ssh could not reach a host, in words, from what it said (None: it said something else).
fn unreachable_reason(said: &str) -> Option<&'static str> {
    [
        (
            "Could not resolve",
            "its name does not resolve (not in DNS, /etc/hosts or the ssh config)",
        ),
        (
            "Connection refused",
            "connection refused (no sshd on that port?)",
        ),
        ("timed out", "connection timed out"),
        ("No route", "no route to host"),
    ]
    .into_iter()
    .find(|(text, _)| said.contains(text))
    .map(|(_, why)| why)
}
