//! Who runs hoist on this machine: recorded in audit lines, locks and release records, and
//! the SSH user when a host names none.

/// The name of the user running hoist.
pub fn current_user() -> String {
    std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| {
            // SAFETY: geteuid has no preconditions.
            let uid = unsafe { libc::geteuid() };
            if uid == 0 {
                "root".into()
            } else {
                uid.to_string()
            }
        })
}
