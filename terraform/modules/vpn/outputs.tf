# Outputs of the VPN module.

output "gateway_address" {
  description = "This side's VPN gateway address, which the other party's tunnel points at."
  value       = google_compute_address.vpn.address
}
