//! Alice's trusted cloud-config template, the allow-list behind `cloudconfig.template`: the exact
//! text of the user-data she trusts, with named holes (`{{image_digest}}`) each of which must be filled
//! by a value matching the hole's pattern. Everything outside the holes must be equal byte for byte
//! (no normalisation of whitespace, line endings or Unicode).
//!
//! The pattern language is the `regex` crate's syntax, always anchored to the whole value
//! (`\A(?:PATTERN)\z`). Whatever the pattern allows, a value is also held to a fixed safe shape so that
//! no hole can swallow YAML or shell structure: it is one or more of `A-Z a-z 0-9 . _ : / -`, starts
//! with a letter or digit (never an option such as `--privileged`, never a YAML indicator) and does not
//! end with `:` (never a mapping key). In particular a value never contains a newline, a space, a quote,
//! `#`, `$`, `;`, `&`, `|`, `` ` ``, `\`, `@`, `{` or `}`. Because a value stops at the first character
//! outside that set, a hole must be followed by such a character (or the end of its line), so that
//! where a value ends is never ambiguous. A template cannot contain a literal `{{`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// How many differences a failed comparison reports.
const MAX_DIFFERENCES: usize = 3;
/// How many characters of a line are shown from the first difference on.
const EXCERPT_CHARS: usize = 80;

/// True for the characters a hole's value may consist of.
pub fn is_value_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '/' | '-')
}

/// How Alice's settings name the template (the `[cloud_config_template]` table).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TemplateSettings {
    /// The template file, relative to the settings file. The console reads it into `text` when it
    /// loads its settings (core does no I/O); the token server only checks the holes' patterns.
    pub path: Option<String>,
    /// The template text itself (instead of `path`, or as read from it).
    pub text: Option<String>,
    /// Each hole's name and the pattern (`regex` syntax, anchored to the whole value) its value must
    /// match.
    pub holes: BTreeMap<String, String>,
}

impl TemplateSettings {
    /// Checks the patterns, and the template when its text is present.
    pub fn validate(&self) -> Result<(), TemplateError> {
        match &self.text {
            Some(text) => CloudConfigTemplate::parse(text, &self.holes).map(|_| ()),
            None if self.path.is_none() => Err(TemplateError::NoText),
            None => compile_patterns(&self.holes).map(|_| ()),
        }
    }
}

/// A parsed template: its lines, each a run of literal text and holes, and each hole's pattern.
#[derive(Debug, Clone)]
pub struct CloudConfigTemplate {
    lines: Vec<Vec<Segment>>,
    patterns: BTreeMap<String, HolePattern>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Hole(String),
}

#[derive(Debug, Clone)]
struct HolePattern {
    source: String,
    regex: Regex,
}

/// Why a template or its hole patterns cannot be used (a configuration error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error(
        "template line {line}: `{{{{` does not open a hole such as `{{{{image_digest}}}}` (names: a lower-case letter, then lower-case letters, digits or `_`); a template cannot contain a literal `{{{{`"
    )]
    BadHole { line: usize },
    #[error(
        "template line {line}: hole `{{{{{name}}}}}` has no pattern; add `{name} = \"PATTERN\"` to the template's holes"
    )]
    UndeclaredHole { line: usize, name: String },
    #[error("hole {name:?} has a pattern but does not appear in the template")]
    UnusedHole { name: String },
    #[error("the pattern of hole {name:?} is not a valid regular expression: {reason}")]
    BadPattern { name: String, reason: String },
    #[error(
        "template line {line}: hole `{{{{{name}}}}}` is followed by {next:?}, which a value may also contain, so where the value ends would be ambiguous; follow a hole with a space, a quote, `@`, `=`, `,` or the end of the line"
    )]
    AmbiguousHole {
        line: usize,
        name: String,
        next: char,
    },
    #[error("the template is empty")]
    Empty,
    #[error(
        "the cloud-config template names neither `path` (a file beside the settings) nor `text`"
    )]
    NoText,
    #[error(
        "the cloud-config template file {path:?} was not read; the console reads it when it loads its settings"
    )]
    NotLoaded { path: String },
}

