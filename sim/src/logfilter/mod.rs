//! The Cloud Logging filter subset gcpsim understands: comparisons on field paths
//! (`=`, `!=`, `<`, `<=`, `>`, `>=`, `:`), `AND`, `OR`, `NOT` / `-`, parentheses, implicit AND,
//! quoted strings and quoted path segments (`protoPayload."@type"`). As in Cloud Logging, `OR`
//! binds tighter than `AND`. Anything else is an error (Logging answers 400 INVALID_ARGUMENT).

mod eval;
mod parser;

pub(crate) use parser::parse;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `:` — "has": substring match (case-insensitive).
    Has,
}

/// A parsed filter expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Filter {
    /// The empty filter: matches everything.
    All,
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    Compare {
        /// Field path segments, e.g. `["resource", "labels", "instance_id"]`.
        path: Vec<String>,
        op: Op,
        value: String,
    },
}

/// Why a filter was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid filter at character {position}: {problem}")]
pub(crate) struct FilterError {
    pub position: usize,
    pub problem: String,
}
