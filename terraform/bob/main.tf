# Bob's deployment: his project's services, the client's service account and network (setup), the
# grants Alice's console and token server need to review and check the VM (setup/grants.tf), the
# Shielded COS VM running one pinned tokenclient container (deploy), and an optional VPN to Alice.

module "setup" {
  source = "./modules/setup"

  project_id            = var.project_id
  region                = var.region
  subnet_cidr           = var.subnet_cidr
  alice_server_account  = var.alice_server_account
  alice_console_members = var.alice_console_members
  read_data_access_logs = var.read_data_access_logs
  artifact_location     = var.artifact_location
  tokenserver_port      = var.tokenserver_port
  tokenserver_cidrs     = var.tokenserver_cidrs
}

module "deploy" {
  source = "./modules/deploy"

  project_id            = var.project_id
  zone                  = var.zone
  name                  = var.instance_name
  machine_type          = var.machine_type
  boot_image            = var.boot_image
  confidential_vm       = var.confidential_vm
  service_account_email = module.setup.service_account_email
  subnetwork            = module.setup.subnetwork
  tokenserver_address   = var.tokenserver_address
  audience              = var.audience
  image_repository      = module.setup.image_repository
  image_digest          = var.image_digest
}

module "vpn" {
  source = "../modules/vpn"
  count  = var.vpn == null ? 0 : 1

  project_id    = var.project_id
  region        = var.region
  network       = module.setup.network
  local_cidr    = var.subnet_cidr
  peer_address  = var.vpn == null ? "" : var.vpn.alice_gateway_address
  peer_cidr     = var.vpn == null ? "" : var.vpn.alice_cidr
  shared_secret = var.vpn == null ? "" : var.vpn.shared_secret
}
