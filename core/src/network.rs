//! Transport identifiers shared by the server and the console: the canonical form of a TLS client
//! certificate serial, so that the serial the console prints and pins, the serial the server reads
//! from a connection and the serial `network.client_cert` compares are one and the same string.

/// Canonical form of a certificate serial written by a person or a tool: lower-case hex, no colons
/// or spaces, no leading zero bytes (`00:AB:01` and `ab01` are the same serial; zero is `0`).
pub fn normalize_serial(text: &str) -> String {
    let hex: String = text
        .chars()
        .filter(char::is_ascii_hexdigit)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let trimmed = hex.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".to_string()
    } else if trimmed.len() % 2 == 1 {
        format!("0{trimmed}")
    } else {
        trimmed.to_string()
    }
}

/// True when `text` contains at least one hex digit, i.e. names some serial at all.
pub fn names_a_serial(text: &str) -> bool {
    text.chars().any(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_compare_in_one_canonical_form() {
        assert_eq!(normalize_serial("00:AB:01"), "ab01");
        assert_eq!(normalize_serial("ab01"), "ab01");
        assert_eq!(normalize_serial("0x0F"), "0f");
        assert_eq!(normalize_serial("00"), "0");
        assert_eq!(normalize_serial("1a2"), "01a2");
        assert_ne!(normalize_serial("27"), normalize_serial("39"));
    }

    #[test]
    fn empty_text_names_no_serial() {
        assert!(!names_a_serial(""));
        assert!(!names_a_serial(" : "));
        assert!(names_a_serial("00"));
    }
}