impl CloudConfigTemplate {
    /// Parses `text` with `holes` (name → pattern). Every hole in the text needs a pattern and every
    /// pattern a hole.
    pub fn parse(text: &str, holes: &BTreeMap<String, String>) -> Result<Self, TemplateError> {
        if text.is_empty() {
            return Err(TemplateError::Empty);
        }
        let patterns = compile_patterns(holes)?;
        let mut lines = Vec::new();
        for (index, line) in text.split('\n').enumerate() {
            lines.push(parse_line(line, index + 1, &patterns)?);
        }
        for name in patterns.keys() {
            let used = lines
                .iter()
                .flatten()
                .any(|s| matches!(s, Segment::Hole(h) if h == name));
            if !used {
                return Err(TemplateError::UnusedHole { name: name.clone() });
            }
        }
        Ok(Self { lines, patterns })
    }

    /// Compares `live` with the template: `Ok` with each hole's value when it matches, otherwise the
    /// first differences, each naming its line.
    pub fn compare(&self, live: &str) -> Result<BTreeMap<String, String>, Vec<Difference>> {
        let live_lines: Vec<&str> = live.split('\n').collect();
        let mut values = BTreeMap::new();
        let mut differences = Vec::new();
        let (mut t, mut l) = (0, 0);
        while (t < self.lines.len() || l < live_lines.len()) && differences.len() < MAX_DIFFERENCES
        {
            let template_line = self.lines.get(t);
            let live_line = live_lines.get(l).copied();
            if let (Some(segments), Some(text)) = (template_line, live_line)
                && let Ok(found) = self.match_line(segments, text, &values)
            {
                values = found;
                t += 1;
                l += 1;
                continue;
            }
            let matches_at = |t: usize, l: usize| match (self.lines.get(t), live_lines.get(l)) {
                (Some(segments), Some(text)) => self.match_line(segments, text, &values).is_ok(),
                _ => false,
            };
            match (template_line, live_line) {
                (Some(_), Some(text)) if matches_at(t, l + 1) => {
                    differences.push(Difference::extra(l + 1, text));
                    l += 1;
                }
                (Some(segments), Some(_)) if matches_at(t + 1, l) => {
                    differences.push(Difference::missing(l + 1, &render(segments)));
                    t += 1;
                }
                (Some(segments), Some(text)) => {
                    let why = match self.match_line(segments, text, &values) {
                        Err(why) => why,
                        Ok(_) => LineMismatch::Text {
                            expected_from: 0,
                            live_from: 0,
                        },
                    };
                    differences.push(Difference::changed(l + 1, segments, text, why));
                    t += 1;
                    l += 1;
                }
                (Some(segments), None) => {
                    differences.push(Difference::missing(l + 1, &render(segments)));
                    t += 1;
                }
                (None, Some(text)) => {
                    differences.push(Difference::extra(l + 1, text));
                    l += 1;
                }
                (None, None) => break,
            }
        }
        if differences.is_empty() {
            Ok(values)
        } else {
            Err(differences)
        }
    }

