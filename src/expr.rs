//! SQL expressions of pipeline steps: which columns they read, and inside which functions.

use std::ops::ControlFlow;

use sqlparser::ast::{Expr, Ident, ObjectNamePart, Visit, Visitor};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};

/// A column reference found in an expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ColumnRef {
    /// Identifier parts joined with dots, e.g. `accounts.security_contacts.phone_number`.
    pub name: String,
    /// Enclosing function names, outermost first, lower-case.
    pub functions: Vec<String>,
    /// Byte range of the reference within the expression text.
    pub range: (u32, u32),
    /// A key of a window's `PARTITION BY`/`ORDER BY`: an indirect input, which the
    /// window's function does not sanitize (its `functions` are those inside the key).
    pub window_key: bool,
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
    window: std::collections::HashSet<*const Expr>,
    /// The length of `functions` where each window key being visited starts.
    window_bases: Vec<usize>,
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
        let base = self.window_bases.last().copied().unwrap_or(0);
        self.refs.push(ColumnRef {
            name,
            functions: self.functions[base..].to_vec(),
            range: (start, end.max(start)),
            window_key: !self.window_bases.is_empty(),
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
        if self.window.contains(&(expr as *const Expr)) {
            self.window_bases.push(self.functions.len());
        }
        match expr {
            Expr::Function(f) => {
                self.functions.push(function_name(f));
                for e in crate::sql::window_keys(f) {
                    self.window.insert(e as *const Expr);
                }
            }
            Expr::Identifier(id) => self.record(std::slice::from_ref(id)),
            Expr::CompoundIdentifier(ids) => self.record(ids),
            e => {
                if let Some(name) = crate::sql::special_function(e) {
                    self.functions.push(name.to_string());
                }
            }
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if matches!(expr, Expr::Function(_)) || crate::sql::special_function(expr).is_some() {
            self.functions.pop();
        }
        if self.window.contains(&(expr as *const Expr)) {
            self.window_bases.pop();
        }
        ControlFlow::Continue(())
    }
}

/// Parses one expression (generic SQL dialect) and returns its column references.
pub(crate) fn column_refs(text: &str) -> Result<Vec<ColumnRef>, String> {
    let mut refs = match shortcut(text) {
        Some(refs) => refs,
        None => parse_column_refs(text)?,
    };
    // Kept until linking, for every expression of every manifest: exactly sized, since
    // a vector pushed to starts with room for four references (224 bytes).
    refs.shrink_to_fit();
    Ok(refs)
}

/// Most expressions in real manifests take one of a few shapes: a column
/// (`accounts.users.user_id`), functions around a column (`sha256(lower(email))`), an
/// equality of two such operands (a join key), or `IS [NOT] NULL`. Those are read here
/// without sqlparser, which costs tens of thousands of instructions per expression.
/// Anything else, and any keyword (`null`, `current_date`, `trim` with its own syntax…),
/// goes to sqlparser; a property test checks that this gives exactly sqlparser's answer.
fn shortcut(text: &str) -> Option<Vec<ColumnRef>> {
    let mut s = Scan { text, at: 0 };
    let mut refs = Vec::new();
    s.operand(&mut Vec::new(), &mut refs)?;
    s.space();
    if s.eat("=") {
        s.operand(&mut Vec::new(), &mut refs)?;
    } else if s.word_is("is") {
        s.word_is("not");
        if !s.word_is("null") {
            return None;
        }
    }
    s.space();
    (s.at == text.len()).then_some(refs)
}

/// Words that start something other than a name or a function call at the start of an
/// sqlparser expression: `parse_expr_prefix_by_reserved_word` and the geometric types of
/// sqlparser 0.64, and BINARY (a cast). The property test draws from this list.
const SPECIAL_PREFIXES: [&str; 48] = [
    "approximate",
    "array",
    "binary",
    "box",
    "case",
    "cast",
    "ceil",
    "circle",
    "convert",
    "current_catalog",
    "current_date",
    "current_time",
    "current_timestamp",
    "current_user",
    "exists",
    "extract",
    "false",
    "floor",
    "interval",
    "lambda",
    "line",
    "localtime",
    "localtimestamp",
    "lseg",
    "map",
    "match",
    "not",
    "null",
    "overlay",
    "path",
    "percentile_disc",
    "point",
    "polygon",
    "position",
    "prior",
    "safe_cast",
    "select",
    "session_user",
    "struct",
    "substr",
    "substring",
    "trim",
    "true",
    "try_cast",
    "try_convert",
    "user",
    "with",
    "date",
];

fn special_prefix(word: &str) -> bool {
    SPECIAL_PREFIXES
        .iter()
        .any(|k| word.eq_ignore_ascii_case(k))
}

/// A cursor over an expression for [`shortcut`].
struct Scan<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Scan<'a> {
    fn space(&mut self) {
        let rest = &self.text[self.at..];
        self.at += rest.len() - rest.trim_start_matches(' ').len();
    }

    fn eat(&mut self, token: &str) -> bool {
        let found = self.text[self.at..].starts_with(token);
        if found {
            self.at += token.len();
        }
        found
    }

    /// An unquoted ASCII word, after spaces.
    fn word(&mut self) -> Option<&'a str> {
        self.space();
        let rest = &self.text[self.at..];
        let len = rest
            .bytes()
            .position(|b| !(b.is_ascii_alphanumeric() || b == b'_'))
            .unwrap_or(rest.len());
        let word = &rest[..len];
        if !word.bytes().next()?.is_ascii_alphabetic() && !word.starts_with('_') {
            return None;
        }
        self.at += len;
        Some(word)
    }

    fn word_is(&mut self, expected: &str) -> bool {
        let before = self.at;
        if self
            .word()
            .is_some_and(|w| w.eq_ignore_ascii_case(expected))
        {
            return true;
        }
        self.at = before;
        false
    }

    /// `column` or `function(operand)`; records the column with its enclosing functions.
    fn operand(&mut self, functions: &mut Vec<String>, refs: &mut Vec<ColumnRef>) -> Option<()> {
        self.space();
        let start = self.at;
        let first = self.word()?;
        if special_prefix(first) {
            return None;
        }
        if self.eat("(") {
            functions.push(first.to_ascii_lowercase());
            self.operand(functions, refs)?;
            self.space();
            functions.pop();
            return self.eat(")").then_some(());
        }
        while self.eat(".") {
            let part_at = self.at;
            let part = self.word()?;
            // `a. b` is not one name.
            if self.at - part.len() != part_at {
                return None;
            }
        }
        refs.push(ColumnRef {
            name: self.text[start..self.at].to_string(),
            functions: functions.clone(),
            range: (start as u32, self.at as u32),
            window_key: false,
        });
        Some(())
    }
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
        window: Default::default(),
        window_bases: Vec::new(),
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

    /// Expressions in and around the shortcut's shapes, with keywords and odd spacing.
    fn expression() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let word = "(user|id|null|true|date|timestamp|select|current_date|trim|lower|UPPER|sha256|coalesce|length|abs|md5|cast|interval|extract|substring|position|exists|identity|stage|table|from|where|order|group|join|on|and|or|is|as|by|left|binary|point|array|map|struct|case|not|_x|a1|[a-zA-Z_][a-zA-Z0-9_]{0,5}|1a|\\$a)";
        let column = proptest::collection::vec(word, 1..4).prop_map(|p| p.join("."));
        let operand = (proptest::collection::vec((word, " ?"), 0..3), column, " ?").prop_map(
            |(fs, c, sp)| {
                let open: String = fs.iter().map(|(f, s)| format!("{f}({s}")).collect();
                let close: String = fs.iter().map(|(_, s)| format!("{s})")).collect();
                format!("{open}{c}{sp}{close}")
            },
        );
        let tail =
            "( ?= ?| IS NULL| is not null| IS NOT NULL| IS  NOT NULL| =|| b| AS b| is b| IS NOT)";
        (" ?", operand.clone(), tail, operand, " ?").prop_map(|(a, l, op, r, z)| match op.trim() {
            "=" => format!("{a}{l}{op}{r}{z}"),
            _ => format!("{a}{l}{op}{z}"),
        })
    }

    proptest::proptest! {
        /// The shortcut agrees with sqlparser wherever it answers.
        #[test]
        fn shortcut_matches_the_parser(text in expression()) {
            if let Some(fast) = shortcut(&text) {
                proptest::prop_assert_eq!(Ok(fast), parse_column_refs(&text), "{}", text);
            }
        }
    }

    #[test]
    fn shortcut_takes_common_shapes_and_leaves_the_rest() {
        for text in [
            "accounts.users.user_id",
            "sha256(lower(a.email))",
            "a.user_id = b.user_id",
            "lower(a.x)=b.y",
            "a.x IS NOT NULL",
            "a.x is null",
            "identity.users.email = stage.flow.s1.user",
        ] {
            assert!(shortcut(text).is_some(), "{text}");
        }
        for text in [
            "null",
            "user",
            "current_date",
            "1a",
            "a b",
            "a.",
            ".a",
            "é",
            "trim(a)",
            "a. b",
            "f()",
            "f(a, b)",
            "a = b = c",
            "a IS NOT",
            "a + b",
            "'x' = a",
        ] {
            assert!(shortcut(text).is_none(), "{text}");
        }
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
