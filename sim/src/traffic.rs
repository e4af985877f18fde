//! The API listener's traffic: how many requests each Google method received (what the load tool
//! reads as "Google API calls"), and a latency injected per method, per API or for every method
//! (the latency a real Google adds, e.g. 50 ms on every call). Admin requests are neither counted
//! nor delayed. Methods are named as Google names them: `compute.instances.get`,
//! `compute.disks.get`, `logging.entries.list`, `oauth2.certs` ([`method_id`]).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use axum::http::Method;
use serde::{Deserialize, Serialize};

/// The injected latency of every method (the `*` key of [`TrafficStats::latency_ms`]).
pub const EVERY_METHOD: &str = "*";

/// Requests per method since start, and the latencies in force.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrafficStats {
    /// Requests received per method id (every API-listener request except admin ones).
    pub requests: BTreeMap<String, u64>,
    /// Injected latency in milliseconds by key: a method id, an API (`compute`, `logging`,
    /// `oauth2`) or `*`.
    pub latency_ms: BTreeMap<String, u64>,
}

/// A latency to inject: `key` is a method id, an API name or `*`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencySpec {
    /// `compute.instances.get`, `compute`, `logging.entries.list`, `*`, ...
    #[serde(default = "every_method")]
    pub method: String,
    /// Added before the answer; 0 removes the key's latency.
    pub latency_ms: u64,
}

fn every_method() -> String {
    EVERY_METHOD.to_string()
}

impl LatencySpec {
    /// Parses `METHOD=DURATION` (`compute.instances.get=50ms`, `*=0.2s`) or a bare `DURATION`
    /// (every method). Durations: `ms`, `s`, or a plain number of milliseconds.
    pub fn parse(text: &str) -> Result<LatencySpec, String> {
        let (method, duration) = match text.split_once('=') {
            Some((method, duration)) => (method.trim().to_string(), duration),
            None => (every_method(), text),
        };
        if method.is_empty() {
            return Err(format!("{text:?}: no method before '='"));
        }
        Ok(LatencySpec {
            method,
            latency_ms: parse_millis(duration.trim()).ok_or_else(|| {
                format!("{text:?}: {duration:?} is not a duration like 50ms or 1s")
            })?,
        })
    }
}

/// `50ms`, `1s`, `0.5s`, `50` (milliseconds).
pub fn parse_millis(text: &str) -> Option<u64> {
    let (number, scale) = if let Some(ms) = text.strip_suffix("ms") {
        (ms, 1.0)
    } else if let Some(s) = text.strip_suffix('s') {
        (s, 1000.0)
    } else {
        (text, 1.0)
    };
    let value: f64 = number.trim().parse().ok()?;
    if !value.is_finite() || value < 0.0 {
        return None;
    }
    Some((value * scale).round() as u64)
}

/// The counters and latencies, behind their own lock (never the world's).
#[derive(Debug, Default)]
pub(crate) struct Traffic {
    stats: Mutex<TrafficStats>,
}

impl Traffic {
    fn stats(&self) -> std::sync::MutexGuard<'_, TrafficStats> {
        self.stats
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts one request to `method` and returns the latency to inject before answering it.
    pub(crate) fn record(&self, method: &str) -> Duration {
        let mut stats = self.stats();
        *stats.requests.entry(method.to_string()).or_default() += 1;
        let api = method.split('.').next().unwrap_or(method);
        let latency = [method, api, EVERY_METHOD]
            .iter()
            .find_map(|key| stats.latency_ms.get(*key))
            .copied()
            .unwrap_or(0);
        Duration::from_millis(latency)
    }

    pub(crate) fn set_latency(&self, spec: &LatencySpec) {
        let mut stats = self.stats();
        if spec.latency_ms == 0 {
            stats.latency_ms.remove(&spec.method);
        } else {
            stats
                .latency_ms
                .insert(spec.method.clone(), spec.latency_ms);
        }
    }

