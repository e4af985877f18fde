# Inputs of the VPN module (the same module shape on both sides).

variable "project_id" {
  description = "The project the gateway lives in."
  type        = string
}

variable "region" {
  description = "Region of the gateway."
  type        = string
}

variable "network" {
  description = "Self link of the network the tunnel joins."
  type        = string
}

variable "local_cidr" {
  description = "This side's subnet range."
  type        = string
}

variable "peer_address" {
  description = "The other party's VPN gateway address."
  type        = string
}

variable "peer_cidr" {
  description = "The other party's subnet range."
  type        = string
}

variable "shared_secret" {
  description = "The tunnel's pre-shared key, agreed out of band."
  type        = string
  sensitive   = true
}
