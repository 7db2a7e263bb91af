//! Test support: real components started for the tests.
//!
//! `sshd()` starts Debian's openssh-server once per test binary on a free port, listening on
//! 127.0.0.1 … 127.0.0.N (several "hosts"), with throwaway host and client keys, a
//! known_hosts file and an ssh_config that hoist is pointed at. Missing components fail the
//! test with a message saying how to get them; nothing is skipped.

#![allow(dead_code)]

pub mod bench;
pub mod book;
pub mod caddy;
pub mod debs;
pub mod fleet;
pub mod follow;
pub mod images;
pub mod load;
pub mod machine;
pub mod output;
pub mod plan;
pub mod proxy;
pub mod registry;
pub mod release_app;
pub mod rusage;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use hoist::Runtime;
use hoist::host::SshOptions;
use hoist::report::Collect;

/// How many loopback addresses the test sshd listens on, unless [`want_hosts`] asked for more.
pub const HOSTS: usize = 40;

static WANTED_HOSTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(HOSTS);

/// Ask for `n` loopback hosts (127.0.0.1 … 127.0.0.n, at most 254) before the first [`sshd`]
/// call: the fan-out benchmark goes to 100.
#[allow(dead_code)]
pub fn want_hosts(n: usize) {
    WANTED_HOSTS.store(n.clamp(1, 254), std::sync::atomic::Ordering::SeqCst);
}

/// sshd listens on at most 16 addresses, so the hosts are spread over several instances.
const PER_SSHD: usize = 16;

pub struct Sshd {
    pub dir: PathBuf,
    /// Port of host 1 (127.0.0.1 … 127.0.0.16); see [`Sshd::port_of`].
    pub port: u16,
    ports: Vec<u16>,
    /// ssh_config for hoist (HOIST_SSH_CONFIG / SshOptions.config_file).
    pub config: PathBuf,
    pub known_hosts: PathBuf,
    pub client_key: PathBuf,
    children: std::sync::Mutex<Vec<Child>>,
}

impl Sshd {
    pub fn port_of(&self, n: usize) -> u16 {
        self.ports[(n - 1) / PER_SSHD]
    }
    /// `root@127.0.0.N:PORT` (n from 1).
    pub fn spec(&self, n: usize) -> String {
        format!("root@127.0.0.{n}:{}", self.port_of(n))
    }
    pub fn spec_user(&self, user: &str, n: usize) -> String {
        format!("{user}@127.0.0.{n}:{}", self.port_of(n))
    }
    pub fn ssh_options(&self) -> SshOptions {
        SshOptions {
            config_file: Some(self.config.clone()),
            ..SshOptions::default()
        }
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        if let Ok(mut cs) = self.children.lock() {
            for c in cs.iter_mut() {
                let _ = c.kill();
            }
        }
    }
}

/// The path of a program the tests need, or a failure saying which package has it.
pub fn need_bin(bin: &str, package: &str) -> PathBuf {
    for dir in ["/usr/sbin", "/usr/bin", "/usr/local/bin", "/sbin", "/bin"] {
        let p = Path::new(dir).join(bin);
        if p.exists() {
            return p;
        }
    }
    panic!(
        "{bin} is missing: install it with `apt-get install -y {package}` (scripts/test does this)"
    );
}

