//! Recursive-descent parser for the filter subset (see the module docs for the grammar).

use super::{Filter, FilterError, Op};

/// How deeply parentheses and negations (`NOT`, `-`) may nest; deeper filters are refused.
pub(crate) const MAX_DEPTH: usize = 64;

/// Parses a filter; an empty or blank filter matches everything.
pub(crate) fn parse(text: &str) -> Result<Filter, FilterError> {
    let mut parser = Parser {
        chars: text.chars().collect(),
        pos: 0,
        depth: 0,
    };
    parser.skip_ws();
    if parser.at_end() {
        return Ok(Filter::All);
    }
    let filter = parser.and_expr()?;
    parser.skip_ws();
    if !parser.at_end() {
        return Err(parser.error(format!("unexpected `{}`", parser.chars[parser.pos])));
    }
    Ok(filter)
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    /// Parentheses and negations open around the current position (at most [`MAX_DEPTH`]).
    depth: usize,
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '@'
}

impl Parser {
    fn error(&self, problem: impl Into<String>) -> FilterError {
        FilterError {
            position: self.pos,
            problem: problem.into(),
        }
    }

    /// Parses one more level of parentheses or negation, refusing more than [`MAX_DEPTH`]: the
    /// parser (and the evaluation and the drop of what it builds) recurse once per level.
    fn nested(
        &mut self,
        parse: impl FnOnce(&mut Self) -> Result<Filter, FilterError>,
    ) -> Result<Filter, FilterError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error(format!(
                "parentheses and negations nest more than {MAX_DEPTH} deep"
            )));
        }
        self.depth += 1;
        let filter = parse(self);
        self.depth -= 1;
        filter
    }

    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// Consumes `word` if it is next as a whole keyword (followed by space, `(` or end).
    fn keyword(&mut self, word: &str) -> bool {
        let len = word.chars().count();
        let matches = self.chars.len() >= self.pos + len
            && self.chars[self.pos..self.pos + len]
                .iter()
                .copied()
                .eq(word.chars());
        let boundary = self
            .chars
            .get(self.pos + len)
            .is_none_or(|c| c.is_whitespace() || *c == '(');
        if matches && boundary {
            self.pos += len;
            true
        } else {
            false
        }
    }

    fn and_expr(&mut self) -> Result<Filter, FilterError> {
        let mut terms = vec![self.or_expr()?];
        loop {
            self.skip_ws();
            if self.at_end() || self.peek() == Some(')') {
                break;
            }
            self.keyword("AND");
            self.skip_ws();
            terms.push(self.or_expr()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Filter::And(terms)
        })
    }

    fn or_expr(&mut self) -> Result<Filter, FilterError> {
        let mut terms = vec![self.unary()?];
        loop {
            let save = self.pos;
            self.skip_ws();
            if self.keyword("OR") {
                self.skip_ws();
                terms.push(self.unary()?);
            } else {
                self.pos = save;
                break;
            }
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Filter::Or(terms)
        })
    }

    fn unary(&mut self) -> Result<Filter, FilterError> {
        self.skip_ws();
        if self.keyword("NOT") {
            self.skip_ws();
            return self.nested(|p| Ok(Filter::Not(Box::new(p.unary()?))));
        }
        if self.peek() == Some('-') {
            self.pos += 1;
            return self.nested(|p| Ok(Filter::Not(Box::new(p.unary()?))));
        }
        if self.keyword("AND") || self.keyword("OR") {
            return Err(self.error("operator AND/OR without a left-hand term"));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Filter, FilterError> {
        self.skip_ws();
        match self.peek() {
            None => Err(self.error("the filter ends where a term was expected")),
            Some('(') => {
                self.pos += 1;
                self.skip_ws();
                if self.peek() == Some(')') {
                    return Err(self.error("empty parentheses"));
                }
                let inner = self.nested(Self::and_expr)?;
                self.skip_ws();
                if self.peek() != Some(')') {
                    return Err(self.error("missing `)`"));
                }
                self.pos += 1;
                Ok(inner)
            }
            Some(_) => self.comparison(),
        }
    }

    fn quoted(&mut self) -> Result<String, FilterError> {
        // at the opening quote
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err(self.error("unterminated quoted string")),
                Some('"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some('\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(c) => {
                            out.push(c);
                            self.pos += 1;
                        }
                        None => return Err(self.error("unterminated escape")),
                    }
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn path(&mut self) -> Result<Vec<String>, FilterError> {
        let mut segments = Vec::new();
        loop {
            let segment = if self.peek() == Some('"') {
                self.quoted()?
            } else {
                let start = self.pos;
                while self.peek().is_some_and(is_word_char) {
                    self.pos += 1;
                }
                if start == self.pos {
                    return Err(match self.peek() {
                        Some(c) => {
                            self.error(format!("unexpected `{c}` where a field name was expected"))
                        }
                        None => self.error("a field name was expected"),
                    });
                }
                self.chars[start..self.pos].iter().collect()
            };
            segments.push(segment);
            if self.peek() == Some('.') {
                self.pos += 1;
            } else {
                return Ok(segments);
            }
        }
    }

    fn operator(&mut self) -> Result<Op, FilterError> {
        let two: String = self.chars.iter().skip(self.pos).take(2).collect();
        let (op, len) = match two.as_str() {
            "=~" | "!~" => {
                return Err(
                    self.error("regular expression operators (=~, !~) are not supported by gcpsim")
                );
            }
            "!=" => (Op::Ne, 2),
            "<=" => (Op::Le, 2),
            ">=" => (Op::Ge, 2),
            _ => match self.peek() {
                Some('=') => (Op::Eq, 1),
                Some('<') => (Op::Lt, 1),
                Some('>') => (Op::Gt, 1),
                Some(':') => (Op::Has, 1),
                _ => {
                    return Err(self.error(
                        "a comparison operator (=, !=, <, <=, >, >=, :) was expected; bare text search is not supported",
                    ));
                }
            },
        };
        self.pos += len;
        Ok(op)
    }

    fn value(&mut self) -> Result<String, FilterError> {
        if self.peek() == Some('"') {
            return self.quoted();
        }
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| !c.is_whitespace() && c != '(' && c != ')' && c != '"')
        {
            self.pos += 1;
        }
        if start == self.pos {
            return Err(self.error("a value was expected after the operator"));
        }
        Ok(self.chars[start..self.pos].iter().collect())
    }

    fn comparison(&mut self) -> Result<Filter, FilterError> {
        let path = self.path()?;
        self.skip_ws();
        let op = self.operator()?;
        self.skip_ws();
        let value = self.value()?;
        Ok(Filter::Compare { path, op, value })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(path: &[&str], op: Op, value: &str) -> Filter {
        Filter::Compare {
            path: path.iter().map(|s| s.to_string()).collect(),
            op,
            value: value.to_string(),
        }
    }

    /// Parentheses 6,000 deep (12,003 characters, within Cloud Logging's 20,000-character filter
    /// limit) or 20,000 negations overflowed the stack (the gcpsim process aborts); found with the
    /// sim_logfilter fuzz target's binary on a hand-made input (fuzz/README.md).
    #[test]
    fn fuzz_regression_deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = [
            format!("{}a=1{}", "(".repeat(6000), ")".repeat(6000)),
            format!("{}a=1", "-".repeat(20_000)),
            format!("{}a=1", "NOT ".repeat(5000)),
        ];
        for text in deep {
            let error = parse(&text).unwrap_err();
            assert!(error.problem.contains("deep"), "{error}");
        }
        let at_the_limit = format!("{}a=1{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert_eq!(parse(&at_the_limit).unwrap(), cmp(&["a"], Op::Eq, "1"));
    }

    #[test]
    fn fuzz_regression_a_filter_at_the_depth_limit_refuses_one_level_more() {
        // Found by the sim_logfilter fuzz target: negations count towards the limit as parentheses
        // do, so a filter nested to the limit parses and the same filter in parentheses does not.
        let negations = format!("{}a=1", "-".repeat(MAX_DEPTH));
        assert_eq!(
            parse(&negations).unwrap(),
            (0..MAX_DEPTH).fold(cmp(&["a"], Op::Eq, "1"), |inner, _| Filter::Not(Box::new(
                inner
            )))
        );
        let error = parse(&format!("({negations})")).unwrap_err();
        assert!(error.problem.contains("nest more than"), "{error}");
        let mixed = format!(
            "{}{}a=1{}",
            "(".repeat(MAX_DEPTH / 2),
            "NOT ".repeat(MAX_DEPTH / 2),
            ")".repeat(MAX_DEPTH / 2)
        );
        assert!(parse(&mixed).is_ok());
        assert!(parse(&format!("-{mixed}")).is_err());
    }

    #[test]
    fn gcloud_style_filter_parses_into_and_of_comparisons() {
        let f = parse(r#"timestamp>="2026-11-28T00:00:00Z" AND protoPayload.methodName="v1.compute.instances.setMetadata""#).unwrap();
        assert_eq!(
            f,
            Filter::And(vec![
                cmp(&["timestamp"], Op::Ge, "2026-11-28T00:00:00Z"),
                cmp(
                    &["protoPayload", "methodName"],
                    Op::Eq,
                    "v1.compute.instances.setMetadata"
                ),
            ])
        );
    }

    #[test]
    fn or_binds_tighter_than_and_and_whitespace_is_implicit_and() {
        let f = parse("a=1 b=2 OR c=3").unwrap();
        assert_eq!(
            f,
            Filter::And(vec![
                cmp(&["a"], Op::Eq, "1"),
                Filter::Or(vec![cmp(&["b"], Op::Eq, "2"), cmp(&["c"], Op::Eq, "3")]),
            ])
        );
    }

    #[test]
    fn quoted_path_segment_and_spaces_around_operator_parse() {
        let f = parse(r#"protoPayload."@type"="type.googleapis.com/google.cloud.audit.AuditLog" AND timestamp > "2021-06-22T11:35:00Z""#).unwrap();
        assert_eq!(
            f,
            Filter::And(vec![
                cmp(
                    &["protoPayload", "@type"],
                    Op::Eq,
                    "type.googleapis.com/google.cloud.audit.AuditLog"
                ),
                cmp(&["timestamp"], Op::Gt, "2021-06-22T11:35:00Z"),
            ])
        );
    }

    #[test]
    fn not_minus_and_parentheses_parse() {
        let f = parse("NOT (a=1 OR b=2) -c:x").unwrap();
        assert_eq!(
            f,
            Filter::And(vec![
                Filter::Not(Box::new(Filter::Or(vec![
                    cmp(&["a"], Op::Eq, "1"),
                    cmp(&["b"], Op::Eq, "2")
                ]))),
                Filter::Not(Box::new(cmp(&["c"], Op::Has, "x"))),
            ])
        );
    }

    #[test]
    fn unquoted_value_may_contain_colons_slashes_and_percent() {
        let f = parse("logName=projects/p/logs/cloudaudit.googleapis.com%2Factivity timestamp>=2026-01-01T00:00:00Z").unwrap();
        assert_eq!(
            f,
            Filter::And(vec![
                cmp(
                    &["logName"],
                    Op::Eq,
                    "projects/p/logs/cloudaudit.googleapis.com%2Factivity"
                ),
                cmp(&["timestamp"], Op::Ge, "2026-01-01T00:00:00Z"),
            ])
        );
    }

    #[test]
    fn unsupported_syntax_is_rejected_with_a_position() {
        for bad in [
            "hello", "a=~\"x\"", "(a=1", "a=1 )", "a=", "a=\"open", "AND a=1", "()",
        ] {
            let err = parse(bad).unwrap_err();
            assert!(!err.problem.is_empty(), "{bad}");
        }
        assert_eq!(parse("   ").unwrap(), Filter::All);
    }
}
