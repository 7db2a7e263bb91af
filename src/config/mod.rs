//! Host configuration as desired state (runbooks 002 and 003: packages, users and keys, cron,
//! lines in files, file state). Each primitive is "facts + desired → commands": a pure core
//! that plans the commands from what a read-only probe found, tested without a host; the probe
//! and the apply run on any [`Host`](crate::host::Host); only what differs is changed, and the
//! call reports whether anything changed.

pub mod cron;
pub mod file_state;
pub mod keys;
pub mod lines;
pub mod packages;
pub mod users;

/// `state` of a primitive that is either there or not.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Presence {
    #[default]
    Present,
    Absent,
}
