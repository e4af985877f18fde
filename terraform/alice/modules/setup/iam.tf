# The token server's grants in Alice's project, and nothing more: Firestore read/write (its store) and
# log writing. Reading Bob's VM is granted by Bob on his project (terraform/bob/modules/setup/grants.tf).

resource "google_project_iam_member" "server" {
  for_each = toset(["roles/datastore.user", "roles/logging.logWriter"])
  project  = var.project_id
  role     = each.value
  member   = "serviceAccount:${google_service_account.tokenserver.email}"
}
