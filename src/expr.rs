//! SQL expressions of pipeline steps: which columns they read, and inside which functions.

use std::ops::ControlFlow;

use sqlparser::ast::{Expr, Ident, ObjectNamePart, Visit, Visitor};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};

/// A column reference found in an expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnRef {
    /// Identifier parts joined with dots, e.g. `accounts.security_contacts.phone_number`.
    pub name: String,
    /// Enclosing function names, outermost first, lower-case.
    pub functions: Vec<String>,
    /// Byte range of the reference within the expression text.
    pub range: (u32, u32),
}

/// Deep enough for any real expression; stops hostile input before the stack does.
const RECURSION_LIMIT: usize = 64;
/// A flat chain of operators is not limited by the parser's recursion limit, yet parses
/// into a tree as deep as it is long, which is then walked and dropped recursively.
/// Real expressions are far shorter; these bounds keep that depth (and the work) small.
const MAX_BYTES: usize = 16 * 1024;
const MAX_TOKENS: usize = 1_000;

struct Collector<'a> {
    text: &'a str,
    functions: Vec<String>,
    refs: Vec<ColumnRef>,
}

impl Collector<'_> {
    /// Byte offset of a 1-based line/column (in characters) inside the expression.
    fn offset(&self, line: u64, column: u64) -> u32 {
        let mut offset = 0usize;
        for (i, l) in self.text.split_inclusive('\n').enumerate() {
            if i + 1 == line as usize {
                let within = l
                    .char_indices()
                    .nth(column.saturating_sub(1) as usize)
                    .map_or(l.len(), |(b, _)| b);
                return (offset + within) as u32;
            }
            offset += l.len();
        }
        self.text.len() as u32
    }

    fn record(&mut self, idents: &[Ident]) {
        let (Some(first), Some(last)) = (idents.first(), idents.last()) else {
            return;
        };
        let name = idents
            .iter()
            .map(|i| i.value.as_str())
            .collect::<Vec<_>>()
            .join(".");
        let start = self.offset(first.span.start.line, first.span.start.column);
        let end = self.offset(last.span.end.line, last.span.end.column);
        self.refs.push(ColumnRef {
            name,
            functions: self.functions.clone(),
            range: (start, end.max(start)),
        });
    }
}

fn function_name(f: &sqlparser::ast::Function) -> String {
    match f.name.0.last() {
        Some(ObjectNamePart::Identifier(id)) => id.value.to_lowercase(),
        Some(ObjectNamePart::Function(p)) => p.name.value.to_lowercase(),
        None => String::new(),
    }
}

impl Visitor for Collector<'_> {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        match expr {
            Expr::Function(f) => self.functions.push(function_name(f)),
            Expr::Identifier(id) => self.record(std::slice::from_ref(id)),
            Expr::CompoundIdentifier(ids) => self.record(ids),
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if matches!(expr, Expr::Function(_)) {
            self.functions.pop();
        }
        ControlFlow::Continue(())
    }
}

/// Parses one expression (generic SQL dialect) and returns its column references.
pub fn column_refs(text: &str) -> Result<Vec<ColumnRef>, String> {
    if let Some(r) = plain_column(text) {
        return Ok(vec![r]);
    }
    parse_column_refs(text)
}

/// Most expressions in real manifests are a bare column, `user_id` or
/// `accounts.users.user_id`. Those need no SQL parser: this gives exactly what sqlparser
/// gives for them (a property test checks it), and defers anything else to it, keywords
/// included (`null`, `current_date`, `user`…).
fn plain_column(text: &str) -> Option<ColumnRef> {
    let plain_part = |part: &str| {
        let mut bytes = part.bytes();
        bytes
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
            && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && !is_keyword(part)
    };
    if !text.split('.').all(plain_part) {
        return None;
    }
    Some(ColumnRef {
        name: text.to_string(),
        functions: Vec::new(),
        range: (0, text.len() as u32),
    })
}

fn is_keyword(word: &str) -> bool {
    let upper = word.to_ascii_uppercase();
    sqlparser::keywords::ALL_KEYWORDS
        .binary_search(&upper.as_str())
        .is_ok()
}

