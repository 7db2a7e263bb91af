//! What the REPL session knows for completion: its variables, functions, groups and hosts.

/// What the session knows right now (refreshed after every input).
#[derive(Debug, Default, Clone)]
pub struct Known {
    /// (name, type, map keys if the value is a map)
    pub vars: Vec<(String, String, Vec<String>)>,
    /// Script functions defined in the session.
    pub functions: Vec<String>,
    /// Inventory group names and host specs of the selected environment.
    pub groups: Vec<String>,
    pub specs: Vec<String>,
}
