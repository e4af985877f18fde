//! A minimal Pub/Sub REST client for the watch's pull subscription: create it if missing
//! (`PUT subscriptions/S`), long-poll `pull`, `acknowledge`. Over `reqwest` (already in the server),
//! against the emulator or any unauthenticated endpoint.

use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

/// Messages asked for per pull.
const MAX_MESSAGES: u32 = 100;

/// One received message: its ack id and decoded data.
#[derive(Debug)]
pub struct Received {
    pub ack_id: String,
    pub data: Vec<u8>,
}

/// Why a Pub/Sub call failed (operator text, never message contents).
#[derive(Debug, thiserror::Error)]
#[error("Pub/Sub {call} failed: {message}")]
pub struct PubsubError {
    pub call: &'static str,
    pub message: String,
}

/// The client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct PubsubClient {
    http: reqwest::Client,
    endpoint: String,
}

impl PubsubClient {
    pub fn new(endpoint: String) -> Self {
        PubsubClient {
            http: reqwest::Client::new(),
            endpoint,
        }
    }

    async fn call(
        &self,
        call: &'static str,
        method: reqwest::Method,
        path: &str,
        body: Value,
        timeout: Duration,
    ) -> Result<(u16, Value), PubsubError> {
        let error = |message: String| PubsubError { call, message };
        let response = self
            .http
            .request(method, format!("{}/v1/{path}", self.endpoint))
            .json(&body)
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| error(e.to_string()))?;
        let status = response.status().as_u16();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        Ok((status, answer))
    }

    /// Creates `subscription` on `topic` unless it exists.
    pub async fn ensure_subscription(
        &self,
        topic: &str,
        subscription: &str,
    ) -> Result<(), PubsubError> {
        let body = json!({ "topic": topic, "ackDeadlineSeconds": 30 });
        let (status, answer) = self
            .call(
                "subscriptions.create",
                reqwest::Method::PUT,
                subscription,
                body,
                Duration::from_secs(30),
            )
            .await?;
        match status {
            200 | 409 => Ok(()),
            _ => Err(PubsubError {
                call: "subscriptions.create",
                message: format!("HTTP {status}: {}", answer["error"]["message"]),
            }),
        }
    }

    /// Waits (up to `wait`) for messages and returns them.
    pub async fn pull(
        &self,
        subscription: &str,
        wait: Duration,
    ) -> Result<Vec<Received>, PubsubError> {
        let body = json!({ "maxMessages": MAX_MESSAGES });
        let path = format!("{subscription}:pull");
        let (status, answer) = match self
            .call(
                "subscriptions.pull",
                reqwest::Method::POST,
                &path,
                body,
                wait,
            )
            .await
        {
            Ok(answer) => answer,
            // A long poll that found nothing ends by our own timeout.
            Err(error) if error.message.contains("timed out") => return Ok(Vec::new()),
            Err(error) => return Err(error),
        };
        if status != 200 {
            return Err(PubsubError {
                call: "subscriptions.pull",
                message: format!("HTTP {status}: {}", answer["error"]["message"]),
            });
        }
        let messages = answer["receivedMessages"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        Ok(messages
            .iter()
            .filter_map(|m| {
                let ack_id = m["ackId"].as_str()?.to_owned();
                let data = base64::engine::general_purpose::STANDARD
                    .decode(m["message"]["data"].as_str().unwrap_or(""))
                    .ok()?;
                Some(Received { ack_id, data })
            })
            .collect())
    }

    /// Acknowledges handled messages.
    pub async fn acknowledge(
        &self,
        subscription: &str,
        ack_ids: Vec<String>,
    ) -> Result<(), PubsubError> {
        if ack_ids.is_empty() {
            return Ok(());
        }
        let path = format!("{subscription}:acknowledge");
        let (status, answer) = self
            .call(
                "subscriptions.acknowledge",
                reqwest::Method::POST,
                &path,
                json!({ "ackIds": ack_ids }),
                Duration::from_secs(30),
            )
            .await?;
        if status == 200 {
            Ok(())
        } else {
            Err(PubsubError {
                call: "subscriptions.acknowledge",
                message: format!("HTTP {status}: {}", answer["error"]["message"]),
            })
        }
    }
}
