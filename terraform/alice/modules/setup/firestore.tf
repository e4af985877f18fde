# The server's store: a native-mode Firestore database (no App Engine application) and the composite
# index listing one instance's events needs on {prefix}events (instance_id ASC, id DESC).

resource "google_firestore_database" "tokendist" {
  project                           = var.project_id
  name                              = "(default)"
  location_id                       = var.firestore_location
  type                              = "FIRESTORE_NATIVE"
  concurrency_mode                  = "OPTIMISTIC"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  delete_protection_state           = "DELETE_PROTECTION_ENABLED"
  depends_on                        = [google_project_service.enabled]
}

resource "google_firestore_index" "events_by_instance" {
  project     = var.project_id
  database    = google_firestore_database.tokendist.name
  collection  = "${var.collection_prefix}events"
  query_scope = "COLLECTION"
  fields {
    field_path = "instance_id"
    order      = "ASCENDING"
  }
  fields {
    field_path = "id"
    order      = "DESCENDING"
  }
}
