//! One module per primitive; each only converts arguments and results.

pub mod cleanup;
pub mod compose;
pub mod config;
pub mod docker;
pub mod error_value;
pub mod fanout;
pub mod host_edits;
pub mod hosts;
pub mod mount;
pub mod output;
pub mod paths;
pub mod proxy;
pub mod registry;
pub mod release;
pub mod run_control;
pub mod stdlib;
pub mod swarm;

/// hoist's types with the names scripts know them by, written once: registered before any
/// function (so every signature derived from Rust types names them so) and listed in
/// [`TYPE_NAMES`] (a function whose first parameter is one reads as its method: `h.run()`).
macro_rules! script_types {
    ($($t:ty => $name:literal),* $(,)?) => {
        pub const TYPE_NAMES: &[&str] = &[$($name),*];

        pub fn register_types(engine: &mut rhai::Engine) {
            $(engine.register_type_with_name::<$t>($name);)*
        }
    };
}

script_types! {
    crate::host::Host => "Host",
    hosts::TunnelHandle => "Tunnel",
    crate::script::script_output::ScriptOutput => "Output",
    crate::error::Error => "Error",
    crate::secret::Secret => "Secret",
    crate::docker::Docker => "Docker",
    crate::registry::Registry => "Registry",
    crate::compose::Project => "Compose",
    swarm::Swarm => "Swarm",
    crate::swarm::Stack => "Stack",
    crate::stdlib::systemd::Service => "Service",
    crate::stdlib::git::Repo => "Repo",
    crate::release::Release => "Release",
    crate::release::Candidate => "Candidate",
    crate::proxy::Proxy => "Proxy",
}