fn run_ok(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Is a process whose command line matches `pattern` (`pgrep -f`) running on this machine
/// (where the test sshd's "remote" commands run too)?
pub fn running(pattern: &str) -> bool {
    Command::new(need_bin("pgrep", "procps"))
        .args(["-f", pattern])
        .output()
        .map(|o| o.status.success())
        .unwrap_or_else(|e| panic!("cannot run pgrep: {e}"))
}

/// Wait (up to 20 s) until a process matching `pattern` runs; a test that cancels a command
/// must first see it running, or its "it is gone" check proves nothing.
pub fn wait_running(pattern: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !running(pattern) {
        assert!(Instant::now() < deadline, "`{pattern}` never started");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Free port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A user without sudo rights, for the "sudo needs a password" test.
pub const NOSUDO_USER: &str = "hoist-nosudo";

fn ensure_user(name: &str) {
    let exists = Command::new("id")
        .arg(name)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !exists {
        run_ok(Command::new(need_bin("useradd", "passwd")).args(["-m", "-s", "/bin/sh", name]));
    }
    // Password "*": no password works, but the account is not locked (sshd refuses locked ones).
    run_ok(Command::new(need_bin("usermod", "passwd")).args(["-p", "*", name]));
}

/// Start a server that dies with the test process. PR_SET_PDEATHSIG fires when the spawning
/// *thread* exits, so the spawn happens on a thread that lives as long as the process.
pub fn spawn_tied_to_test_process(mut c: Command) -> Child {
    use std::os::unix::process::CommandExt;
    use std::sync::mpsc;
    type Job = (Command, mpsc::Sender<std::io::Result<Child>>);
    static SPAWNER: OnceLock<std::sync::Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    let tx = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::spawn(move || {
            for (mut c, reply) in rx {
                let _ = reply.send(c.spawn());
            }
        });
        std::sync::Mutex::new(tx)
    });
    // SAFETY: prctl is async-signal-safe; it runs between fork and exec.
    unsafe {
        c.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
    let (rtx, rrx) = mpsc::channel();
    tx.lock().unwrap().send((c, rtx)).unwrap();
    rrx.recv()
        .unwrap()
        .unwrap_or_else(|e| panic!("cannot start server: {e}"))
}

/// The shared test sshd (started on first use).
pub fn sshd() -> &'static Sshd {
    static SSHD: OnceLock<Sshd> = OnceLock::new();
    SSHD.get_or_init(start_sshd)
}

fn start_sshd() -> Sshd {
    let sshd_bin = need_bin("sshd", "openssh-server");
    let keygen = need_bin("ssh-keygen", "openssh-client");
    ensure_user(NOSUDO_USER);
    let dir = tempfile::Builder::new()
        .prefix("hoist-sshd-")
        .tempdir()
        .unwrap()
        .keep();
    let host_key = dir.join("host_ed25519");
    let client_key = dir.join("client_ed25519");
    run_ok(
        Command::new(&keygen)
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&host_key),
    );
    run_ok(
        Command::new(&keygen)
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&client_key),
    );
    let auth = dir.join("authorized_keys");
    std::fs::copy(client_key.with_extension("pub"), &auth).unwrap();
    std::fs::create_dir_all("/run/sshd").unwrap();
    let pubkey = std::fs::read_to_string(host_key.with_extension("pub")).unwrap();
    let pubkey: Vec<&str> = pubkey.split_whitespace().take(2).collect();
    let mut known = String::new();
    let mut ports = Vec::new();
    let mut children = Vec::new();
    let hosts = WANTED_HOSTS.load(std::sync::atomic::Ordering::SeqCst);
    for (i, chunk) in (1..=hosts).collect::<Vec<_>>().chunks(PER_SSHD).enumerate() {
        let port = free_port();
        ports.push(port);
        let mut cfg = format!(
            "Port {port}\nHostKey {hk}\nAuthorizedKeysFile {auth}\nStrictModes no\nUsePAM no\nPermitRootLogin yes\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nPidFile {dir}/sshd{i}.pid\nMaxSessions 200\n\
             MaxStartups 200:30:400\nLogLevel ERROR\nAllowTcpForwarding yes\nAllowStreamLocalForwarding yes\n\
             Subsystem sftp internal-sftp\n",
            hk = host_key.display(),
            auth = auth.display(),
            dir = dir.display()
        );
        for n in chunk {
            cfg.push_str(&format!("ListenAddress 127.0.0.{n}\n"));
            known.push_str(&format!(
                "[127.0.0.{n}]:{port} {} {}\n",
                pubkey[0], pubkey[1]
            ));
        }
        let cfg_path = dir.join(format!("sshd_config{i}"));
        std::fs::write(&cfg_path, cfg).unwrap();
        let log = std::fs::File::create(dir.join(format!("sshd{i}.log"))).unwrap();
        let mut cmd = Command::new(&sshd_bin);
        cmd.arg("-D")
            .arg("-e")
            .arg("-f")
            .arg(&cfg_path)
            .stdout(Stdio::null())
            .stderr(log);
        children.push(spawn_tied_to_test_process(cmd));
    }
    let known_hosts = dir.join("known_hosts");
    std::fs::write(&known_hosts, known).unwrap();
    let config = dir.join("ssh_config");
    std::fs::write(
        &config,
        format!(
            "Host *\n  IdentityFile {key}\n  IdentitiesOnly yes\n  UserKnownHostsFile {kh}\n  GlobalKnownHostsFile /dev/null\n  BatchMode yes\n  LogLevel ERROR\n",
            key = client_key.display(),
            kh = known_hosts.display()
        ),
    )
    .unwrap();
    // Wait until every address accepts connections.
    let deadline = Instant::now() + Duration::from_secs(15);
    for n in 1..=hosts {
        loop {
            let port = ports[(n - 1) / PER_SSHD];
            if std::net::TcpStream::connect((format!("127.0.0.{n}").as_str(), port)).is_ok() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "sshd did not start listening on 127.0.0.{n}:{port} (see its messages above)"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    Sshd {
        dir,
        port: ports[0],
        ports,
        config,
        known_hosts,
        client_key,
        children: std::sync::Mutex::new(children),
    }
}

/// A runtime wired to the test sshd, collecting events, with an audit log in a temp dir.
pub fn runtime() -> (Arc<Runtime>, Arc<Collect>) {
    runtime_with(|b| b)
}

pub fn runtime_with(
    f: impl FnOnce(hoist::RuntimeBuilder) -> hoist::RuntimeBuilder,
) -> (Arc<Runtime>, Arc<Collect>) {
    let s = sshd();
    let events = Arc::new(Collect::default());
    let settings = hoist::Settings {
        ssh: s.ssh_options(),
        ..hoist::Settings::default()
    };
    let audit = tempfile::tempdir().unwrap().keep().join("audit.jsonl");
    let b = Runtime::builder()
        .reporter(events.clone())
        .settings(settings)
        .inventory(hoist::inventory::Inventory::default())
        .audit_log(audit);
    (f(b).build().unwrap(), events)
}

/// The hoist binary, with the test ssh config.
pub fn hoist_cmd() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hoist"));
    c.env("HOIST_SSH_CONFIG", &sshd().config)
        .env("NO_COLOR", "1");
    c
}

/// Run a script through the library; returns its value or error.
pub fn run_script(rt: &Arc<Runtime>, text: &str) -> hoist::Result<serde_json::Value> {
    let script = hoist::script::Script {
        name: "test.rhai".into(),
        text: text.into(),
        base_dir: std::env::current_dir().unwrap(),
    };
    hoist::run_script(rt, &script, &rt.vars)
}
pub mod busybox_image;
pub mod tmux;
