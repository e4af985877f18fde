# Optional Classic VPN between the two parties' networks (route-based, one tunnel), used by both roots:
# a static gateway address, the ESP/IKE forwarding rules, the tunnel with its pre-shared key and the
# route to the other side's range. The key is a sensitive variable; keep the state where secrets may live.

resource "google_compute_address" "vpn" {
  project = var.project_id
  name    = "tokendist-vpn"
  region  = var.region
}

resource "google_compute_vpn_gateway" "vpn" {
  project = var.project_id
  name    = "tokendist-vpn"
  region  = var.region
  network = var.network
}

resource "google_compute_forwarding_rule" "vpn" {
  for_each    = { esp = ["ESP", ""], udp500 = ["UDP", "500"], udp4500 = ["UDP", "4500"] }
  project     = var.project_id
  name        = "tokendist-vpn-${each.key}"
  region      = var.region
  ip_protocol = each.value[0]
  port_range  = each.value[1] == "" ? null : each.value[1]
  ip_address  = google_compute_address.vpn.address
  target      = google_compute_vpn_gateway.vpn.self_link
}

resource "google_compute_vpn_tunnel" "vpn" {
  project                 = var.project_id
  name                    = "tokendist-vpn"
  region                  = var.region
  peer_ip                 = var.peer_address
  shared_secret           = var.shared_secret
  target_vpn_gateway      = google_compute_vpn_gateway.vpn.self_link
  local_traffic_selector  = [var.local_cidr]
  remote_traffic_selector = [var.peer_cidr]
  depends_on              = [google_compute_forwarding_rule.vpn]
}

resource "google_compute_route" "vpn" {
  project             = var.project_id
  name                = "tokendist-vpn"
  network             = var.network
  dest_range          = var.peer_cidr
  priority            = 900
  next_hop_vpn_tunnel = google_compute_vpn_tunnel.vpn.self_link
}
