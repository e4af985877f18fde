# The audit watch's feed: a Logging sink sends the project's Compute Engine audit entries to a
# Pub/Sub topic, and Alice's token server pulls them from its subscription (roles/pubsub.subscriber on
# that subscription alone; the server does not create it here). The feed only makes detection
# prompt: the server still reads Cloud Logging itself every reconciliation interval, so deleting the
# sink or publishing to the topic cannot make a VM look clean — at worst tampering is seen at the next
# reconciliation instead of at once. Names match tokenserver's defaults (watch.topic, watch.subscription).

resource "google_pubsub_topic" "audit" {
  #checkov:skip=CKV_GCP_83:The topic carries audit-log entries Alice's server also reads from Cloud Logging; Google-managed encryption suffices and a CMEK would add a KMS key Bob must operate.
  project                    = var.project_id
  name                       = "tokendist-audit"
  message_retention_duration = "86400s"
  depends_on                 = [google_project_service.enabled]
}

resource "google_logging_project_sink" "audit" {
  project                = var.project_id
  name                   = "tokendist-audit"
  destination            = "pubsub.googleapis.com/${google_pubsub_topic.audit.id}"
  filter                 = "logName:\"cloudaudit.googleapis.com\" AND protoPayload.serviceName=\"compute.googleapis.com\""
  unique_writer_identity = true
}

resource "google_pubsub_topic_iam_member" "sink_publishes" {
  project = var.project_id
  topic   = google_pubsub_topic.audit.name
  role    = "roles/pubsub.publisher"
  member  = google_logging_project_sink.audit.writer_identity
}

resource "google_pubsub_subscription" "watch" {
  project                    = var.project_id
  name                       = "tokendist-watch"
  topic                      = google_pubsub_topic.audit.id
  ack_deadline_seconds       = 30
  message_retention_duration = "86400s"
  expiration_policy {
    ttl = ""
  }
}

resource "google_pubsub_subscription_iam_member" "alice_pulls" {
  project      = var.project_id
  subscription = google_pubsub_subscription.watch.name
  role         = "roles/pubsub.subscriber"
  member       = "serviceAccount:${var.alice_server_account}"
}
