# Inputs of Alice's deploy module (the root module validates them).

variable "project_id" {
  description = "Alice's GCP project."
  type        = string
}

variable "zone" {
  description = "Zone of the VM."
  type        = string
}

variable "machine_type" {
  description = "Machine type of the VM."
  type        = string
}

variable "boot_image" {
  description = "Boot image (runs cloud-init, ships gcloud)."
  type        = string
}

variable "service_account_email" {
  description = "The token server's service account."
  type        = string
}

variable "subnetwork" {
  description = "Self link of the subnet."
  type        = string
}

variable "external_address" {
  description = "Reserved external address, or null for none (VPN)."
  type        = string
}

variable "secret_ids" {
  description = "Secret id per file name under /etc/tokendist."
  type        = map(string)
}

variable "grpc_port" {
  description = "The gRPC port the server listens on."
  type        = number
}

variable "audience" {
  description = "The identity-token audience."
  type        = string
}

variable "collection_prefix" {
  description = "Prefix of the Firestore collections."
  type        = string
}

variable "firestore_database" {
  description = "Name of the Firestore database."
  type        = string
}

variable "trusted_container_digests" {
  description = "Trusted tokenclient image digests."
  type        = list(string)
}

variable "tokenserver_release_url" {
  description = "https URL of the tokenserver binary."
  type        = string
}

variable "tokenserver_release_sha256" {
  description = "Hex SHA-256 of the tokenserver binary."
  type        = string
}
