# What Bob grants Alice on his project, and nothing more: a custom role with the Compute reads her
# server and console make (the instance, its shielded identity, its boot disk, its image, the
# project's common metadata), and log reading for the audit-log check: roles/logging.viewer for Admin
# Activity logs, plus roles/logging.privateLogViewer only when Data Access logs are checked (which
# also turns them on for Compute Engine). Bindings are additive (iam_member), never authoritative.

locals {
  alice_members = concat(["serviceAccount:${var.alice_server_account}"], var.alice_console_members)
  alice_log_roles = concat(
    ["roles/logging.viewer"],
    var.read_data_access_logs ? ["roles/logging.privateLogViewer"] : [],
  )
  alice_log_grants = {
    for pair in setproduct(local.alice_members, local.alice_log_roles) :
    "${pair[1]} ${pair[0]}" => { member = pair[0], role = pair[1] }
  }
}

resource "google_project_iam_custom_role" "alice_reader" {
  project     = var.project_id
  role_id     = "tokendistReviewer"
  title       = "tokendist reviewer (Alice)"
  description = "What Alice's token server and console read to check a tokenclient VM."
  permissions = [
    "compute.instances.get",
    "compute.instances.getShieldedInstanceIdentity",
    "compute.disks.get",
    "compute.images.get",
    "compute.projects.get",
  ]
}

resource "google_project_iam_member" "alice_reader" {
  for_each = toset(local.alice_members)
  project  = var.project_id
  role     = google_project_iam_custom_role.alice_reader.id
  member   = each.value
}

resource "google_project_iam_member" "alice_logs" {
  for_each = local.alice_log_grants
  project  = var.project_id
  role     = each.value.role
  member   = each.value.member
}

resource "google_project_iam_audit_config" "compute_data_access" {
  count   = var.read_data_access_logs ? 1 : 0
  project = var.project_id
  service = "compute.googleapis.com"
  audit_log_config {
    log_type = "ADMIN_READ"
  }
  audit_log_config {
    log_type = "DATA_READ"
  }
  audit_log_config {
    log_type = "DATA_WRITE"
  }
}