    /// Matches one live line against one template line, given the values holes already have: the
    /// first unacceptable value or the first literal difference, whichever comes first, is the error.
    fn match_line(
        &self,
        segments: &[Segment],
        live: &str,
        known: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>, LineMismatch> {
        let reading = self.read_line(segments, live, known);
        if let Some(rejected) = reading.holes.into_iter().find(|h| h.verdict.is_err()) {
            return Err(LineMismatch::Hole {
                why: rejected.verdict.err().unwrap_or_default(),
                name: rejected.name,
                value: rejected.value,
            });
        }
        match reading.text_mismatch {
            Some(mismatch) => Err(mismatch),
            None => Ok(reading.values),
        }
    }

    /// Reads one live line against one template line up to the first literal difference: each hole's
    /// value with its verdict (unacceptable values are read on, not stopped at), and the difference.
    fn read_line(
        &self,
        segments: &[Segment],
        live: &str,
        known: &BTreeMap<String, String>,
    ) -> LineReading {
        let mut reading = LineReading {
            values: known.clone(),
            holes: Vec::new(),
            text_mismatch: None,
        };
        let mut rest = live;
        let mut expected_from = 0;
        for segment in segments {
            let live_from = live.len() - rest.len();
            match segment {
                Segment::Literal(text) => match rest.strip_prefix(text.as_str()) {
                    Some(after) => rest = after,
                    None => {
                        let common = common_prefix_len(text, rest);
                        reading.text_mismatch = Some(LineMismatch::Text {
                            expected_from: expected_from + common,
                            live_from: live_from + common,
                        });
                        return reading;
                    }
                },
                Segment::Hole(name) => {
                    let end = rest.find(|c| !is_value_char(c)).unwrap_or(rest.len());
                    let value = &rest[..end];
                    let verdict = self.check_value(name, value, &reading.values);
                    if verdict.is_ok() {
                        reading.values.insert(name.clone(), value.to_owned());
                    }
                    reading.holes.push(HoleRead {
                        name: name.clone(),
                        value: value.to_owned(),
                        verdict,
                    });
                    rest = &rest[end..];
                }
            }
            expected_from += segment_len(segment);
        }
        if !rest.is_empty() {
            reading.text_mismatch = Some(LineMismatch::Text {
                expected_from,
                live_from: live.len() - rest.len(),
            });
        }
        reading
    }

    /// The template with its holes filled from `live`, for showing Alice a diff: each template line
    /// that has holes is matched, in order, with the next live line equal to it outside its holes,
    /// and replaced by that line (its values read as they are, acceptable or not); a line with holes
    /// that matches no live line keeps them as `{{name}}`. Also each hole, in order of first use,
    /// with its live value and, when unacceptable or not found, why.
    pub fn fill(&self, live: &str) -> FilledTemplate {
        let live_lines: Vec<&str> = live.split('\n').collect();
        let mut known = BTreeMap::new();
        let mut readings: Vec<HoleValue> = Vec::new();
        let mut text_lines = Vec::with_capacity(self.lines.len());
        let mut next_live = 0;
        for segments in &self.lines {
            let has_holes = segments.iter().any(|s| matches!(s, Segment::Hole(_)));
            let matched = has_holes
                .then(|| {
                    (next_live..live_lines.len()).find_map(|l| {
                        let reading = self.read_line(segments, live_lines[l], &known);
                        reading.text_mismatch.is_none().then_some((l, reading))
                    })
                })
                .flatten();
            let Some((l, reading)) = matched else {
                text_lines.push(render(segments));
                continue;
            };
            next_live = l + 1;
            known = reading.values;
            text_lines.push(live_lines[l].to_owned());
            for hole in reading.holes {
                let value = HoleValue {
                    pattern: self.pattern_source(&hole.name),
                    problem: hole.verdict.err(),
                    value: Some(hole.value),
                    name: hole.name,
                };
                match readings.iter_mut().find(|r| r.name == value.name) {
                    Some(earlier) if earlier.problem.is_none() && value.problem.is_some() => {
                        *earlier = value;
                    }
                    Some(_) => {}
                    None => readings.push(value),
                }
            }
        }
        let rejected = self.rejected_values(live);
        for name in self.holes_in_order() {
            if readings.iter().any(|r| r.name == name) {
                continue;
            }
            let (value, problem) = match rejected.iter().find(|(n, _, _)| *n == name) {
                Some((_, value, why)) => (Some(value.clone()), why.clone()),
                None => (
                    None,
                    "no live line equals the template's line holding it outside its holes"
                        .to_owned(),
                ),
            };
            readings.push(HoleValue {
                pattern: self.pattern_source(&name),
                name,
                value,
                problem: Some(problem),
            });
        }
        FilledTemplate {
            text: text_lines.join("\n"),
            holes: readings,
        }
    }

    /// The values [`Self::compare`] rejected, each with its hole and why.
    fn rejected_values(&self, live: &str) -> Vec<(String, String, String)> {
        match self.compare(live) {
            Ok(_) => Vec::new(),
            Err(differences) => differences.into_iter().filter_map(|d| d.rejected).collect(),
        }
    }

    /// Every hole's name, in order of first use.
    fn holes_in_order(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for segment in self.lines.iter().flatten() {
            if let Segment::Hole(name) = segment
                && !names.contains(name)
            {
                names.push(name.clone());
            }
        }
        names
    }

    fn pattern_source(&self, name: &str) -> String {
        self.patterns
            .get(name)
            .map(|p| p.source.clone())
            .unwrap_or_default()
    }

    fn check_value(
        &self,
        name: &str,
        value: &str,
        known: &BTreeMap<String, String>,
    ) -> Result<(), String> {
        if !value.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err("a value must start with a letter or digit".to_owned());
        }
        if value.ends_with(':') {
            return Err("a value must not end with `:`".to_owned());
        }
        let Some(pattern) = self.patterns.get(name) else {
            return Err("the hole has no pattern".to_owned());
        };
        if !pattern.regex.is_match(value) {
            return Err(format!("does not match the pattern `{}`", pattern.source));
        }
        match known.get(name) {
            Some(earlier) if earlier != value => Err(format!(
                "differs from the value {earlier:?} the same hole has earlier"
            )),
            _ => Ok(()),
        }
    }
}

