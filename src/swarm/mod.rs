//! Docker Swarm through the Engine API (runbooks 001 and 004 run on an orchestrator): swarm
//! membership, and stacks — what `docker stack deploy` does client-side, done on hoist's own
//! compose model: one service spec per compose service ([`spec`], pure and tested without an
//! engine), overlay network, images pinned by digest with registry auth sent to the engine,
//! create or update, wait until the tasks run the new spec or report the rollback.

pub mod membership;
pub mod spec;
pub mod stack;

pub use membership::{InitOpts, JoinOpts, LeaveOpts, NodeRow, Role};
pub use stack::{DeployOpts, ServiceRow, Stack, StackLogOpts, TaskRow};

/// The label docker's own `stack deploy` puts on everything of a stack.
pub const NAMESPACE_LABEL: &str = "com.docker.stack.namespace";
