//! A minimal Pub/Sub REST client for the watch's pull subscription: create it if missing
//! (`PUT subscriptions/S`), long-poll `pull`, `acknowledge`. Over `reqwest` (already in the server),
//! with Application Default Credentials' bearer token ([`RequestAuth`]) against Google, none
//! against the emulator.

use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};
use tokendist_gcp::RequestAuth;

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
    auth: RequestAuth,
}

impl PubsubClient {
    pub fn new(endpoint: String, auth: RequestAuth) -> Self {
        PubsubClient {
            http: reqwest::Client::new(),
            endpoint,
            auth,
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
        let headers = self
            .auth
            .headers()
            .await
            .map_err(|e| error(e.to_string()))?;
        let response = self
            .http
            .request(method, format!("{}/v1/{path}", self.endpoint))
            .headers(headers)
            .json(&body)
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| error(e.to_string()))?;
        let status = response.status().as_u16();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        Ok((status, answer))
    }

    /// Creates `subscription` on `topic` unless it exists (or the server may not create it: then
    /// someone else made it, and a pull says whether it may be read).
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
            // Bob made the subscription and granted only roles/pubsub.subscriber on it (his
            // Terraform does): creating is not allowed, pulling is.
            403 => {
                tracing::info!(
                    subscription,
                    "not allowed to create the watch's subscription; pulling it as it is"
                );
                Ok(())
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers one HTTP request with `200 {}` and returns the request's head (lower-cased).
    async fn one_request_server() -> (String, impl std::future::Future<Output = String>) {
        let (address, request) = tokendist_testkit::raw_http::serve_one_request(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"
                .to_vec(),
        )
        .await;
        let head = async move { request.await.unwrap().to_lowercase() };
        (format!("http://{address}"), head)
    }

    #[tokio::test]
    async fn google_credentials_send_a_bearer_token_and_the_emulator_none() {
        // A service-account key signs its own JWT: no token endpoint is called.
        let key = tokendist_testkit::service_account::key_json();
        let credentials = google_cloud_auth::credentials::service_account::Builder::new(key)
            .build()
            .unwrap();

        let (endpoint, server) = one_request_server().await;
        let client = PubsubClient::new(endpoint, RequestAuth::with_credentials(credentials));
        client
            .ensure_subscription("projects/p/topics/t", "projects/p/subscriptions/s")
            .await
            .unwrap();
        let head = server.await;
        assert!(
            head.starts_with("put /v1/projects/p/subscriptions/s "),
            "{head}"
        );
        assert!(head.contains("\r\nauthorization: bearer ey"), "{head}");

        let (endpoint, server) = one_request_server().await;
        let client = PubsubClient::new(endpoint, RequestAuth::anonymous());
        client
            .ensure_subscription("projects/p/topics/t", "projects/p/subscriptions/s")
            .await
            .unwrap();
        let head = server.await;
        assert!(!head.contains("authorization:"), "{head}");
    }
}
