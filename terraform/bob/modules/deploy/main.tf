# Bob's tokenclient VM: Container-Optimized OS, Shielded VM (vTPM, secure boot, integrity
# monitoring), optionally Confidential, no external address, no SSH keys, serial console off, and the
# user-data of user_data.tf as its only cloud-config.

resource "google_compute_instance" "tokenclient" {
  #checkov:skip=CKV_GCP_38:Customer-supplied disk keys would make Bob hand raw key material to every API call; the boot disk holds only the public COS image and the pinned container.
  project      = var.project_id
  zone         = var.zone
  name         = var.name
  machine_type = var.machine_type
  description  = "tokendist client: one pinned tokenclient container"
  tags         = ["tokenclient"]
  labels       = { app = "tokenclient" }

  boot_disk {
    auto_delete = true
    initialize_params {
      image = var.boot_image
    }
  }

  network_interface {
    subnetwork = var.subnetwork
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

  confidential_instance_config {
    enable_confidential_compute = var.confidential_vm
  }

  scheduling {
    on_host_maintenance = var.confidential_vm ? "TERMINATE" : "MIGRATE"
  }

  metadata = {
    user-data              = local.user_data
    block-project-ssh-keys = "TRUE"
    serial-port-enable     = "FALSE"
    google-logging-enabled = "true"
    cos-update-strategy    = "update_disabled"
  }
}
