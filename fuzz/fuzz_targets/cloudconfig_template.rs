//! Fuzzes the trusted cloud-config template matcher (`cloudconfig::CloudConfigTemplate`: `parse`
//! with hole patterns, `compare` and `fill` against a live text). Input: hole lines
//! (`name=pattern`), a NUL, the template text, a NUL, the live text. Never panics; when `compare`
//! accepts, every value has the safe shape, the template with its holes replaced by the values is
//! exactly the live text, and `fill` shows the live text with no problem on any hole.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use tokendist_core::cloudconfig::CloudConfigTemplate;
use tokendist_core::cloudconfig::template::is_value_char;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.splitn(3, '\0');
    let (Some(holes), Some(template_text), Some(live)) = (parts.next(), parts.next(), parts.next())
    else {
        return;
    };
    let holes: BTreeMap<String, String> = holes
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(name, pattern)| (name.to_owned(), pattern.to_owned()))
        .collect();
    let Ok(template) = CloudConfigTemplate::parse(template_text, &holes) else {
        return;
    };
    let compared = template.compare(live);
    let filled = template.fill(live);
    let Ok(values) = compared else {
        return;
    };
    assert_eq!(
        values.keys().collect::<Vec<_>>(),
        holes.keys().collect::<Vec<_>>()
    );
    let mut rendered = template_text.to_owned();
    for (name, value) in &values {
        assert!(
            !value.is_empty() && value.chars().all(is_value_char),
            "{name} = {value:?}"
        );
        assert!(
            value.starts_with(|c: char| c.is_ascii_alphanumeric()),
            "{name} = {value:?}"
        );
        assert!(!value.ends_with(':'), "{name} = {value:?}");
        rendered = rendered.replace(&format!("{{{{{name}}}}}"), value);
    }
    assert_eq!(rendered, live);
    assert_eq!(filled.text, live);
    for hole in &filled.holes {
        assert_eq!(hole.problem, None, "{}", hole.name);
        assert_eq!(hole.value.as_ref(), values.get(&hole.name));
    }
});
