//! Docker through the Engine API (bollard): the local engine, or a host's engine reached
//! through that host's existing SSH connection by forwarding its /var/run/docker.sock to a
//! local unix socket. One concept per file; every method lives on [`Docker`].

mod build;
mod client;
mod containers;
mod context;
pub mod endpoint;
mod exec;
mod images;
mod login;
mod logs;
mod networks;
mod progress;
mod reads;
mod transfer;
mod volumes;

pub use build::BuildOpts;
pub(crate) use client::status_of;
pub use client::{Cache, Docker};
pub use containers::{
    CommandSpec, ContainerInfo, EnvSpec, OneOrMany, PsOpts, RmOpts, RunOpts, StopOpts, parse_port,
};
pub use context::tar_context;
pub use exec::ExecOpts;
pub use images::{ForceOpts, ImageInfo, short_id};
pub use logs::LogsOpts;
pub(crate) use logs::since_unix;
pub use networks::{NetworkInfo, NetworkOpts};
pub use progress::Progress;
pub use reads::{Reads, Writes};
// Image references and registry credentials are the registry's: the engine uses them.
pub use crate::registry::{credentials, reference, reference::ImageRef};
pub use transfer::Sent;
pub use volumes::{VolumeInfo, VolumeOpts};