    pub(crate) fn snapshot(&self) -> TrafficStats {
        self.stats().clone()
    }
}

/// Google's id of the method an API-listener request calls (`None` for admin requests).
pub(crate) fn method_id(method: &Method, path: &str) -> Option<String> {
    if path.starts_with("/admin/") {
        return None;
    }
    if path == "/v2/entries:list" {
        return Some("logging.entries.list".into());
    }
    if path == "/oauth2/v3/certs" {
        return Some("oauth2.certs".into());
    }
    if let Some(rest) = path.strip_prefix("/v2/projects/") {
        let sink = rest.split('/').nth(2).is_some_and(|name| !name.is_empty());
        let action = match (method.as_str(), sink) {
            ("POST", false) => "create",
            ("GET", false) => "list",
            ("GET", true) => "get",
            ("DELETE", true) => "delete",
            _ => "other",
        };
        return Some(format!("logging.sinks.{action}"));
    }
    let Some(rest) = path.strip_prefix("/compute/v1/") else {
        return Some("other".into());
    };
    let segments: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let get = method == Method::GET;
    let id = match segments.as_slice() {
        ["projects", _] if get => "compute.projects.get".to_string(),
        ["projects", _, action] => format!("compute.projects.{action}"),
        ["projects", _, "zones", _, collection, _] if get => format!("compute.{collection}.get"),
        ["projects", _, "global", collection, _] if get => format!("compute.{collection}.get"),
        ["projects", _, "zones", _, collection, _, action] => {
            format!("compute.{collection}.{action}")
        }
        ["projects", _, "global", collection, _, action] => {
            format!("compute.{collection}.{action}")
        }
        _ => "compute.other".to_string(),
    };
    Some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_named_as_google_names_them() {
        let cases = [
            (
                "/compute/v1/projects/p/zones/z/instances/vm",
                "compute.instances.get",
            ),
            (
                "/compute/v1/projects/p/zones/z/instances/vm/getShieldedInstanceIdentity",
                "compute.instances.getShieldedInstanceIdentity",
            ),
            (
                "/compute/v1/projects/p/zones/z/disks/d",
                "compute.disks.get",
            ),
            ("/compute/v1/projects/p", "compute.projects.get"),
            ("/v2/entries:list", "logging.entries.list"),
            ("/oauth2/v3/certs", "oauth2.certs"),
            ("/v2/projects/p/sinks", "logging.sinks.list"),
            ("/v2/projects/p/sinks/s", "logging.sinks.get"),
        ];
        for (path, id) in cases {
            assert_eq!(method_id(&Method::GET, path).as_deref(), Some(id), "{path}");
        }
        assert_eq!(method_id(&Method::POST, "/admin/v1/faults"), None);
    }

    #[test]
    fn the_most_specific_latency_wins_and_every_request_is_counted() {
        let traffic = Traffic::default();
        for spec in ["*=5ms", "compute=20ms", "compute.disks.get=0.05s"] {
            traffic.set_latency(&LatencySpec::parse(spec).unwrap());
        }
        assert_eq!(
            traffic.record("compute.disks.get"),
            Duration::from_millis(50)
        );
        assert_eq!(
            traffic.record("compute.instances.get"),
            Duration::from_millis(20)
        );
        assert_eq!(
            traffic.record("logging.entries.list"),
            Duration::from_millis(5)
        );
        assert_eq!(traffic.snapshot().requests.values().sum::<u64>(), 3);
        traffic.set_latency(&LatencySpec::parse("*=0").unwrap());
        assert_eq!(traffic.record("logging.entries.list"), Duration::ZERO);
    }

    #[test]
    fn bad_latencies_are_refused() {
        for bad in ["=5ms", "compute=fast", "compute=-1ms", "x=NaNs"] {
            assert!(LatencySpec::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(LatencySpec::parse("50ms").unwrap().method, EVERY_METHOD);
    }
}
