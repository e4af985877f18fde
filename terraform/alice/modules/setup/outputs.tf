# Outputs of Alice's setup module.

output "service_account_email" {
  description = "The token server's service account."
  value       = google_service_account.tokenserver.email
}

output "network" {
  description = "Self link of the token server network."
  value       = google_compute_network.tokenserver.self_link
}

output "subnetwork" {
  description = "Self link of the token server subnet."
  value       = google_compute_subnetwork.tokenserver.self_link
}

output "external_address" {
  description = "The server's reserved external address (null behind a VPN)."
  value       = one(google_compute_address.tokenserver[*].address)
}

output "secret_ids" {
  description = "Secret id per file name under /etc/tokendist."
  value       = { for file, secret in google_secret_manager_secret.material : file => secret.secret_id }
}

output "firestore_database" {
  description = "Name of the Firestore database."
  value       = google_firestore_database.tokendist.name
}
