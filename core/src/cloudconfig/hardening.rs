//! Recognises the two hardening commands of a tokendist VM's cloud-config, and commands that undo them:
//! removing COS's port-22 ACCEPT rule, and masking the serial-console getty.

use super::shell_words::program_name;

/// The exact rule COS installs for SSH; deleting it leaves the default-drop INPUT policy in force.
const SSH_RULE: [&str; 9] = [
    "INPUT", "-p", "tcp", "-m", "tcp", "--dport", "22", "-j", "ACCEPT",
];

/// What one command does to SSH or the serial console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    RemovesSshRule,
    /// Adds or inserts an INPUT rule accepting TCP port 22 again, or flushes INPUT rules.
    ReopensSsh,
    MasksSerialGetty,
    /// Unmasks, enables or starts the serial getty.
    ReopensSerial,
    None,
}

/// Classifies one simple command.
pub fn effect(words: &[String]) -> Effect {
    let Some(program) = words.first().map(|w| program_name(w)) else {
        return Effect::None;
    };
    let args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
    match program {
        "iptables" | "ip6tables" => iptables_effect(&args),
        "systemctl" => systemctl_effect(&args),
        _ => Effect::None,
    }
}

fn iptables_effect(args: &[&str]) -> Effect {
    match args.split_first() {
        Some((&("-D" | "--delete"), rule)) if rule == SSH_RULE => Effect::RemovesSshRule,
        Some((&("-A" | "--append" | "-I" | "--insert" | "-R" | "--replace"), rule))
            if rule.first() == Some(&"INPUT") && mentions_port_22_accept(rule) =>
        {
            Effect::ReopensSsh
        }
        Some((&("-F" | "--flush" | "-P" | "--policy"), rest))
            if rest.is_empty() || rest.first() == Some(&"INPUT") =>
        {
            Effect::ReopensSsh
        }
        _ => Effect::None,
    }
}

fn mentions_port_22_accept(rule: &[&str]) -> bool {
    let port_22 = rule.windows(2).any(|w| {
        matches!(w[0], "--dport" | "--destination-port" | "--dports")
            && w[1].split(',').any(|p| p == "22")
    });
    let accept = rule
        .windows(2)
        .any(|w| matches!(w[0], "-j" | "--jump") && w[1] == "ACCEPT");
    port_22 && accept
}

fn systemctl_effect(args: &[&str]) -> Effect {
    let verb = args.iter().find(|a| !a.starts_with('-')).copied();
    let names_getty = args
        .iter()
        .any(|a| *a == "serial-getty@ttyS0.service" || *a == "serial-getty@ttyS0");
    match verb {
        Some("mask") if names_getty => Effect::MasksSerialGetty,
        Some("unmask" | "enable" | "start" | "restart" | "reenable") if names_getty => {
            Effect::ReopensSerial
        }
        _ => Effect::None,
    }
}
