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
pub mod registry;
pub mod release;
pub mod run_control;
pub mod stdlib;
pub mod swarm;

/// The names of hoist's own types, as scripts know them (a function whose first parameter
/// is one reads as its method: `h.run()`).
pub const TYPE_NAMES: [&str; 12] = [
    "Host", "Tunnel", "Output", "Error", "Secret", "Docker", "Registry", "Compose", "Swarm",
    "Stack", "Service", "Repo",
];

/// hoist's types by the names scripts use, registered before any function so that every
/// signature derived from Rust types names them that way.
pub fn register_types(engine: &mut rhai::Engine) {
    engine.register_type_with_name::<crate::host::Host>("Host");
    engine.register_type_with_name::<hosts::TunnelHandle>("Tunnel");
    engine.register_type_with_name::<output::ScriptOutput>("Output");
    engine.register_type_with_name::<crate::error::Error>("Error");
    engine.register_type_with_name::<crate::secret::Secret>("Secret");
    engine.register_type_with_name::<crate::docker::Docker>("Docker");
    engine.register_type_with_name::<crate::registry::Registry>("Registry");
    engine.register_type_with_name::<crate::compose::Project>("Compose");
    engine.register_type_with_name::<swarm::Swarm>("Swarm");
    engine.register_type_with_name::<crate::swarm::Stack>("Stack");
    engine.register_type_with_name::<crate::stdlib::systemd::Service>("Service");
    engine.register_type_with_name::<crate::stdlib::git::Repo>("Repo");
}
