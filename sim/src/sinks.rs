//! Cloud Logging sinks (`projects.sinks`): the stored `LogSink`s of each project and the routing of
//! every new log entry to the sinks whose filter it matches. gcpsim routes to Pub/Sub topics only
//! (`pubsub.googleapis.com/projects/P/topics/T`), publishing on the Pub/Sub emulator (see
//! [`crate::publisher`]); any other destination, and any filter the Logging filter subset cannot
//! parse, is refused when the sink is created (never silently matching everything or nothing).

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedSender;

use crate::logfilter::{self, Filter};

/// A routed entry: the topic (`projects/P/topics/T`) and the LogEntry JSON.
#[derive(Debug, Clone)]
pub(crate) struct Routed {
    pub topic: String,
    pub entry: Value,
}

/// One sink as Logging stores it.
#[derive(Debug, Clone)]
pub(crate) struct Sink {
    pub project: String,
    pub name: String,
    pub destination: String,
    /// `projects/P/topics/T`, from `destination`.
    pub topic: String,
    pub filter_text: String,
    pub filter: Filter,
    pub description: String,
    pub disabled: bool,
    pub writer_identity: String,
    pub create_time: DateTime<Utc>,
}

impl Sink {
    /// The `LogSink` JSON (Logging v2 REST shape).
    pub(crate) fn to_json(&self) -> Value {
        let time = self.create_time.to_rfc3339_opts(SecondsFormat::Nanos, true);
        let mut sink = json!({
            "name": self.name,
            "destination": self.destination,
            "writerIdentity": self.writer_identity,
            "createTime": time,
            "updateTime": time,
        });
        if !self.filter_text.is_empty() {
            sink["filter"] = json!(self.filter_text);
        }
        if !self.description.is_empty() {
            sink["description"] = json!(self.description);
        }
        if self.disabled {
            sink["disabled"] = json!(true);
        }
        sink
    }
}

/// Why a sink request was refused (Logging's status and message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SinkError {
    pub code: u16,
    pub status: &'static str,
    pub message: String,
}

impl SinkError {
    pub(crate) fn invalid(message: impl Into<String>) -> SinkError {
        SinkError {
            code: 400,
            status: "INVALID_ARGUMENT",
            message: message.into(),
        }
    }

    pub(crate) fn not_found(project: &str, name: &str) -> SinkError {
        SinkError {
            code: 404,
            status: "NOT_FOUND",
            message: format!("Sink {name} does not exist in projects/{project}"),
        }
    }
}

/// What a `sinks.create` asks for.
#[derive(Debug, Clone, Default)]
pub(crate) struct NewSink {
    pub name: String,
    pub destination: String,
    pub filter: String,
    pub description: String,
    pub disabled: bool,
    pub unique_writer_identity: bool,
}