/// One line read against a template line: the values known after it, each hole read, and the first
/// literal difference (the line is read no further).
struct LineReading {
    values: BTreeMap<String, String>,
    holes: Vec<HoleRead>,
    text_mismatch: Option<LineMismatch>,
}

/// One hole's value as read, and why it is not acceptable.
struct HoleRead {
    name: String,
    value: String,
    verdict: Result<(), String>,
}

/// The template with its holes filled from a live text ([`CloudConfigTemplate::fill`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilledTemplate {
    pub text: String,
    pub holes: Vec<HoleValue>,
}

/// One hole with the live value read for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoleValue {
    pub name: String,
    /// Its pattern as Alice wrote it.
    pub pattern: String,
    /// The live value, when a live line holding it was found.
    pub value: Option<String>,
    /// Why the value is not acceptable, or why none was found; `None` when it is acceptable.
    pub problem: Option<String>,
}

/// Why one line did not match.
#[derive(Debug, Clone, PartialEq, Eq)]
enum LineMismatch {
    /// Literal text differs; byte offsets of the first difference in the rendered template line
    /// and in the live line.
    Text {
        expected_from: usize,
        live_from: usize,
    },
    /// A hole's value is not acceptable.
    Hole {
        name: String,
        value: String,
        why: String,
    },
}

/// One difference between the live user-data and the template, for Alice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// 1-based line number in the live user-data.
    pub line: usize,
    /// What differs, with the expected and live text.
    pub description: String,
    /// When the difference is a hole's unacceptable value: the hole, the value and why.
    pub rejected: Option<(String, String, String)>,
}

impl Difference {
    fn extra(line: usize, live: &str) -> Self {
        Self {
            line,
            description: format!("line {line}: not in the template: {}", excerpt(live)),
            rejected: None,
        }
    }

    fn missing(line: usize, expected: &str) -> Self {
        Self {
            line,
            description: format!(
                "line {line}: the template's line {} is missing",
                excerpt(expected)
            ),
            rejected: None,
        }
    }

    fn changed(line: usize, segments: &[Segment], live: &str, why: LineMismatch) -> Self {
        let mut rejected = None;
        let description = match why {
            LineMismatch::Hole { name, value, why } => {
                let text = format!(
                    "line {line}: the value {} of hole `{{{{{name}}}}}` is not accepted: {why}",
                    excerpt(&value)
                );
                rejected = Some((name, value, why));
                text
            }
            LineMismatch::Text {
                expected_from,
                live_from,
            } => {
                let expected = render(segments);
                let expected_tail = expected.get(expected_from..).unwrap_or(&expected);
                let live_tail = live.get(live_from..).unwrap_or(live);
                let column = live[..live_from.min(live.len())].chars().count() + 1;
                let mut text = format!("line {line}, column {column}: expected ");
                let _ = write!(
                    text,
                    "{}, live has {}",
                    excerpt(expected_tail),
                    excerpt(live_tail)
                );
                text
            }
        };
        Self {
            line,
            description,
            rejected,
        }
    }
}

