//! `[watch]` settings: the audit watch per project (Pub/Sub subscription + one reconciliation read
//! per project per interval) and how old its state may be for a release to use it.

use serde::{Deserialize, Serialize};

/// The audit watch's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WatchConfig {
    /// Run the watch. Off: every release reads the audit log directly (as before).
    pub enabled: bool,
    /// Pub/Sub REST root, e.g. `http://127.0.0.1:8085` for the emulator; empty: the
    /// `PUBSUB_EMULATOR_HOST` environment variable, and without it no subscription (the watch then
    /// relies on its reconciliation alone).
    pub pubsub_endpoint: String,
    /// The topic each project's Logging sink publishes to; `{project}` is replaced.
    pub topic: String,
    /// The pull subscription the server creates (if missing) on that topic; `{project}` is replaced.
    /// Replicas share it, and with it the stream of entries.
    pub subscription: String,
    /// Seconds between reconciliations (one `entries:list` per project each time).
    pub reconcile_interval_secs: u64,
    /// A release uses the watch's state only if it was reconciled at most this many seconds ago;
    /// older state falls back to a direct read of the audit log (and, failing that, UNAVAILABLE).
    pub max_age_secs: u64,
    /// How far before its watermark a reconciliation reads again (late-arriving entries), seconds.
    pub overlap_secs: u64,
}

impl Default for WatchConfig {
    fn default() -> Self {
        WatchConfig {
            enabled: false,
            pubsub_endpoint: String::new(),
            topic: "projects/{project}/topics/tokendist-audit".to_owned(),
            subscription: "projects/{project}/subscriptions/tokendist-watch".to_owned(),
            reconcile_interval_secs: 30,
            max_age_secs: 60,
            overlap_secs: 120,
        }
    }
}

impl WatchConfig {
    /// The Pub/Sub endpoint in force, if any.
    pub fn pubsub_endpoint(&self) -> Option<String> {
        if !self.pubsub_endpoint.is_empty() {
            return Some(self.pubsub_endpoint.trim_end_matches('/').to_owned());
        }
        std::env::var("PUBSUB_EMULATOR_HOST")
            .ok()
            .filter(|host| !host.is_empty())
            .map(|host| format!("http://{host}"))
    }

    /// Checks the settings; the message names the setting.
    pub fn validate(&self) -> Result<(), String> {
        if self.reconcile_interval_secs == 0 {
            return Err("watch.reconcile_interval_secs must be at least 1".into());
        }
        if self.max_age_secs <= self.reconcile_interval_secs {
            return Err(format!(
                "watch.max_age_secs ({}) must exceed watch.reconcile_interval_secs ({}), or no release could use the watch",
                self.max_age_secs, self.reconcile_interval_secs
            ));
        }
        for (name, template) in [
            ("watch.topic", &self.topic),
            ("watch.subscription", &self.subscription),
        ] {
            if !template.starts_with("projects/") || template.split('/').count() != 4 {
                return Err(format!(
                    "{name} {template:?} is not projects/PROJECT/<topics|subscriptions>/NAME"
                ));
            }
        }
        Ok(())
    }
}
