# Inputs of Alice's setup module (the root module validates them).

variable "project_id" {
  description = "Alice's GCP project."
  type        = string
}

variable "region" {
  description = "Region of the subnet and address."
  type        = string
}

variable "subnet_cidr" {
  description = "Address range of the token server subnet."
  type        = string
}

variable "firestore_location" {
  description = "Location of the Firestore database."
  type        = string
}

variable "collection_prefix" {
  description = "Prefix of the server's Firestore collections."
  type        = string
}

variable "grpc_port" {
  description = "The token server's gRPC port."
  type        = number
}

variable "allowed_client_cidrs" {
  description = "Sources allowed on the gRPC port."
  type        = list(string)
}

variable "public_address" {
  description = "Reserve an external address for the server (false behind a VPN)."
  type        = bool
}