fn parse_column_refs(text: &str) -> Result<Vec<ColumnRef>, String> {
    if text.len() > MAX_BYTES {
        return Err(format!(
            "the expression is too long ({} bytes; at most {MAX_BYTES})",
            text.len()
        ));
    }
    let dialect = GenericDialect {};
    let tokens = Tokenizer::new(&dialect, text)
        .tokenize_with_location()
        .map_err(|e| clean(e.to_string()))?;
    let count = tokens
        .iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_)))
        .count();
    if count > MAX_TOKENS {
        return Err(format!(
            "the expression is too long ({count} tokens; at most {MAX_TOKENS})"
        ));
    }
    let mut parser = Parser::new(&dialect)
        .with_recursion_limit(RECURSION_LIMIT)
        .with_tokens_with_locations(tokens);
    let expr = parser.parse_expr().map_err(|e| clean(e.to_string()))?;
    let next = parser.peek_token();
    if next.token != Token::EOF {
        return Err(format!(
            "unexpected `{}` after the end of the expression",
            next.token
        ));
    }
    let mut c = Collector {
        text,
        functions: Vec::new(),
        refs: Vec::new(),
    };
    let _ = expr.visit(&mut c);
    Ok(c.refs)
}

fn clean(msg: String) -> String {
    msg.trim_start_matches("sql parser error: ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<(String, Vec<String>)> {
        column_refs(text)
            .unwrap()
            .into_iter()
            .map(|r| (r.name, r.functions))
            .collect()
    }

    #[test]
    fn qualified_refs_and_enclosing_functions() {
        let r = names(
            "sha256(lower(accounts.security_contacts.email)) = ads.advertiser_uploads.hashed_email",
        );
        assert_eq!(
            r,
            vec![
                (
                    "accounts.security_contacts.email".to_string(),
                    vec!["sha256".to_string(), "lower".to_string()]
                ),
                ("ads.advertiser_uploads.hashed_email".to_string(), vec![]),
            ]
        );
    }

    #[test]
    fn bare_names_count_and_literals() {
        let r = names("COUNT(DISTINCT user_id) + 1");
        assert_eq!(r, vec![("user_id".to_string(), vec!["count".to_string()])]);
        assert!(names("'x' = 'y' AND true").is_empty());
    }

    #[test]
    fn ranges_point_into_the_text() {
        let t = "lower(  ü.x) = b";
        let r = column_refs(t).unwrap();
        assert_eq!(&t[r[0].range.0 as usize..r[0].range.1 as usize], "ü.x");
        assert_eq!(&t[r[1].range.0 as usize..r[1].range.1 as usize], "b");
    }

    proptest::proptest! {
        /// The bare-column shortcut agrees with sqlparser wherever it answers.
        #[test]
        fn plain_columns_match_the_parser(
            parts in proptest::collection::vec(
                "(user|id|null|true|date|select|current_date|_x|a1|[a-zA-Z_][a-zA-Z0-9_]{0,6}|1a|\\$a)",
                1..4,
            )
        ) {
            let text = parts.join(".");
            if let Some(fast) = plain_column(&text) {
                proptest::prop_assert_eq!(Ok(vec![fast]), parse_column_refs(&text));
            }
        }
    }

    #[test]
    fn keywords_and_non_identifiers_go_to_the_parser() {
        for text in [
            "null",
            "t.user",
            "current_date",
            "1a",
            "a b",
            "a.",
            ".a",
            "a.b ",
            "é",
        ] {
            assert!(plain_column(text).is_none(), "{text}");
        }
        assert!(plain_column("accounts.users.user_id").is_some());
    }

    #[test]
    fn errors_are_reported_not_panicked() {
        assert!(column_refs("a = ").is_err());
        assert!(column_refs("a b c").is_err());
        assert!(column_refs(&"(".repeat(10_000)).is_err());
        let chain = vec!["a"; 500].join(" + ");
        assert_eq!(column_refs(&chain).unwrap().len(), 500);
        let long = vec!["a"; 1_001].join("+");
        assert!(column_refs(&long).unwrap_err().contains("too long"));
    }
}
