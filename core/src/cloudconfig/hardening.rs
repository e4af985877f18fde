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
    /// Adds, inserts or replaces an INPUT rule accepting TCP port 22, or sets INPUT's policy to ACCEPT.
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
        Some((&("-P" | "--policy"), ["INPUT", "ACCEPT"])) => Effect::ReopensSsh,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudconfig::shell_words::commands;

    fn effect_of(line: &str) -> Effect {
        effect(&commands(line)[0])
    }

    #[test]
    fn only_an_accepting_input_policy_or_port_22_rule_reopens_ssh() {
        assert_eq!(effect_of("iptables -P INPUT ACCEPT"), Effect::ReopensSsh);
        assert_eq!(
            effect_of("iptables -I INPUT 1 -p tcp --dport 22 -j ACCEPT"),
            Effect::ReopensSsh
        );
        assert_eq!(effect_of("iptables -P INPUT DROP"), Effect::None);
        assert_eq!(
            effect_of("iptables -A INPUT -p tcp --dport 443 -j ACCEPT"),
            Effect::None
        );
        assert_eq!(
            effect_of("/sbin/iptables -D INPUT -p tcp -m tcp --dport 22 -j ACCEPT"),
            Effect::RemovesSshRule
        );
    }

    #[test]
    fn serial_getty_mask_and_unmask_are_recognised() {
        assert_eq!(
            effect_of("systemctl mask --now serial-getty@ttyS0.service"),
            Effect::MasksSerialGetty
        );
        assert_eq!(
            effect_of("systemctl start serial-getty@ttyS0"),
            Effect::ReopensSerial
        );
        assert_eq!(effect_of("systemctl mask other.service"), Effect::None);
    }
}