/// `projects/P/topics/T` from a `pubsub.googleapis.com/projects/P/topics/T` destination.
fn topic_of(destination: &str) -> Result<String, SinkError> {
    let rest = destination
        .strip_prefix("pubsub.googleapis.com/")
        .ok_or_else(|| {
            SinkError::invalid(format!(
                "Destination {destination:?}: gcpsim routes sinks to Pub/Sub topics only \
                 (pubsub.googleapis.com/projects/PROJECT/topics/TOPIC)"
            ))
        })?;
    let parts: Vec<&str> = rest.split('/').collect();
    match parts.as_slice() {
        ["projects", project, "topics", topic] if !project.is_empty() && !topic.is_empty() => {
            Ok(rest.to_owned())
        }
        _ => Err(SinkError::invalid(format!(
            "Destination {destination:?} is not pubsub.googleapis.com/projects/PROJECT/topics/TOPIC"
        ))),
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Every project's sinks, by `(project, name)`, and where routed entries go.
#[derive(Debug, Default)]
pub(crate) struct Sinks {
    sinks: BTreeMap<(String, String), Sink>,
    /// The publisher's queue; `None` when gcpsim runs without a Pub/Sub emulator.
    outbox: Option<UnboundedSender<Routed>>,
}

impl Sinks {
    pub(crate) fn with_outbox(outbox: Option<UnboundedSender<Routed>>) -> Sinks {
        Sinks {
            sinks: BTreeMap::new(),
            outbox,
        }
    }

    pub(crate) fn create(
        &mut self,
        project: &str,
        project_number: &str,
        request: NewSink,
        now: DateTime<Utc>,
    ) -> Result<&Sink, SinkError> {
        if !valid_name(&request.name) {
            return Err(SinkError::invalid(format!(
                "Sink name {:?} is invalid: use up to 100 characters of [A-Za-z0-9_.-]",
                request.name
            )));
        }
        let topic = topic_of(&request.destination)?;
        if self.outbox.is_none() {
            return Err(SinkError {
                code: 400,
                status: "FAILED_PRECONDITION",
                message: "gcpsim was started without a Pub/Sub emulator (--pubsub-emulator or \
                          PUBSUB_EMULATOR_HOST): a Pub/Sub sink could not deliver"
                    .to_owned(),
            });
        }
        let filter = logfilter::parse(&request.filter)
            .map_err(|e| SinkError::invalid(format!("Invalid filter {:?}: {e}", request.filter)))?;
        let key = (project.to_owned(), request.name.clone());
        if self.sinks.contains_key(&key) {
            return Err(SinkError {
                code: 409,
                status: "ALREADY_EXISTS",
                message: format!("Sink {} already exists in projects/{project}", request.name),
            });
        }
        let writer_identity = if request.unique_writer_identity {
            format!(
                "serviceAccount:service-{project_number}@gcp-sa-logging.iam.gserviceaccount.com"
            )
        } else {
            "serviceAccount:cloud-logs@system.gserviceaccount.com".to_owned()
        };
        let sink = Sink {
            project: project.to_owned(),
            name: request.name,
            destination: request.destination,
            topic,
            filter_text: request.filter,
            filter,
            description: request.description,
            disabled: request.disabled,
            writer_identity,
            create_time: now,
        };
        Ok(self.sinks.entry(key).or_insert(sink))
    }

    pub(crate) fn get(&self, project: &str, name: &str) -> Result<&Sink, SinkError> {
        self.sinks
            .get(&(project.to_owned(), name.to_owned()))
            .ok_or_else(|| SinkError::not_found(project, name))
    }

    pub(crate) fn list(&self, project: &str) -> Vec<&Sink> {
        self.sinks
            .values()
            .filter(|sink| sink.project == project)
            .collect()
    }

    pub(crate) fn delete(&mut self, project: &str, name: &str) -> Result<(), SinkError> {
        self.sinks
            .remove(&(project.to_owned(), name.to_owned()))
            .map(|_| ())
            .ok_or_else(|| SinkError::not_found(project, name))
    }

    /// Hands a new entry to every enabled sink of its project whose filter it matches.
    pub(crate) fn route(&self, entry: &Value) {
        let Some(outbox) = &self.outbox else {
            return;
        };
        let log_name = entry["logName"].as_str().unwrap_or("");
        for sink in self.sinks.values() {
            let in_project = log_name.starts_with(&format!("projects/{}/logs/", sink.project));
            if in_project && !sink.disabled && sink.filter.matches(entry) {
                let routed = Routed {
                    topic: sink.topic.clone(),
                    entry: entry.clone(),
                };
                if outbox.send(routed).is_err() {
                    tracing::warn!(sink = %sink.name, "the Pub/Sub publisher has stopped; entry not routed");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(destination: &str, filter: &str) -> NewSink {
        NewSink {
            name: "audit".into(),
            destination: destination.into(),
            filter: filter.into(),
            ..NewSink::default()
        }
    }

    fn sinks() -> (Sinks, tokio::sync::mpsc::UnboundedReceiver<Routed>) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        (Sinks::with_outbox(Some(tx)), rx)
    }

    #[test]
    fn only_pubsub_topics_and_parseable_filters_are_accepted() {
        let (mut sinks, _rx) = sinks();
        let now = Utc::now();
        let bad_destination =
            sinks.create("p", "1", request("storage.googleapis.com/bucket", ""), now);
        assert_eq!(bad_destination.unwrap_err().status, "INVALID_ARGUMENT");
        let bad_filter = sinks.create(
            "p",
            "1",
            request(
                "pubsub.googleapis.com/projects/p/topics/t",
                "severity>=ERROR ~ x",
            ),
            now,
        );
        assert!(bad_filter.unwrap_err().message.contains("Invalid filter"));
        let sink = sinks
            .create(
                "p",
                "1",
                request("pubsub.googleapis.com/projects/p/topics/t", ""),
                now,
            )
            .unwrap();
        assert_eq!(sink.topic, "projects/p/topics/t");
        let again = sinks.create(
            "p",
            "1",
            request("pubsub.googleapis.com/projects/p/topics/t", ""),
            now,
        );
        assert_eq!(again.unwrap_err().status, "ALREADY_EXISTS");
    }

    #[test]
    fn without_an_emulator_a_pubsub_sink_is_refused() {
        let mut sinks = Sinks::default();
        let refused = sinks.create(
            "p",
            "1",
            request("pubsub.googleapis.com/projects/p/topics/t", ""),
            Utc::now(),
        );
        assert_eq!(refused.unwrap_err().status, "FAILED_PRECONDITION");
    }

    #[test]
    fn entries_are_routed_by_project_and_filter() {
        let (mut sinks, mut rx) = sinks();
        sinks
            .create(
                "p",
                "1",
                request(
                    "pubsub.googleapis.com/projects/p/topics/t",
                    "protoPayload.methodName:\"setMetadata\"",
                ),
                Utc::now(),
            )
            .unwrap();
        let entry = |project: &str, method: &str| {
            json!({
                "logName": format!("projects/{project}/logs/cloudaudit.googleapis.com%2Factivity"),
                "protoPayload": { "methodName": method },
            })
        };
        sinks.route(&entry("p", "v1.compute.instances.setMetadata"));
        sinks.route(&entry("p", "v1.compute.instances.start"));
        sinks.route(&entry("q", "v1.compute.instances.setMetadata"));
        let routed = rx.try_recv().unwrap();
        assert_eq!(routed.topic, "projects/p/topics/t");
        assert_eq!(
            routed.entry["protoPayload"]["methodName"],
            "v1.compute.instances.setMetadata"
        );
        assert!(rx.try_recv().is_err());
    }
}
