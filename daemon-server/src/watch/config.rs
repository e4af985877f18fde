//! `[watch]` settings: the audit watch per project (Pub/Sub subscription + one reconciliation read
//! per project per interval) and how old its state may be for a release to use it.

use serde::{Deserialize, Serialize};

/// Google's Pub/Sub REST root.
pub const DEFAULT_PUBSUB_ENDPOINT: &str = "https://pubsub.googleapis.com";

/// Where the watch's subscription lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PubsubTarget {
    /// No subscription: the watch relies on its reconciliation alone (`pubsub_endpoint = "off"`).
    Off,
    /// The Pub/Sub emulator (`PUBSUB_EMULATOR_HOST`): no credentials, as Google's libraries do.
    Emulator(String),
    /// A Pub/Sub endpoint, called with the `gcp.credentials` in force (Google's by default).
    Endpoint(String),
}

/// The audit watch's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WatchConfig {
    /// Run the watch (default). Off: every release reads the VM's audit history directly, one
    /// paged `entries:list` per release against the project's Logging read quota.
    pub enabled: bool,
    /// Pub/Sub REST root, called with `gcp.credentials`. Empty (default): the emulator named by
    /// `PUBSUB_EMULATOR_HOST` if set, else `https://pubsub.googleapis.com`. `"off"`: no
    /// subscription; the watch relies on its reconciliation alone (entries reach it within
    /// `reconcile_interval_secs` instead of at once).
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
            enabled: true,
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
    /// Where the subscription lives, given the `PUBSUB_EMULATOR_HOST` value (if any).
    pub fn pubsub_target(&self, emulator_host: Option<&str>) -> PubsubTarget {
        let endpoint = self.pubsub_endpoint.trim();
        if endpoint == "off" {
            return PubsubTarget::Off;
        }
        if !endpoint.is_empty() {
            return PubsubTarget::Endpoint(endpoint.trim_end_matches('/').to_owned());
        }
        match emulator_host.map(str::trim).filter(|host| !host.is_empty()) {
            Some(host) => PubsubTarget::Emulator(format!("http://{host}")),
            None => PubsubTarget::Endpoint(DEFAULT_PUBSUB_ENDPOINT.to_owned()),
        }
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
        let endpoint = self.pubsub_endpoint.trim();
        if !(endpoint.is_empty()
            || endpoint == "off"
            || endpoint.starts_with("https://")
            || endpoint.starts_with("http://"))
        {
            return Err(format!(
                "watch.pubsub_endpoint {endpoint:?} is not an http(s):// URL, \"off\" or empty"
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watch_is_on_by_default_and_talks_to_google_unless_an_emulator_is_named() {
        let config = WatchConfig::default();
        assert!(config.enabled);
        assert_eq!(
            config.pubsub_target(None),
            PubsubTarget::Endpoint(DEFAULT_PUBSUB_ENDPOINT.to_owned())
        );
        assert_eq!(
            config.pubsub_target(Some("127.0.0.1:8085")),
            PubsubTarget::Emulator("http://127.0.0.1:8085".to_owned())
        );
        assert_eq!(
            config.pubsub_target(Some(" ")),
            PubsubTarget::Endpoint(DEFAULT_PUBSUB_ENDPOINT.to_owned())
        );
    }

    #[test]
    fn an_explicit_endpoint_or_off_wins_over_the_emulator_variable() {
        let explicit = WatchConfig {
            pubsub_endpoint: "https://pubsub.example.test/".into(),
            ..WatchConfig::default()
        };
        assert_eq!(
            explicit.pubsub_target(Some("127.0.0.1:8085")),
            PubsubTarget::Endpoint("https://pubsub.example.test".to_owned())
        );
        let off = WatchConfig {
            pubsub_endpoint: "off".into(),
            ..WatchConfig::default()
        };
        assert_eq!(off.pubsub_target(Some("127.0.0.1:8085")), PubsubTarget::Off);
    }

    #[test]
    fn a_pubsub_endpoint_that_is_not_a_url_is_refused_naming_the_setting() {
        let config = WatchConfig {
            pubsub_endpoint: "pubsub.googleapis.com".into(),
            ..WatchConfig::default()
        };
        let error = config.validate().unwrap_err();
        assert!(error.contains("watch.pubsub_endpoint"), "{error}");
        assert!(WatchConfig::default().validate().is_ok());
    }
}
