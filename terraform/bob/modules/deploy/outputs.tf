# Outputs of Bob's deploy module.

output "instance_name" {
  description = "Name of the tokenclient VM."
  value       = google_compute_instance.tokenclient.name
}

output "instance_id" {
  description = "Numeric id of the tokenclient VM."
  value       = google_compute_instance.tokenclient.instance_id
}

output "user_data_sha256" {
  description = "base64 SHA-256 of the user-data, as `tokendist show` reports it."
  value       = base64sha256(local.user_data)
}
