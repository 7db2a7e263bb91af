//! How hoist connects to SSH hosts: the options every master is started with.

use std::path::PathBuf;
use std::time::Duration;

/// How to connect. Host keys are checked strictly unless `accept_new_host_keys` is set.
#[derive(Debug, Clone)]
pub struct SshOptions {
    /// Accept (and remember) the key of a host never seen before; a changed key still fails.
    pub accept_new_host_keys: bool,
    /// An ssh_config file to use instead of ~/.ssh/config (`ssh -F`); `HOIST_SSH_CONFIG`.
    pub config_file: Option<PathBuf>,
    pub connect_timeout: Duration,
    /// How often the connection is probed (ServerAliveInterval; 3 unanswered probes end it):
    /// a host whose packets are silently dropped is named within about 3× this, in every
    /// primitive, even mid-command. `HOIST_SSH_KEEPALIVE` (seconds) sets it.
    pub keepalive: Duration,
}

impl Default for SshOptions {
    fn default() -> Self {
        SshOptions {
            accept_new_host_keys: false,
            config_file: std::env::var_os("HOIST_SSH_CONFIG").map(PathBuf::from),
            connect_timeout: Duration::from_secs(10),
            // The CLI refuses a bad value before a run starts (`ssh_env::check`).
            keepalive: super::ssh_env::count(super::ssh_env::KEEPALIVE)
                .ok()
                .flatten()
                .map_or(Duration::from_secs(2), Duration::from_secs),
        }
    }
}
