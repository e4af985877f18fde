//! Boot-image names: normalising Compute API URLs to `projects/P/global/images/NAME` and matching them
//! against approved prefixes with an exact project (`projects/cos-cloud/` never matches
//! `projects/cos-cloud-evil/...`).

/// API hosts whose image URLs are understood; other hosts are left as-is (and so never match).
const API_PREFIXES: [&str; 2] = [
    "https://www.googleapis.com/compute/",
    "https://compute.googleapis.com/compute/",
];

/// `https://www.googleapis.com/compute/v1/projects/p/global/images/i` → `projects/p/global/images/i`;
/// `p/global/images/i` → `projects/p/global/images/i`; anything else is returned trimmed.
pub fn normalize_image(image: &str) -> String {
    let image = image.trim();
    for prefix in API_PREFIXES {
        if let Some((_version, path)) = image
            .strip_prefix(prefix)
            .and_then(|rest| rest.split_once('/'))
        {
            return path.to_owned();
        }
    }
    if !image.starts_with("projects/")
        && !image.contains("://")
        && image.contains("/global/images/")
    {
        return format!("projects/{image}");
    }
    image.to_owned()
}

/// Splits an approved prefix `projects/P/REST` into `(P, REST)`; `None` if it does not name a project.
pub fn image_prefix_project(prefix: &str) -> Option<(&str, &str)> {
    let rest = prefix.trim().strip_prefix("projects/")?;
    let (project, tail) = rest.split_once('/').unwrap_or((rest, ""));
    (!project.is_empty()).then_some((project, tail))
}

/// True when `image` (any accepted form) lies under `prefix`, with the project compared exactly.
pub(crate) fn matches_prefix(image: &str, prefix: &str) -> bool {
    let Some((want_project, want_rest)) = image_prefix_project(prefix) else {
        return false;
    };
    let normalized = normalize_image(image);
    let Some((project, rest)) = image_prefix_project(&normalized) else {
        return false;
    };
    project == want_project && rest.starts_with(want_rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_urls_and_partial_names_normalise_alike() {
        let want = "projects/cos-cloud/global/images/cos-stable-81-12871-119-0";
        for form in [
            "https://www.googleapis.com/compute/v1/projects/cos-cloud/global/images/cos-stable-81-12871-119-0",
            "https://compute.googleapis.com/compute/beta/projects/cos-cloud/global/images/cos-stable-81-12871-119-0",
            "projects/cos-cloud/global/images/cos-stable-81-12871-119-0",
            "cos-cloud/global/images/cos-stable-81-12871-119-0",
        ] {
            assert_eq!(normalize_image(form), want, "{form}");
        }
    }

    #[test]
    fn project_prefix_requires_the_exact_project() {
        let image = "https://www.googleapis.com/compute/v1/projects/cos-cloud-evil/global/images/x";
        assert!(!matches_prefix(image, "projects/cos-cloud/"));
        assert!(!matches_prefix(image, "projects/cos-cloud"));
        assert!(matches_prefix(image, "projects/cos-cloud-evil"));
    }

    #[test]
    fn foreign_hosts_never_match() {
        assert!(!matches_prefix(
            "https://evil.example/compute/v1/projects/cos-cloud/global/images/x",
            "projects/cos-cloud/"
        ));
    }
}