/// Renders the differences for a check's failure reason.
pub fn describe(differences: &[Difference]) -> String {
    differences
        .iter()
        .map(|d| d.description.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

fn compile_patterns(
    holes: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, HolePattern>, TemplateError> {
    holes
        .iter()
        .map(|(name, source)| {
            if !is_hole_name(name) {
                return Err(TemplateError::BadPattern {
                    name: name.clone(),
                    reason:
                        "hole names are a lower-case letter, then lower-case letters, digits or `_`"
                            .to_owned(),
                });
            }
            // The pattern must stand on its own (balanced), so that it cannot close the anchoring
            // group below and escape it (`x)|(?:.*`).
            Regex::new(source).map_err(|e| TemplateError::BadPattern {
                name: name.clone(),
                reason: e.to_string(),
            })?;
            let regex = Regex::new(&format!(r"\A(?:{source})\z")).map_err(|e| {
                TemplateError::BadPattern {
                    name: name.clone(),
                    reason: e.to_string(),
                }
            })?;
            Ok((
                name.clone(),
                HolePattern {
                    source: source.clone(),
                    regex,
                },
            ))
        })
        .collect()
}

fn parse_line(
    line: &str,
    number: usize,
    patterns: &BTreeMap<String, HolePattern>,
) -> Result<Vec<Segment>, TemplateError> {
    let mut segments = Vec::new();
    let mut rest = line;
    while let Some(open) = rest.find("{{") {
        let after_open = &rest[open + 2..];
        let close = after_open
            .find("}}")
            .ok_or(TemplateError::BadHole { line: number })?;
        let name = &after_open[..close];
        if !is_hole_name(name) {
            return Err(TemplateError::BadHole { line: number });
        }
        if !patterns.contains_key(name) {
            return Err(TemplateError::UndeclaredHole {
                line: number,
                name: name.to_owned(),
            });
        }
        let after_hole = &after_open[close + 2..];
        if let Some(next) = after_hole.chars().next()
            && (is_value_char(next) || next == '{')
        {
            return Err(TemplateError::AmbiguousHole {
                line: number,
                name: name.to_owned(),
                next,
            });
        }
        if open > 0 {
            segments.push(Segment::Literal(rest[..open].to_owned()));
        }
        segments.push(Segment::Hole(name.to_owned()));
        rest = after_hole;
    }
    if !rest.is_empty() || segments.is_empty() {
        segments.push(Segment::Literal(rest.to_owned()));
    }
    Ok(segments)
}

fn is_hole_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn segment_len(segment: &Segment) -> usize {
    match segment {
        Segment::Literal(text) => text.len(),
        Segment::Hole(name) => name.len() + 4,
    }
}

/// A template line as Alice wrote it, holes as `{{name}}`.
fn render(segments: &[Segment]) -> String {
    segments
        .iter()
        .map(|s| match s {
            Segment::Literal(text) => text.clone(),
            Segment::Hole(name) => format!("{{{{{name}}}}}"),
        })
        .collect()
}

fn common_prefix_len(a: &str, b: &str) -> usize {
    a.char_indices()
        .zip(b.chars())
        .find(|((_, x), y)| x != y)
        .map_or_else(|| a.len().min(b.len()), |((i, _), _)| i)
}

/// A quoted, escaped excerpt (control characters and invisible ones shown as escapes).
fn excerpt(text: &str) -> String {
    let shown: String = text.chars().take(EXCERPT_CHARS).collect();
    if shown.len() < text.len() {
        format!("{shown:?}…")
    } else {
        format!("{shown:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holes(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn template() -> CloudConfigTemplate {
        CloudConfigTemplate::parse(
            "#cloud-config\nruncmd:\n- run img@{{digest}} --address {{address}}\n- done\n",
            &holes(&[
                ("digest", "sha256:[0-9a-f]{4}"),
                ("address", "[a-z.]+:[0-9]+"),
            ]),
        )
        .unwrap()
    }

    #[test]
    fn filled_template_matches_and_reports_values() {
        let values = template()
            .compare("#cloud-config\nruncmd:\n- run img@sha256:ab12 --address a.b:443\n- done\n")
            .unwrap();
        assert_eq!(values["digest"], "sha256:ab12");
        assert_eq!(values["address"], "a.b:443");
    }

    #[test]
    fn a_value_cannot_swallow_a_newline_or_shell() {
        for live in [
            "#cloud-config\nruncmd:\n- run img@sha256:ab12 --address a.b:443\n- iptables -P INPUT ACCEPT\n- done\n",
            "#cloud-config\nruncmd:\n- run img@sha256:ab12 --address a.b:443;reboot\n- done\n",
            "#cloud-config\nruncmd:\n- run img@sha256:ab12 --address a.b:443 $(x)\n- done\n",
        ] {
            let differences = template().compare(live).unwrap_err();
            assert!(!differences.is_empty(), "{live}");
        }
    }

    #[test]
    fn crlf_trailing_space_and_unicode_lookalikes_differ() {
        for live in [
            "#cloud-config\r\nruncmd:\n- run img@sha256:ab12 --address a.b:443\n- done\n",
            "#cloud-config\nruncmd: \n- run img@sha256:ab12 --address a.b:443\n- done\n",
            "#cloud-config\nruncmd:\n- run img@sha256:ab12 --address a.b:443\n- d\u{043e}ne\n",
            "#cloud-config\nruncmd:\n- run img@sha256:ab12 --address a.b:443\n- done",
        ] {
            assert!(template().compare(live).is_err(), "{live:?}");
        }
    }

    #[test]
    fn the_difference_names_line_column_and_hole() {
        let differences = template()
            .compare("#cloud-config\nruncmd:\n- run img:latest --address a.b:443\n- done\n")
            .unwrap_err();
        assert_eq!(differences[0].line, 3);
        assert!(
            differences[0]
                .description
                .starts_with("line 3, column 10: expected \"@{{digest}}"),
            "{differences:?}"
        );
        let differences = template()
            .compare("#cloud-config\nruncmd:\n- run img@sha256:zz12 --address a.b:443\n- done\n")
            .unwrap_err();
        assert!(
            differences[0]
                .description
                .contains("hole `{{digest}}` is not accepted: does not match"),
            "{differences:?}"
        );
    }

    #[test]
    fn inserted_and_missing_lines_are_named() {
        let differences = template()
            .compare("#cloud-config\nbootcmd: []\nruncmd:\n- run img@sha256:ab12 --address a.b:443\n- done\n")
            .unwrap_err();
        assert_eq!(
            differences[0].description,
            "line 2: not in the template: \"bootcmd: []\""
        );
        assert_eq!(differences.len(), 1);
        let differences = template()
            .compare("#cloud-config\nruncmd:\n- run img@sha256:ab12 --address a.b:443\n")
            .unwrap_err();
        assert_eq!(
            differences[0].description,
            "line 4: the template's line \"- done\" is missing"
        );
    }

    #[test]
    fn option_shaped_or_key_shaped_values_are_refused_whatever_the_pattern() {
        let t = CloudConfigTemplate::parse("- run {{x}} y\n", &holes(&[("x", ".*")])).unwrap();
        assert!(t.compare("- run ok y\n").is_ok());
        assert!(t.compare("- run --privileged y\n").is_err());
        assert!(t.compare("- run a: y\n").is_err());
        assert!(t.compare("- run  y\n").is_err());
    }

    #[test]
    fn a_hole_used_twice_must_have_one_value() {
        let t = CloudConfigTemplate::parse("{{x}} {{x}}\n", &holes(&[("x", "[a-z]+")])).unwrap();
        assert!(t.compare("ab ab\n").is_ok());
        assert!(t.compare("ab cd\n").is_err());
    }

    #[test]
    fn bad_templates_are_configuration_errors() {
        let h = holes(&[("x", "[a-z]+")]);
        assert!(matches!(
            CloudConfigTemplate::parse("{{y}} a\n{{x}}\n", &h),
            Err(TemplateError::UndeclaredHole { line: 1, .. })
        ));
        assert!(matches!(
            CloudConfigTemplate::parse("a\n", &h),
            Err(TemplateError::UnusedHole { .. })
        ));
        assert!(matches!(
            CloudConfigTemplate::parse("{{x}}.b\n", &h),
            Err(TemplateError::AmbiguousHole { next: '.', .. })
        ));
        assert!(matches!(
            CloudConfigTemplate::parse("{{x}}{{x}}\n", &h),
            Err(TemplateError::AmbiguousHole { next: '{', .. })
        ));
        assert!(matches!(
            CloudConfigTemplate::parse("{{ x }}\n", &h),
            Err(TemplateError::BadHole { line: 1 })
        ));
        assert!(matches!(
            CloudConfigTemplate::parse("{{x}}\n", &holes(&[("x", "(")])),
            Err(TemplateError::BadPattern { .. })
        ));
    }

    #[test]
    fn patterns_are_anchored() {
        let t = CloudConfigTemplate::parse("a {{x}}\n", &holes(&[("x", "[0-9]+")])).unwrap();
        assert!(t.compare("a 12\n").is_ok());
        assert!(t.compare("a 12b\n").is_err());
        let t = CloudConfigTemplate::parse("a {{x}}\n", &holes(&[("x", "ab|cd")])).unwrap();
        assert!(t.compare("a abd\n").is_err());
    }

    #[test]
    fn fill_puts_live_values_in_matched_lines_and_keeps_holes_of_unmatched_ones() {
        let filled = template()
            .fill("#cloud-config\nruncmd:\n- run img@sha256:zz12 --address a.b:443\n- done\n");
        assert_eq!(
            filled.text,
            "#cloud-config\nruncmd:\n- run img@sha256:zz12 --address a.b:443\n- done\n"
        );
        assert_eq!(filled.holes[0].name, "digest");
        assert_eq!(filled.holes[0].value.as_deref(), Some("sha256:zz12"));
        assert!(
            filled.holes[0]
                .problem
                .as_deref()
                .is_some_and(|p| p.contains("does not match the pattern `sha256:[0-9a-f]{4}`")),
            "{filled:?}"
        );
        assert_eq!(filled.holes[1].value.as_deref(), Some("a.b:443"));
        assert_eq!(filled.holes[1].problem, None);

        let filled = template().fill(
            "#cloud-config\nbootcmd: []\nruncmd:\n- run img:latest --address a.b:443\n- done\n",
        );
        assert_eq!(
            filled.text,
            "#cloud-config\nruncmd:\n- run img@{{digest}} --address {{address}}\n- done\n"
        );
        assert!(
            filled
                .holes
                .iter()
                .all(|h| h.value.is_none() && h.problem.is_some())
        );
    }

    #[test]
    fn fill_reports_the_value_compare_rejects_when_the_line_differs_elsewhere_too() {
        let t = CloudConfigTemplate::parse(
            "run {{repo}}@{{digest}} x\n",
            &holes(&[("repo", "[a-z]+"), ("digest", "[0-9]+")]),
        )
        .unwrap();
        let filled = t.fill("run repo:latest x\n");
        assert_eq!(filled.text, "run {{repo}}@{{digest}} x\n");
        assert_eq!(filled.holes[0].value.as_deref(), Some("repo:latest"));
        assert!(filled.holes[0].problem.is_some());
        assert_eq!(filled.holes[1].value, None);
    }

    #[test]
    fn a_pattern_cannot_close_the_anchoring_group_and_escape_it() {
        let escaping = holes(&[("x", "x)|(?:.*")]);
        assert!(matches!(
            CloudConfigTemplate::parse("a {{x}}\n", &escaping),
            Err(TemplateError::BadPattern { .. })
        ));
    }
}
