# Outputs of Bob's setup module.

output "service_account_email" {
  description = "The tokenclient VM's service account."
  value       = google_service_account.tokenclient.email
}

output "network" {
  description = "Self link of the tokenclient network."
  value       = google_compute_network.tokenclient.self_link
}

output "subnetwork" {
  description = "Self link of the tokenclient subnet."
  value       = google_compute_subnetwork.tokenclient.self_link
}

output "nat_address" {
  description = "The fixed address the VM's outbound calls come from."
  value       = google_compute_address.nat.address
}

output "image_repository" {
  description = "The tokenclient image's repository (LOCATION-docker.pkg.dev/PROJECT/tokendist/tokenclient)."
  value       = "${google_artifact_registry_repository.tokendist.location}-docker.pkg.dev/${var.project_id}/tokendist/tokenclient"
}

output "alice_reader_role" {
  description = "Id of the custom role granted to Alice."
  value       = google_project_iam_custom_role.alice_reader.id
}
