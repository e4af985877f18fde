# The server's TLS and signing material as Secret Manager secrets, created EMPTY: their values are
# added out of band (`gcloud secrets versions add ... --data-file=FILE`, terraform/README.md), so no
# private key is ever in a .tf file or in Terraform's state. Each secret is readable by the server's
# service account only (a per-secret binding, not a project-wide role).

locals {
  # File name under /etc/tokendist on the VM => secret id.
  secret_files = {
    "server.crt"    = "tokendist-server-crt"
    "server.key"    = "tokendist-server-key"
    "client-ca.crt" = "tokendist-client-ca-crt"
    "alice.pub"     = "tokendist-alice-pub"
    "secrets.key"   = "tokendist-secrets-key"
  }
}

resource "google_secret_manager_secret" "material" {
  for_each  = local.secret_files
  project   = var.project_id
  secret_id = each.value
  labels    = { app = "tokenserver" }
  replication {
    auto {}
  }
  depends_on = [google_project_service.enabled]
}

resource "google_secret_manager_secret_iam_member" "server_reads" {
  for_each  = google_secret_manager_secret.material
  project   = var.project_id
  secret_id = each.value.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.tokenserver.email}"
}
