//! PEM text for DER bytes (certificates and keys the tests compare with what the code under test
//! prints).

use base64::Engine as _;

/// DER → PEM with 64-column lines, as OpenSSL writes it.
pub fn pem(label: &str, der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|chunk| std::str::from_utf8(chunk).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn lines_are_64_columns_between_the_label_lines() {
        let text = super::pem("PUBLIC KEY", &[0xAB; 100]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.first(), Some(&"-----BEGIN PUBLIC KEY-----"));
        assert_eq!(lines.last(), Some(&"-----END PUBLIC KEY-----"));
        assert_eq!(lines[1].len(), 64);
        assert_eq!(lines.len(), 5, "{text}");
    }
}
