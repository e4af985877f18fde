//! The text of an error with its sources, for messages an operator reads: libraries such as
//! reqwest and tonic put the reason (refused, DNS, certificate) in the source chain, not the top.

/// Every message in an error's source chain, joined with `: ` (a message repeated by its source
/// appears once).
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(next) = source {
        let text = next.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = next.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sources_follow_the_message() {
        let inner = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let outer = std::io::Error::other(inner);
        assert_eq!(error_chain(&outer), "refused");
        #[derive(Debug, thiserror::Error)]
        #[error("cannot connect")]
        struct Connect(#[source] std::io::Error);
        let error = Connect(std::io::Error::other("refused"));
        assert_eq!(error_chain(&error), "cannot connect: refused");
    }
}
