//! The everyday helpers recipes lean on, written once on top of `Host`: systemd services,
//! git checkouts and HTTP health checks (API.md "Services, git, health").

pub mod git;
pub mod health;
pub mod systemd;
