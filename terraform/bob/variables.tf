# Bob's root variables: his project, what Alice sent him (her server's service account, her console
# members, her server's address and audience) and the image digest he pins.

variable "project_id" {
  description = "Bob's GCP project, where the tokenclient VM runs."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "A GCP project id: 6-30 lower-case letters, digits or hyphens, starting with a letter."
  }
}

variable "region" {
  description = "Region of the subnet, NAT and Artifact Registry access."
  type        = string
  default     = "us-central1"
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]$", var.region))
    error_message = "A GCP region such as us-central1."
  }
}

variable "zone" {
  description = "Zone of the tokenclient VM."
  type        = string
  default     = "us-central1-a"
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]-[a-z]$", var.zone))
    error_message = "A GCP zone such as us-central1-a."
  }
}

variable "subnet_cidr" {
  description = "Address range of the tokenclient subnet (must not overlap Alice's when a VPN joins them)."
  type        = string
  default     = "10.20.0.0/24"
  validation {
    condition     = can(cidrhost(var.subnet_cidr, 0))
    error_message = "A CIDR range such as 10.20.0.0/24."
  }
}

variable "instance_name" {
  description = "Name of the tokenclient VM (Alice approves it by project, zone and name)."
  type        = string
  default     = "tokenclient"
  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$", var.instance_name))
    error_message = "A Compute Engine instance name (RFC 1035)."
  }
}

variable "machine_type" {
  description = "Machine type of the VM; a Confidential VM needs an N2D or C2D type."
  type        = string
  default     = "e2-small"
  validation {
    condition     = length(var.machine_type) > 0
    error_message = "A machine type such as e2-small or n2d-standard-2."
  }
}

variable "boot_image" {
  description = "Container-Optimized OS boot image (Alice's policy accepts projects/cos-cloud/ and projects/confidential-vm-images/)."
  type        = string
  default     = "projects/cos-cloud/global/images/family/cos-stable"
  validation {
    condition     = can(regex("^projects/(cos-cloud|confidential-vm-images)/global/images/", var.boot_image))
    error_message = "An image from cos-cloud or confidential-vm-images, which Alice's policy accepts."
  }
}

variable "confidential_vm" {
  description = "Run as a Confidential VM (AMD SEV); needs an N2D/C2D machine type."
  type        = bool
  default     = false
}

variable "artifact_location" {
  description = "Multi-region of the Artifact Registry repository holding the tokenclient image (its host is LOCATION-docker.pkg.dev)."
  type        = string
  default     = "us"
  validation {
    condition     = contains(["us", "europe", "asia"], var.artifact_location)
    error_message = "One of us, europe, asia."
  }
}

variable "image_digest" {
  description = "Digest of the tokenclient image (`make image` prints it), the one Alice's trusted list names."
  type        = string
  validation {
    condition     = can(regex("^sha256:[0-9a-f]{64}$", var.image_digest))
    error_message = "sha256: followed by 64 lower-case hex digits."
  }
}

variable "tokenserver_address" {
  description = "Alice's token server, host:port, exactly as Alice sent it (her `tokenserver_address` output)."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]*[a-z0-9]:[0-9]{1,5}$", var.tokenserver_address))
    error_message = "host:port with a lower-case DNS name or IPv4 address."
  }
}

variable "tokenserver_port" {
  description = "The token server's gRPC port (egress to it is the VM's only allowed outbound traffic besides Google APIs)."
  type        = number
  default     = 50051
  validation {
    condition     = var.tokenserver_port > 0 && var.tokenserver_port < 65536
    error_message = "A TCP port."
  }
}

variable "tokenserver_cidrs" {
  description = "Addresses of Alice's token server (her `tokenserver_cidrs` output): the VM may reach the gRPC port there only."
  type        = list(string)
  validation {
    condition     = length(var.tokenserver_cidrs) > 0 && alltrue([for c in var.tokenserver_cidrs : can(cidrhost(c, 0)) && c != "0.0.0.0/0"])
    error_message = "One or more CIDR ranges, never 0.0.0.0/0."
  }
}

variable "audience" {
  description = "The audience Alice's server expects in identity tokens (her `audience` output)."
  type        = string
  validation {
    condition     = can(regex("^https://[a-z0-9][a-z0-9.-]*[a-z0-9]$", var.audience))
    error_message = "An https:// URL without a path, e.g. https://tokenserver.alice.example."
  }
}

variable "alice_server_account" {
  description = "Email of Alice's token server service account (her `server_service_account` output)."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9-]+@[a-z0-9-]+\\.iam\\.gserviceaccount\\.com$", var.alice_server_account))
    error_message = "A service account email (NAME@PROJECT.iam.gserviceaccount.com)."
  }
}

variable "alice_console_members" {
  description = "IAM members that run Alice's console (`user:alice@example.com`, `group:...`), from her `console_members` output."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for m in var.alice_console_members : can(regex("^(user|group|serviceAccount):[^@\\s]+@[^@\\s]+$", m))])
    error_message = "Members of the form user:EMAIL, group:EMAIL or serviceAccount:EMAIL."
  }
}

variable "read_data_access_logs" {
  description = "Turn on Compute Engine Data Access audit logs and let Alice read them (roles/logging.privateLogViewer); off, she reads Admin Activity logs only (roles/logging.viewer)."
  type        = bool
  default     = false
}

variable "vpn" {
  description = "Classic VPN to Alice's network instead of reaching her server over the internet; null for none."
  type = object({
    alice_gateway_address = string
    alice_cidr            = string
    shared_secret         = string
  })
  default   = null
  sensitive = true
}
