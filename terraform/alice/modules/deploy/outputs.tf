# Outputs of Alice's deploy module.

output "address" {
  description = "The server's external address, or its internal one behind a VPN."
  value = coalesce(
    var.external_address,
    google_compute_instance.tokenserver.network_interface[0].network_ip,
  )
}

output "instance_id" {
  description = "Numeric id of the token server VM."
  value       = google_compute_instance.tokenserver.instance_id
}
