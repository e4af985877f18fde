# What Bob sends Alice after `terraform apply` (terraform/README.md, step 3).

output "project_id" {
  description = "Bob's project: Alice's console lists VMs here."
  value       = var.project_id
}

output "zone" {
  description = "Zone of the tokenclient VM."
  value       = var.zone
}

output "instance_name" {
  description = "Name of the tokenclient VM Alice reviews and approves."
  value       = module.deploy.instance_name
}

output "instance_id" {
  description = "Numeric id of the tokenclient VM (what approvals are keyed by)."
  value       = module.deploy.instance_id
}

output "client_service_account" {
  description = "Service account the VM runs as (the identity token's email claim)."
  value       = module.setup.service_account_email
}

output "client_egress_address" {
  description = "The NAT address the VM's calls come from: Alice allows it on her firewall and may pin it in the approval."
  value       = module.setup.nat_address
}

output "image_reference" {
  description = "The pinned image the VM runs, repository@digest."
  value       = "${module.setup.image_repository}@${var.image_digest}"
}

output "user_data_sha256" {
  description = "base64 SHA-256 of the VM's user-data, as `tokendist show` reports it."
  value       = module.deploy.user_data_sha256
}

output "alice_reader_role" {
  description = "The custom role granted to Alice's server and console identities."
  value       = module.setup.alice_reader_role
}

output "vpn_gateway_address" {
  description = "Bob's VPN gateway address for Alice's tunnel (null without a VPN)."
  value       = one(module.vpn[*].gateway_address)
}
