//! Fuzzes gcpsim's Cloud Logging filter language (`sim::logfilter::parse` and `Filter::matches`,
//! reached through `tokendist_sim::fuzzing::log_filter_matches`). Input: the filter, optionally a
//! NUL and a LogEntry JSON to evaluate it on (otherwise an audit entry of the seeds). Never panics
//! or overflows the stack; evaluation is deterministic, and a filter that parses also parses
//! wrapped in parentheses, with the same result (unless it is nested to the depth limit).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokendist_sim::fuzzing::log_filter_matches;

const ENTRY: &str = include_str!("../seeds/auditlog_entry/gcpsim-entry-2.json");

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (filter, entry) = match text.split_once('\0') {
        Some((filter, entry)) => match serde_json::from_str(entry) {
            Ok(entry) => (filter, entry),
            Err(_) => return,
        },
        None => (text, serde_json::from_str(ENTRY).unwrap()),
    };
    let Ok(matches) = log_filter_matches(filter, &entry) else {
        return;
    };
    assert_eq!(log_filter_matches(filter, &entry), Ok(matches));
    if !filter.trim().is_empty() {
        let wrapped = log_filter_matches(&format!("({filter})"), &entry);
        // The parentheses are one level more: a filter nested to the depth limit is refused
        // wrapped (found by this target; sim's `a_filter_at_the_depth_limit_refuses_one_level_more`).
        let over_the_limit = matches!(&wrapped, Err(e) if e.contains("nest more than"));
        if !over_the_limit {
            assert_eq!(
                wrapped,
                Ok(matches),
                "{filter:?} parses but not in parentheses"
            );
        }
    }
});
