//! Fuzzes the cloud-config analysis (`core::cloudconfig::analyse`: the `#cloud-config` YAML parse,
//! its sections, `write_files`, systemd units, the shell commands and `docker run`s in them), the
//! unsupported-YAML scan and the line locator of each finding. Never panics; an analysis survives a
//! serde round trip (the console and the store keep it as JSON) and is deterministic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokendist_core::cloudconfig::locate::Locator;
use tokendist_core::cloudconfig::{CloudConfigAnalysis, analyse, unsupported_yaml};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = unsupported_yaml(text);
    let Ok(analysis) = analyse(text) else {
        return;
    };
    let json = serde_json::to_vec(&analysis).unwrap();
    let back: CloudConfigAnalysis = serde_json::from_slice(&json).unwrap();
    assert_eq!(back, analysis);
    assert_eq!(analyse(text).ok().as_ref(), Some(&analysis));
    let locator = Locator::new(text);
    for finding in &analysis.located_findings {
        if let Some(line) = locator.line_of(&finding.place) {
            assert!(line >= 1 && line <= text.lines().count().max(1));
        }
    }
});
