# Alice's root variables: her project, the server's settings, and what Bob sent her (his VM's egress
# address, or his VPN gateway and range).

variable "project_id" {
  description = "Alice's GCP project, where the token server and its Firestore database live."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "A GCP project id: 6-30 lower-case letters, digits or hyphens, starting with a letter."
  }
}

variable "region" {
  description = "Region of the subnet and the server's address."
  type        = string
  default     = "us-central1"
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]$", var.region))
    error_message = "A GCP region such as us-central1."
  }
}

variable "zone" {
  description = "Zone of the token server VM."
  type        = string
  default     = "us-central1-a"
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]-[a-z]$", var.zone))
    error_message = "A GCP zone such as us-central1-a."
  }
}

variable "subnet_cidr" {
  description = "Address range of the token server subnet (must not overlap Bob's when a VPN joins them)."
  type        = string
  default     = "10.10.0.0/24"
  validation {
    condition     = can(cidrhost(var.subnet_cidr, 0))
    error_message = "A CIDR range such as 10.10.0.0/24."
  }
}

variable "machine_type" {
  description = "Machine type of the token server VM."
  type        = string
  default     = "e2-small"
  validation {
    condition     = length(var.machine_type) > 0
    error_message = "A machine type such as e2-small."
  }
}

variable "boot_image" {
  description = "Boot image of the token server VM: a distribution whose image runs cloud-init and ships gcloud (Ubuntu's GCE images do)."
  type        = string
  default     = "projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64"
  validation {
    condition     = can(regex("^projects/[a-z0-9-]+/global/images/", var.boot_image))
    error_message = "An image path projects/PROJECT/global/images/NAME or .../images/family/FAMILY."
  }
}

variable "firestore_location" {
  description = "Location of the Firestore database (e.g. nam5, eur3, us-central1)."
  type        = string
  default     = "nam5"
  validation {
    condition     = can(regex("^[a-z0-9-]+$", var.firestore_location))
    error_message = "A Firestore location id."
  }
}

variable "collection_prefix" {
  description = "Prefix of the server's Firestore collections (the store URL's collection_prefix)."
  type        = string
  default     = "tokendist-"
  validation {
    condition     = can(regex("^[a-z][a-z0-9_-]{0,30}$", var.collection_prefix))
    error_message = "Lower-case letters, digits, _ or -, starting with a letter."
  }
}

variable "grpc_port" {
  description = "The token server's gRPC port, the only port open to Bob."
  type        = number
  default     = 50051
  validation {
    condition     = var.grpc_port > 0 && var.grpc_port < 65536 && var.grpc_port != 9464
    error_message = "A TCP port other than the metrics port 9464."
  }
}

variable "audience" {
  description = "The audience VMs request identity tokens for (sent to Bob)."
  type        = string
  validation {
    condition     = can(regex("^https://[a-z0-9][a-z0-9.-]*[a-z0-9]$", var.audience))
    error_message = "An https:// URL without a path, e.g. https://tokenserver.alice.example."
  }
}

variable "server_name" {
  description = "DNS name of the token server (its certificate's name; Bob's VM dials SERVER_NAME:PORT). Point it at the `tokenserver_ip` output."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]*[a-z0-9]$", var.server_name))
    error_message = "A lower-case DNS name."
  }
}

variable "allowed_client_cidrs" {
  description = "Bob's VM egress addresses (his `client_egress_address` output as a /32): the only sources allowed on the gRPC port besides the VPN range."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for c in var.allowed_client_cidrs : can(cidrhost(c, 0)) && !startswith(c, "0.0.0.0/")])
    error_message = "CIDR ranges such as 34.121.225.36/32; never 0.0.0.0/0."
  }
}

variable "trusted_container_digests" {
  description = "Digests of the tokenclient images Alice trusts (`make image` prints one), for the cloudconfig.image_trusted check."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for d in var.trusted_container_digests : can(regex("^sha256:[0-9a-f]{64}$", d))])
    error_message = "Each: sha256: followed by 64 lower-case hex digits."
  }
}

variable "tokenserver_release_url" {
  description = "https URL of the tokenserver binary (x86_64 Linux) the VM installs at first boot."
  type        = string
  validation {
    condition     = can(regex("^https://[^\\s'\"]+$", var.tokenserver_release_url))
    error_message = "An https:// URL without spaces or quotes."
  }
}

variable "tokenserver_release_sha256" {
  description = "Hex SHA-256 of that binary; the VM refuses to install anything else."
  type        = string
  validation {
    condition     = can(regex("^[0-9a-f]{64}$", var.tokenserver_release_sha256))
    error_message = "64 lower-case hex digits."
  }
}

variable "vpn" {
  description = "Classic VPN to Bob's network (then the server gets no external address); null to serve over the internet."
  type = object({
    bob_gateway_address = string
    bob_cidr            = string
    shared_secret       = string
  })
  default   = null
  sensitive = true
}

variable "console_members" {
  description = "IAM members that run Alice's console (`user:alice@example.com`); sent to Bob, who grants them read access to his VM."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for m in var.console_members : can(regex("^(user|group|serviceAccount):[^@\\s]+@[^@\\s]+$", m))])
    error_message = "Members of the form user:EMAIL, group:EMAIL or serviceAccount:EMAIL."
  }
}
