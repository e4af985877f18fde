//! Google's HTML error pages as the metadata server sends them (403 missing header, 404 not found).

/// The shared `<style>` block of Google's error pages, byte for byte.
const STYLE: &str = r#"  <style>
    *{margin:0;padding:0}html,code{font:15px/22px arial,sans-serif}html{background:#fff;color:#222;padding:15px}body{margin:7% auto 0;max-width:390px;min-height:180px;padding:30px 0 15px}* > body{background:url(//www.google.com/images/errors/robot.png) 100% 5px no-repeat;padding-right:205px}p{margin:11px 0 22px;overflow:hidden}ins{color:#777;text-decoration:none}a img{border:0}@media screen and (max-width:772px){body{background:none;margin-top:0;max-width:none;padding-right:0}}#logo{background:url(//www.google.com/images/branding/googlelogo/1x/googlelogo_color_150x54dp.png) no-repeat;margin-left:-5px}@media only screen and (min-resolution:192dpi){#logo{background:url(//www.google.com/images/branding/googlelogo/2x/googlelogo_color_150x54dp.png) no-repeat 0% 0%/100% 100%;-moz-border-image:url(//www.google.com/images/branding/googlelogo/2x/googlelogo_color_150x54dp.png) 0}}@media only screen and (-webkit-min-device-pixel-ratio:2){#logo{background:url(//www.google.com/images/branding/googlelogo/2x/googlelogo_color_150x54dp.png) no-repeat;-webkit-background-size:100% 100%}}#logo{display:inline-block;height:54px;width:150px}
  </style>
"#;

fn page(code: u16, title: &str, message_html: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n  <meta name=viewport content=\"initial-scale=1, minimum-scale=1, width=device-width\">\n  <title>Error {code} ({title})!!1</title>\n{STYLE}  <a href=//www.google.com/><span id=logo aria-label=Google></span></a>\n  <p><b>{code}.</b> <ins>That\u{2019}s an error.</ins>\n  <p>{message_html} <ins>That\u{2019}s all we know.</ins>\n"
    )
}

/// 403 for a request without `Metadata-Flavor: Google`.
pub(crate) fn missing_flavor_page(path: &str) -> String {
    page(
        403,
        "Forbidden",
        &format!(
            "Your client does not have permission to get URL <code>{}</code> from this server. Missing Metadata-Flavor:Google header.",
            escape(path)
        ),
    )
}

/// 403 for a proxied request (`X-Forwarded-For` present).
pub(crate) fn forwarded_page(path: &str) -> String {
    page(
        403,
        "Forbidden",
        &format!(
            "Your client does not have permission to get URL <code>{}</code> from this server. Request had a X-Forwarded-For header and was rejected.",
            escape(path)
        ),
    )
}

/// 404 for an unknown metadata path.
pub(crate) fn not_found_page(path: &str) -> String {
    page(
        404,
        "Not Found",
        &format!(
            "The requested URL <code>{}</code> was not found on this server. ",
            escape(path)
        ),
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture_body(name: &str) -> String {
        let path = format!(
            "{}/../../shared/fixtures/gce/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(path).unwrap().replace("\r\n", "\n");
        text.split_once("\n\n").unwrap().1.to_string()
    }

    #[test]
    fn missing_flavor_page_matches_google_byte_for_byte() {
        assert_eq!(
            missing_flavor_page("/computeMetadata/v1/instance/name"),
            fixture_body("metadata-server-403-missing-flavor.http")
        );
    }

    #[test]
    fn not_found_page_matches_google_byte_for_byte() {
        assert_eq!(
            not_found_page("/computeMetadata/v1/universe/universe_domain"),
            fixture_body("metadata-server-404-not-found.http")
        );
    }
}
