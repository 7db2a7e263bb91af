//! Docker through the Engine API (bollard): the local engine, or a host's engine reached
//! through that host's existing SSH connection by forwarding its /var/run/docker.sock to a
//! local unix socket.

mod client;

pub use client::Docker;
