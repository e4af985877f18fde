# Alice's token server VM: Shielded VM (secure boot, vTPM, integrity monitoring), no SSH keys, serial
# console off, running tokenserver under the systemd unit from dist/ with the configuration rendered
# by cloud-config.yaml.tftpl; its TLS and signing material comes from Secret Manager at first boot.

locals {
  store_url = "firestore://${var.project_id}/${var.firestore_database}?collection_prefix=${var.collection_prefix}"
  user_data = templatefile("${path.module}/cloud-config.yaml.tftpl", {
    unit                      = file("${path.module}/../../../../dist/systemd/tokenserver.service")
    project_id                = var.project_id
    grpc_port                 = var.grpc_port
    audience                  = var.audience
    store_url                 = local.store_url
    trusted_container_digests = jsonencode(var.trusted_container_digests)
    secret_ids                = var.secret_ids
    release_url               = var.tokenserver_release_url
    release_sha256            = var.tokenserver_release_sha256
  })
}

resource "google_compute_instance" "tokenserver" {
  #checkov:skip=CKV_GCP_38:Customer-supplied disk keys would put raw key material in every API call and in Terraform's state; the disk holds no secret at rest beyond what Secret Manager serves at boot.
  #checkov:skip=CKV_GCP_40:Without a VPN, Bob's VM reaches the server over the internet; the firewall admits the gRPC port from Bob's addresses only, and mTLS authenticates both ends.
  project      = var.project_id
  zone         = var.zone
  name         = "tokenserver"
  machine_type = var.machine_type
  description  = "tokendist token server"
  tags         = ["tokenserver"]
  labels       = { app = "tokenserver" }

  boot_disk {
    auto_delete = true
    initialize_params {
      image = var.boot_image
    }
  }

  network_interface {
    subnetwork = var.subnetwork
    dynamic "access_config" {
      for_each = var.external_address == null ? [] : [var.external_address]
      content {
        nat_ip = access_config.value
      }
    }
  }

  service_account {
    email  = var.service_account_email
    scopes = ["https://www.googleapis.com/auth/cloud-platform"]
  }

  shielded_instance_config {
    enable_secure_boot          = true
    enable_vtpm                 = true
    enable_integrity_monitoring = true
  }

  metadata = {
    user-data              = local.user_data
    block-project-ssh-keys = "TRUE"
    serial-port-enable     = "FALSE"
    enable-oslogin         = "TRUE"
    google-logging-enabled = "true"
  }
}
