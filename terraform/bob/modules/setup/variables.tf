# Inputs of Bob's setup module (the root module passes its own variables through).

variable "project_id" {
  description = "Bob's GCP project."
  type        = string
}

variable "region" {
  description = "Region of the subnet and NAT."
  type        = string
}

variable "subnet_cidr" {
  description = "Address range of the tokenclient subnet."
  type        = string
}

variable "artifact_location" {
  description = "Multi-region of the Artifact Registry repository."
  type        = string
}

variable "tokenserver_port" {
  description = "The token server's gRPC port."
  type        = number
}

variable "tokenserver_cidrs" {
  description = "Addresses of Alice's token server, the only egress destination besides Google APIs."
  type        = list(string)
}

variable "alice_server_account" {
  description = "Email of Alice's token server service account."
  type        = string
}

variable "alice_console_members" {
  description = "IAM members that run Alice's console."
  type        = list(string)
}

variable "read_data_access_logs" {
  description = "Turn on Compute Data Access logs and grant roles/logging.privateLogViewer to Alice."
  type        = bool
}
