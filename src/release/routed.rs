//! What a routed release carries (see routing.rs for how traffic moves): how the app is
//! routed on its host, which service of the candidate takes the traffic, and the pre-flight
//! kept serving during the cutover. Apart from the steps that use them, so the release
//! engine can hold them without reaching into the routing steps.

use std::time::Duration;

use super::guard::Guard;
use crate::proxy::{Proxy, Tls};

/// How an app is routed on a host.
#[derive(Clone, Debug)]
pub struct Routing {
    pub proxy: Proxy,
    pub domains: Vec<String>,
    pub path: Option<String>,
    pub tls: Tls,
    /// The container port (0: the service's `expose`, its ports' target, its image's EXPOSE,
    /// else 80).
    pub port: u16,
    pub drain: Duration,
}

/// The routed service of a candidate and its container port.
#[derive(Clone, Debug, PartialEq)]
pub struct Routed {
    pub service: String,
    pub port: u16,
}

/// The pre-flight kept running to take the traffic during the cutover: its guard (which
/// removes it, and puts the route back to the app's container when the run is lost) and
/// its upstream.
#[derive(Clone, Debug)]
pub struct KeptPreflight {
    pub guard: Guard,
    pub upstream: String,
}
