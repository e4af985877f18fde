# Alice's deployment: her project's services, the token server's service account, Firestore, the
# Secret Manager secrets (created empty), network and firewall (setup); the Shielded VM running
# tokenserver under systemd (deploy); and an optional VPN to Bob's network.

module "setup" {
  source = "./modules/setup"

  project_id           = var.project_id
  region               = var.region
  subnet_cidr          = var.subnet_cidr
  firestore_location   = var.firestore_location
  collection_prefix    = var.collection_prefix
  grpc_port            = var.grpc_port
  allowed_client_cidrs = concat(var.allowed_client_cidrs, var.vpn == null ? [] : [var.vpn.bob_cidr])
  public_address       = var.vpn == null
}

module "deploy" {
  source = "./modules/deploy"

  project_id                 = var.project_id
  zone                       = var.zone
  machine_type               = var.machine_type
  boot_image                 = var.boot_image
  service_account_email      = module.setup.service_account_email
  subnetwork                 = module.setup.subnetwork
  external_address           = module.setup.external_address
  secret_ids                 = module.setup.secret_ids
  grpc_port                  = var.grpc_port
  audience                   = var.audience
  collection_prefix          = var.collection_prefix
  firestore_database         = module.setup.firestore_database
  trusted_container_digests  = var.trusted_container_digests
  tokenserver_release_url    = var.tokenserver_release_url
  tokenserver_release_sha256 = var.tokenserver_release_sha256
}

module "vpn" {
  source = "../modules/vpn"
  count  = var.vpn == null ? 0 : 1

  project_id    = var.project_id
  region        = var.region
  network       = module.setup.network
  local_cidr    = var.subnet_cidr
  peer_address  = var.vpn == null ? "" : var.vpn.bob_gateway_address
  peer_cidr     = var.vpn == null ? "" : var.vpn.bob_cidr
  shared_secret = var.vpn == null ? "" : var.vpn.shared_secret
}
