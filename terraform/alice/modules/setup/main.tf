# Alice's project: the APIs the token server uses, its service account, the network with its one
# inbound rule (the gRPC port, from Bob's addresses or the VPN range only), and the server's address.
# Firestore is in firestore.tf, the secrets and the server's grants in secrets.tf and iam.tf.

locals {
  services = [
    "compute.googleapis.com",
    "firestore.googleapis.com",
    "secretmanager.googleapis.com",
    "logging.googleapis.com",
    "iam.googleapis.com",
  ]
}

resource "google_project_service" "enabled" {
  for_each           = toset(local.services)
  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

resource "google_service_account" "tokenserver" {
  project      = var.project_id
  account_id   = "tokenserver"
  display_name = "tokendist token server"
  description  = "Runs tokenserver: reads its secrets, uses Firestore, writes logs; reads Bob's VM through his grants."
}

resource "google_compute_network" "tokenserver" {
  project                 = var.project_id
  name                    = "tokenserver"
  auto_create_subnetworks = false
  depends_on              = [google_project_service.enabled]
}

resource "google_compute_subnetwork" "tokenserver" {
  project                  = var.project_id
  name                     = "tokenserver"
  region                   = var.region
  network                  = google_compute_network.tokenserver.id
  ip_cidr_range            = var.subnet_cidr
  private_ip_google_access = true
  log_config {
    aggregation_interval = "INTERVAL_5_MIN"
    flow_sampling        = 0.5
    metadata             = "INCLUDE_ALL_METADATA"
  }
}

resource "google_compute_address" "tokenserver" {
  count   = var.public_address ? 1 : 0
  project = var.project_id
  name    = "tokenserver"
  region  = var.region
}

# The only inbound rule: the gRPC port from Bob's addresses (or the VPN range).
resource "google_compute_firewall" "grpc_from_bob" {
  project       = var.project_id
  name          = "tokenserver-grpc-from-bob"
  network       = google_compute_network.tokenserver.id
  direction     = "INGRESS"
  priority      = 1000
  target_tags   = ["tokenserver"]
  source_ranges = var.allowed_client_cidrs
  allow {
    protocol = "tcp"
    ports    = [tostring(var.grpc_port)]
  }
}

# The metrics and health port never reaches beyond the VM (it also listens on loopback only): an
# explicit deny that outranks any allow rule someone adds later.
resource "google_compute_firewall" "deny_metrics" {
  project       = var.project_id
  name          = "tokenserver-deny-metrics"
  network       = google_compute_network.tokenserver.id
  direction     = "INGRESS"
  priority      = 100
  target_tags   = ["tokenserver"]
  source_ranges = ["0.0.0.0/0"]
  deny {
    protocol = "tcp"
    ports    = ["9464"]
  }
}
