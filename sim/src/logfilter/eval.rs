//! Evaluates a parsed filter against a LogEntry's JSON.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{Filter, Op};

fn lookup<'a>(entry: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter()
        .try_fold(entry, |node, segment| node.get(segment))
}

fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn as_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn compare(actual: &str, op: Op, expected: &str) -> bool {
    if op == Op::Has {
        return actual.to_lowercase().contains(&expected.to_lowercase());
    }
    let ordering = match (as_time(actual), as_time(expected)) {
        (Some(a), Some(b)) => a.cmp(&b),
        _ => match (actual.parse::<f64>(), expected.parse::<f64>()) {
            (Ok(a), Ok(b)) if op != Op::Eq && op != Op::Ne => a.total_cmp(&b),
            _ => actual.cmp(expected),
        },
    };
    match op {
        Op::Eq => ordering.is_eq(),
        Op::Ne => ordering.is_ne(),
        Op::Lt => ordering.is_lt(),
        Op::Le => ordering.is_le(),
        Op::Gt => ordering.is_gt(),
        Op::Ge => ordering.is_ge(),
        Op::Has => false,
    }
}

impl Filter {
    /// Whether `entry` (a LogEntry as JSON) satisfies the filter. A missing field never matches a
    /// comparison (so `NOT field=x` matches entries without the field).
    pub(crate) fn matches(&self, entry: &Value) -> bool {
        match self {
            Filter::All => true,
            Filter::And(terms) => terms.iter().all(|t| t.matches(entry)),
            Filter::Or(terms) => terms.iter().any(|t| t.matches(entry)),
            Filter::Not(inner) => !inner.matches(entry),
            Filter::Compare { path, op, value } => match lookup(entry, path) {
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(as_text)
                    .any(|actual| compare(&actual, *op, value)),
                Some(found) => as_text(found).is_some_and(|actual| compare(&actual, *op, value)),
                None => *op == Op::Ne,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use serde_json::json;

    fn entry() -> serde_json::Value {
        json!({
            "logName": "projects/bob-project/logs/cloudaudit.googleapis.com%2Factivity",
            "resource": { "type": "gce_instance", "labels": { "instance_id": "4708131932155938716" } },
            "protoPayload": { "@type": "type.googleapis.com/google.cloud.audit.AuditLog", "methodName": "v1.compute.instances.setMetadata" },
            "timestamp": "2026-11-20T10:00:00.123456Z",
        })
    }

    #[test]
    fn timestamps_compare_as_times_not_strings() {
        assert!(
            parse(r#"timestamp>="2026-11-20T10:00:00Z""#)
                .unwrap()
                .matches(&entry())
        );
        assert!(
            !parse(r#"timestamp>"2026-11-20T09:00:00-02:00""#)
                .unwrap()
                .matches(&entry())
        );
        assert!(
            parse(r#"timestamp<"2026-11-20T11:00:00+00:00""#)
                .unwrap()
                .matches(&entry())
        );
    }

    #[test]
    fn equality_on_nested_fields_and_has_on_method_name() {
        let e = entry();
        assert!(
            parse("resource.labels.instance_id=4708131932155938716 resource.type=gce_instance")
                .unwrap()
                .matches(&e)
        );
        assert!(!parse("resource.labels.instance_id=1").unwrap().matches(&e));
        assert!(
            parse("protoPayload.methodName:setMetadata")
                .unwrap()
                .matches(&e)
        );
        assert!(
            parse(r#"protoPayload."@type"="type.googleapis.com/google.cloud.audit.AuditLog""#)
                .unwrap()
                .matches(&e)
        );
        assert!(
            parse("NOT protoPayload.methodName=\"v1.compute.instances.insert\"")
                .unwrap()
                .matches(&e)
        );
        assert!(parse("-resource.type=gce_project").unwrap().matches(&e));
        assert!(parse("resource.type=gce_project OR logName=\"projects/bob-project/logs/cloudaudit.googleapis.com%2Factivity\"").unwrap().matches(&e));
        assert!(!parse("missing.field=x").unwrap().matches(&e));
        assert!(parse("missing.field!=x").unwrap().matches(&e));
    }
}
