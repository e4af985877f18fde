# Bob's project: the APIs the client VM uses, its service account (log writing and pulling the image
# only), the Artifact Registry repository the image lives in, and the network: no inbound rule at all,
# outbound only to Alice's token server and Google APIs, through a NAT with a fixed address.

locals {
  services = [
    "compute.googleapis.com",
    "artifactregistry.googleapis.com",
    "logging.googleapis.com",
    "iam.googleapis.com",
    "dns.googleapis.com",
    "pubsub.googleapis.com",
  ]
  # Google API domains the VM uses, answered with private.googleapis.com's addresses (egress_google_apis).
  private_api_domains   = toset(["googleapis.com", "pkg.dev"])
  private_api_addresses = ["199.36.153.8", "199.36.153.9", "199.36.153.10", "199.36.153.11"]
}

resource "google_project_service" "enabled" {
  for_each           = toset(local.services)
  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

resource "google_service_account" "tokenclient" {
  project      = var.project_id
  account_id   = "tokenclient"
  display_name = "tokendist client VM"
  description  = "Runs the tokenclient VM: writes its logs and pulls its image, nothing else."
}

resource "google_project_iam_member" "client_log_writer" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = "serviceAccount:${google_service_account.tokenclient.email}"
}

resource "google_artifact_registry_repository" "tokendist" {
  #checkov:skip=CKV_GCP_84:The repository holds a public-source container image pinned by digest; Google-managed encryption suffices and a CMEK would add a KMS key Bob must operate.
  project       = var.project_id
  location      = var.artifact_location
  repository_id = "tokendist"
  format        = "DOCKER"
  description   = "The tokenclient image, pulled by digest."
  depends_on    = [google_project_service.enabled]
}

resource "google_artifact_registry_repository_iam_member" "client_reader" {
  project    = var.project_id
  location   = google_artifact_registry_repository.tokendist.location
  repository = google_artifact_registry_repository.tokendist.repository_id
  role       = "roles/artifactregistry.reader"
  member     = "serviceAccount:${google_service_account.tokenclient.email}"
}

resource "google_compute_network" "tokenclient" {
  project                 = var.project_id
  name                    = "tokenclient"
  auto_create_subnetworks = false
  depends_on              = [google_project_service.enabled]
}

resource "google_compute_subnetwork" "tokenclient" {
  project                  = var.project_id
  name                     = "tokenclient"
  region                   = var.region
  network                  = google_compute_network.tokenclient.id
  ip_cidr_range            = var.subnet_cidr
  private_ip_google_access = true
  log_config {
    aggregation_interval = "INTERVAL_5_MIN"
    flow_sampling        = 0.5
    metadata             = "INCLUDE_ALL_METADATA"
  }
}

resource "google_compute_address" "nat" {
  project = var.project_id
  name    = "tokenclient-nat"
  region  = var.region
}

resource "google_compute_router" "tokenclient" {
  project = var.project_id
  name    = "tokenclient"
  region  = var.region
  network = google_compute_network.tokenclient.id
}

resource "google_compute_router_nat" "tokenclient" {
  project                            = var.project_id
  name                               = "tokenclient"
  router                             = google_compute_router.tokenclient.name
  region                             = var.region
  nat_ip_allocate_option             = "MANUAL_ONLY"
  nat_ips                            = [google_compute_address.nat.self_link]
  source_subnetwork_ip_ranges_to_nat = "LIST_OF_SUBNETWORKS"
  subnetwork {
    name                    = google_compute_subnetwork.tokenclient.id
    source_ip_ranges_to_nat = ["ALL_IP_RANGES"]
  }
  log_config {
    enable = true
    filter = "ERRORS_ONLY"
  }
}

# Egress: the token server's port on Alice's addresses, and Google APIs (metadata server, Artifact
# Registry, Logging) over Private Google Access; everything else is denied.
resource "google_compute_firewall" "egress_tokenserver" {
  project            = var.project_id
  name               = "tokenclient-egress-tokenserver"
  network            = google_compute_network.tokenclient.id
  direction          = "EGRESS"
  priority           = 1000
  target_tags        = ["tokenclient"]
  destination_ranges = var.tokenserver_cidrs
  allow {
    protocol = "tcp"
    ports    = [tostring(var.tokenserver_port)]
  }
}

resource "google_compute_firewall" "egress_google_apis" {
  project            = var.project_id
  name               = "tokenclient-egress-google-apis"
  network            = google_compute_network.tokenclient.id
  direction          = "EGRESS"
  priority           = 1000
  target_tags        = ["tokenclient"]
  destination_ranges = ["199.36.153.8/30"]
  allow {
    protocol = "tcp"
    ports    = ["443"]
  }
}

resource "google_compute_firewall" "egress_deny_rest" {
  project            = var.project_id
  name               = "tokenclient-egress-deny"
  network            = google_compute_network.tokenclient.id
  direction          = "EGRESS"
  priority           = 65000
  target_tags        = ["tokenclient"]
  destination_ranges = ["0.0.0.0/0"]
  deny {
    protocol = "all"
  }
}

# Private DNS: Google API names resolve to private.googleapis.com, the only API range egress allows.
resource "google_dns_managed_zone" "private_apis" {
  for_each    = local.private_api_domains
  project     = var.project_id
  name        = "private-${replace(each.value, ".", "-")}"
  dns_name    = "${each.value}."
  description = "${each.value} through private.googleapis.com"
  visibility  = "private"
  private_visibility_config {
    networks {
      network_url = google_compute_network.tokenclient.id
    }
  }
  depends_on = [google_project_service.enabled]
}

resource "google_dns_record_set" "private_apis_a" {
  for_each     = local.private_api_domains
  project      = var.project_id
  managed_zone = google_dns_managed_zone.private_apis[each.value].name
  name         = "private.${each.value}."
  type         = "A"
  ttl          = 300
  rrdatas      = local.private_api_addresses
}

resource "google_dns_record_set" "private_apis_cname" {
  for_each     = local.private_api_domains
  project      = var.project_id
  managed_zone = google_dns_managed_zone.private_apis[each.value].name
  name         = "*.${each.value}."
  type         = "CNAME"
  ttl          = 300
  rrdatas      = ["private.${each.value}."]
}
