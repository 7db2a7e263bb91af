//! Rolling batches: how a fan-out over many hosts is cut into batches that run one after
//! another (`on(hosts, #{batch: 2 | "25%", pause: 10, max_fail: 0}, |h| ..)`,
//! `--batch/--max-fail` on the built-in recipes). The hosts of a batch run concurrently; the
//! next batch starts only after the whole batch finished, after `pause` seconds; once more
//! than `max_fail` hosts have failed the roll-out stops and the hosts of the later batches
//! are left untouched. This module is the plain-Rust plan (options, validation, the batches);
//! the script binding runs it.

use std::ops::Range;
use std::time::Duration;

use serde::Deserialize;

use crate::error::{Error, Result};

/// The option map of `on(hosts, opts, body)`, as a script writes it.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolloutOptions {
    /// Hosts per batch: a number (`2`) or a share of the hosts (`"25%"`, rounded up).
    /// Default: every host in one batch.
    #[serde(default)]
    pub batch: Option<BatchValue>,
    /// Seconds to wait between two batches (default 0).
    #[serde(default, deserialize_with = "crate::options::opt_float")]
    pub pause: Option<f64>,
    /// How many hosts may fail before the roll-out stops starting batches (default 0).
    #[serde(default)]
    pub max_fail: Option<i64>,
}

/// `batch` as written: a number, or a string (`"25%"`, or digits).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum BatchValue {
    Number(i64),
    Text(String),
}

/// The size of a batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BatchSize {
    /// Every host at once (no `batch` given).
    All,
    Hosts(usize),
    /// A share of the hosts, 0 < p <= 100.
    Percent(f64),
}

/// A validated roll-out plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Rollout {
    pub batch: BatchSize,
    pub pause: Duration,
    pub max_fail: usize,
}

impl Default for Rollout {
    fn default() -> Self {
        Rollout {
            batch: BatchSize::All,
            pause: Duration::ZERO,
            max_fail: 0,
        }
    }
}

impl RolloutOptions {
    /// Check every value; a bad one is a usage error naming the key and what is allowed.
    pub fn validate(&self) -> Result<Rollout> {
        let batch = match &self.batch {
            None => BatchSize::All,
            Some(v) => parse_batch(v)?,
        };
        let pause = match self.pause {
            None => Duration::ZERO,
            Some(p) if p >= 0.0 && p.is_finite() => Duration::from_secs_f64(p),
            Some(p) => {
                return Err(Error::usage(format!(
                    "bad option for on(): pause must be a number of seconds >= 0, not {p}"
                )));
            }
        };
        let max_fail = match self.max_fail {
            None => 0,
            Some(n) if n >= 0 => n as usize,
            Some(n) => {
                return Err(Error::usage(format!(
                    "bad option for on(): max_fail must be a number of hosts >= 0, not {n}"
                )));
            }
        };
        Ok(Rollout {
            batch,
            pause,
            max_fail,
        })
    }
}

fn parse_batch(v: &BatchValue) -> Result<BatchSize> {
    let bad = |what: &str| {
        Error::usage(format!(
            "bad option for on(): batch must be a number of hosts >= 1 or a percentage in (0%, 100%] such as \"25%\", not {what}"
        ))
    };
    match v {
        BatchValue::Number(n) if *n >= 1 => Ok(BatchSize::Hosts(*n as usize)),
        BatchValue::Number(n) => Err(bad(&n.to_string())),
        BatchValue::Text(t) => {
            let s = t.trim();
            if let Some(p) = s.strip_suffix('%') {
                match p.trim().parse::<f64>() {
                    Ok(p) if p > 0.0 && p <= 100.0 => Ok(BatchSize::Percent(p)),
                    _ => Err(bad(&format!("{t:?}"))),
                }
            } else {
                match s.parse::<i64>() {
                    Ok(n) if n >= 1 => Ok(BatchSize::Hosts(n as usize)),
                    _ => Err(bad(&format!("{t:?}"))),
                }
            }
        }
    }
}

impl Rollout {
    /// How many hosts one batch of `hosts` holds (at least 1; a percentage is rounded up).
    pub fn batch_len(&self, hosts: usize) -> usize {
        let n = match self.batch {
            BatchSize::All => hosts,
            BatchSize::Hosts(n) => n,
            BatchSize::Percent(p) => (hosts as f64 * p / 100.0).ceil() as usize,
        };
        n.clamp(1, hosts.max(1))
    }

    /// The batches of `hosts` hosts, in order: index ranges into the host list.
    pub fn batches(&self, hosts: usize) -> Vec<Range<usize>> {
        let len = self.batch_len(hosts);
        (0..hosts)
            .step_by(len)
            .map(|start| start..(start + len).min(hosts))
            .collect()
    }

    /// Whether `failed` failures stop the roll-out (more than max_fail).
    pub fn stops_at(&self, failed: usize) -> bool {
        failed > self.max_fail
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(
        batch: Option<BatchValue>,
        pause: Option<f64>,
        max_fail: Option<i64>,
    ) -> Result<Rollout> {
        RolloutOptions {
            batch,
            pause,
            max_fail,
        }
        .validate()
    }

    #[test]
    fn batches_by_number_and_percentage() {
        let r = opts(Some(BatchValue::Number(2)), None, None).unwrap();
        assert_eq!(r.batches(5), vec![0..2, 2..4, 4..5]);
        let r = opts(Some(BatchValue::Text("25%".into())), None, None).unwrap();
        assert_eq!(r.batches(4), vec![0..1, 1..2, 2..3, 3..4]);
        // Rounded up: 30% of 4 hosts is 2 per batch.
        let r = opts(Some(BatchValue::Text("30%".into())), None, None).unwrap();
        assert_eq!(r.batches(4), vec![0..2, 2..4]);
        let r = opts(Some(BatchValue::Text("100%".into())), None, None).unwrap();
        assert_eq!(r.batches(3), vec![0..3]);
        let r = opts(Some(BatchValue::Text("3".into())), None, None).unwrap();
        assert_eq!(r.batches(4), vec![0..3, 3..4]);
        assert_eq!(Rollout::default().batches(4), vec![0..4]);
        assert!(Rollout::default().batches(0).is_empty());
        // A batch larger than the hosts is one batch.
        let r = opts(Some(BatchValue::Number(10)), None, None).unwrap();
        assert_eq!(r.batches(3), vec![0..3]);
    }

    #[test]
    fn bad_values_name_the_key() {
        for (b, key) in [
            (BatchValue::Number(0), "batch"),
            (BatchValue::Number(-1), "batch"),
            (BatchValue::Text("150%".into()), "batch"),
            (BatchValue::Text("0%".into()), "batch"),
            (BatchValue::Text("half".into()), "batch"),
        ] {
            let e = opts(Some(b), None, None).unwrap_err();
            assert!(e.message.contains(key), "{}", e.message);
            assert_eq!(e.kind, crate::error::ErrorKind::Usage);
        }
        let e = opts(None, Some(-1.0), None).unwrap_err();
        assert!(e.message.contains("pause"), "{}", e.message);
        let e = opts(None, None, Some(-2)).unwrap_err();
        assert!(e.message.contains("max_fail"), "{}", e.message);
    }

    #[test]
    fn max_fail_stops_past_the_count() {
        let r = opts(None, None, Some(1)).unwrap();
        assert!(!r.stops_at(0) && !r.stops_at(1) && r.stops_at(2));
        assert!(Rollout::default().stops_at(1));
    }
}
