# Inputs of Bob's deploy module (validated by the root module's variables).

variable "project_id" {
  description = "Bob's GCP project."
  type        = string
}

variable "zone" {
  description = "Zone of the VM."
  type        = string
}

variable "name" {
  description = "Name of the VM."
  type        = string
}

variable "machine_type" {
  description = "Machine type of the VM."
  type        = string
}

variable "boot_image" {
  description = "Container-Optimized OS boot image."
  type        = string
}

variable "confidential_vm" {
  description = "Run as a Confidential VM."
  type        = bool
}

variable "service_account_email" {
  description = "The tokenclient service account."
  type        = string
}

variable "subnetwork" {
  description = "Self link of the subnet (no external address is attached)."
  type        = string
}

variable "tokenserver_address" {
  description = "Alice's token server, host:port (the template's {{server_address}})."
  type        = string
}

variable "audience" {
  description = "The audience Alice's server expects (the template's {{audience}})."
  type        = string
}

variable "image_repository" {
  description = "The tokenclient image's repository (the template's {{image_repository}})."
  type        = string
}

variable "image_digest" {
  description = "The tokenclient image's digest, sha256:... (the template's {{image_digest}})."
  type        = string
}
