# What Alice sends Bob after `terraform apply` (terraform/README.md, step 1).

output "server_service_account" {
  description = "The token server's service account: Bob grants it the reviewer role and log reading."
  value       = module.setup.service_account_email
}

output "tokenserver_address" {
  description = "host:port Bob's VM dials (his `tokenserver_address` variable)."
  value       = "${var.server_name}:${var.grpc_port}"
}

output "tokenserver_ip" {
  description = "The server's address: point the DNS name at it; Bob allows egress to it (as /32). Internal with a VPN."
  value       = module.deploy.address
}

output "audience" {
  description = "The identity-token audience (Bob's `audience` variable)."
  value       = var.audience
}

output "secret_ids" {
  description = "Secret Manager secrets to fill out of band (`gcloud secrets versions add`), by file name."
  value       = module.setup.secret_ids
}

output "firestore_database" {
  description = "The server's Firestore database (store URL firestore://PROJECT/DATABASE)."
  value       = module.setup.firestore_database
}

output "vpn_gateway_address" {
  description = "Alice's VPN gateway address for Bob's tunnel (null without a VPN)."
  value       = one(module.vpn[*].gateway_address)
}

output "console_members" {
  description = "Alice's console identities (Bob's `alice_console_members` variable)."
  value       = var.console_members
}
