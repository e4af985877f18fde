//! Delivers routed log entries to Pub/Sub, as Cloud Logging's sinks do: each entry is one message
//! whose `data` is the LogEntry JSON and whose `logging.googleapis.com/timestamp` attribute is the
//! entry's timestamp, published with `topics.publish` (REST) on the Pub/Sub emulator, in the order
//! the entries were written. A failed publish is retried a few times and then dropped with an error
//! in gcpsim's log (Logging reports sink errors out of band as well; it never blocks the writer).

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::task::JoinHandle;

use crate::sinks::Routed;

/// Attempts per message before it is dropped.
const ATTEMPTS: u32 = 8;

/// Starts the publisher for the emulator at `host` (`HOST:PORT`, as `PUBSUB_EMULATOR_HOST`).
pub(crate) fn start(host: String, mut queue: UnboundedReceiver<Routed>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let client = reqwest::Client::new();
        while let Some(routed) = queue.recv().await {
            publish(&client, &host, &routed).await;
        }
    })
}

async fn publish(client: &reqwest::Client, host: &str, routed: &Routed) {
    let url = format!("http://{host}/v1/{}:publish", routed.topic);
    let timestamp = routed.entry["timestamp"].as_str().unwrap_or_default();
    let body = json!({ "messages": [{
        "data": STANDARD.encode(routed.entry.to_string()),
        "attributes": { "logging.googleapis.com/timestamp": timestamp },
    }]});
    let mut last_error = String::new();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(100 << attempt.min(5))).await;
        }
        match client.post(&url).json(&body).send().await {
            Ok(response) if response.status().is_success() => {
                tracing::debug!(topic = %routed.topic, "published a log entry");
                return;
            }
            Ok(response) => {
                let status = response.status();
                let text = response.text().await.unwrap_or_default();
                last_error = format!("HTTP {status}: {text}");
            }
            Err(error) => last_error = error.to_string(),
        }
    }
    tracing::error!(topic = %routed.topic, error = %last_error, "could not publish a log entry to the sink's topic; dropped");
}
