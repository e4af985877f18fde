//! Injected faults: per-API error statuses (for N requests or at a rate) and added latency.

use std::collections::BTreeMap;
use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};

/// The simulated APIs a fault can target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    Compute,
    Logging,
    Jwks,
    Metadata,
}

/// What to inject. Without `count` and `rate` the fault applies to every request until cleared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    pub api: Api,
    /// HTTP status to answer with (e.g. 503); `None` = only add latency.
    #[serde(default)]
    pub status: Option<u16>,
    /// Apply to the next `count` requests only.
    #[serde(default)]
    pub count: Option<u32>,
    /// Fail this fraction (0.0..=1.0) of requests.
    #[serde(default)]
    pub rate: Option<f64>,
    /// Latency added before answering, in milliseconds.
    #[serde(default)]
    pub latency_ms: Option<u64>,
}

/// What a handler must do for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FaultAction {
    pub status: Option<u16>,
    pub latency: Duration,
}

/// Active faults, at most one per API (a new one replaces the old).
#[derive(Debug, Default)]
pub(crate) struct Faults {
    active: BTreeMap<Api, (FaultSpec, u32)>,
}

impl Faults {
    pub(crate) fn validate(spec: &FaultSpec) -> Result<(), String> {
        if let Some(status) = spec.status
            && !(400..=599).contains(&status)
        {
            return Err(format!(
                "status {status} is not an HTTP error status (400..=599)"
            ));
        }
        if let Some(rate) = spec.rate
            && !(0.0..=1.0).contains(&rate)
        {
            return Err(format!("rate {rate} must be between 0.0 and 1.0"));
        }
        if spec.status.is_none() && spec.latency_ms.is_none() {
            return Err("a fault needs a status, a latency_ms, or both".to_string());
        }
        Ok(())
    }

    pub(crate) fn inject(&mut self, spec: FaultSpec) {
        let remaining = spec.count.unwrap_or(u32::MAX);
        self.active.insert(spec.api, (spec, remaining));
    }

    pub(crate) fn clear(&mut self, api: Option<Api>) {
        match api {
            Some(api) => {
                self.active.remove(&api);
            }
            None => self.active.clear(),
        }
    }

    /// Decides the fault (if any) for one request to `api`, consuming one from a counted fault.
    pub(crate) fn take(&mut self, api: Api) -> Option<FaultAction> {
        let (spec, remaining) = self.active.get_mut(&api)?;
        let latency = Duration::from_millis(spec.latency_ms.unwrap_or(0));
        let hit = match spec.rate {
            Some(rate) => rand::rng().random_bool(rate),
            None => true,
        };
        let action = FaultAction {
            status: if hit { spec.status } else { None },
            latency,
        };
        if spec.count.is_some() {
            *remaining = remaining.saturating_sub(1);
            if *remaining == 0 {
                self.active.remove(&api);
            }
        }
        Some(action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_fault_applies_to_exactly_n_requests() {
        let mut faults = Faults::default();
        faults.inject(FaultSpec {
            api: Api::Compute,
            status: Some(503),
            count: Some(2),
            rate: None,
            latency_ms: None,
        });
        assert_eq!(faults.take(Api::Logging), None);
        assert_eq!(faults.take(Api::Compute).and_then(|a| a.status), Some(503));
        assert_eq!(faults.take(Api::Compute).and_then(|a| a.status), Some(503));
        assert_eq!(faults.take(Api::Compute), None);
    }
}
