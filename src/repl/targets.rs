//! The hosts named on the command line: host specs (`user@host:port`, `local`) or host
//! groups of the selected environment. All are connected up front, concurrently, so a
//! wrong name or an unreachable host is reported before the first prompt.

use crate::error::{Error, Result};
use crate::host::{Host, HostSpec};
use crate::runtime::Runtime;

/// Each argument as hosts: a group name of the selected environment expands to its hosts;
/// anything else is a host spec. The same host named twice is bound once.
pub fn resolve(rt: &Runtime, args: &[String]) -> Result<Vec<Host>> {
    let mut hosts: Vec<Host> = Vec::new();
    for arg in args {
        let is_group = rt.env.as_ref().is_some_and(|e| e.groups.contains_key(arg));
        let found = if is_group {
            rt.group(Some(arg))?
        } else {
            let spec = HostSpec::parse(arg).map_err(|e| {
                let groups = rt
                    .env
                    .as_ref()
                    .map(|e| e.groups.keys().cloned().collect::<Vec<_>>().join(", "))
                    .unwrap_or_default();
                if groups.is_empty() {
                    e
                } else {
                    e.hint(format!("or a host group of this environment: {groups}"))
                }
            })?;
            vec![rt.host(&spec)]
        };
        for h in found {
            if !hosts.iter().any(|x| x.name() == h.name()) {
                hosts.push(h);
            }
        }
    }
    Ok(hosts)
}

/// Connect every host at once; one error naming each host that failed.
pub fn connect(rt: &Runtime, hosts: &[Host]) -> Result<()> {
    let results = rt.block_on(futures_util::future::join_all(
        hosts.iter().map(|h| h.connect()),
    ));
    let mut failed: Vec<Error> = results.into_iter().filter_map(|r| r.err()).collect();
    match failed.len() {
        0 => Ok(()),
        1 => Err(failed.remove(0)),
        n => Err(Error::failed(format!("cannot connect to {n} hosts")).with_causes(failed)),
    }
}
