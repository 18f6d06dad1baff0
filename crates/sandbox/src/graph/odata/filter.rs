//! The `$filter` parser: a hand-written recursive-descent parser for the OData subset Graph's directory
//! endpoints understand — `eq ne gt ge lt le in and or not`, `startswith`/`endswith`, `any`/`all` lambdas,
//! `/$count`, property paths and literals (strings with `''` escapes, integers, booleans, `null`, GUIDs,
//! dates and DateTimeOffsets). Keywords are case-insensitive.
//!
//! Precedence follows ODataLib (the parser behind Graph): `or` < `and` < comparison < `not` < primary, so
//! `not startswith(p,'x')` negates the call and `not a eq b` is `(not a) eq b` (a type error). Errors carry
//! the character position and ODataLib's wording (`Syntax error at position 7 in '…'.`). Nesting is bounded
//! by [`MAX_DEPTH`], so hostile input (`((((…`) cannot overflow the stack.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::filter_lexer::{Token, TokenKind, lex};

/// How deeply parentheses, `not` and lambdas may nest.
pub const MAX_DEPTH: usize = 64;

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    /// `eq`
    Eq,
    /// `ne`
    Ne,
    /// `gt`
    Gt,
    /// `ge`
    Ge,
    /// `lt`
    Lt,
    /// `le`
    Le,
}

impl CompareOp {
    /// ODataLib's name for the operator kind (as in its binder error messages).
    pub fn odata_kind(self) -> &'static str {
        match self {
            CompareOp::Eq => "Equal",
            CompareOp::Ne => "NotEqual",
            CompareOp::Gt => "GreaterThan",
            CompareOp::Ge => "GreaterThanOrEqual",
            CompareOp::Lt => "LessThan",
            CompareOp::Le => "LessThanOrEqual",
        }
    }

    /// The operator with its operands swapped (`a lt b` ⇔ `b gt a`).
    pub fn flipped(self) -> CompareOp {
        match self {
            CompareOp::Gt => CompareOp::Lt,
            CompareOp::Ge => CompareOp::Le,
            CompareOp::Lt => CompareOp::Gt,
            CompareOp::Le => CompareOp::Ge,
            same => same,
        }
    }
}

/// A literal value.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A quoted string (unescaped).
    Str(String),
    /// An unquoted GUID.
    Guid(Uuid),
    /// A DateTimeOffset (`2024-01-01T00:00:00Z`).
    DateTime(DateTime<Utc>),
    /// A date (`2024-01-01`), compared as midnight UTC.
    Date(NaiveDate),
}

/// One side of a comparison.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// A property path on the entity (`displayName`, `employeeOrgData/costCenter`).
    Property(Vec<String>),
    /// A lambda variable (`depth` 0 is the outermost lambda) followed by a member path (`x/skuId` → `["skuId"]`).
    Variable {
        /// Which enclosing lambda's variable.
        depth: usize,
        /// Members below the variable (empty for the element itself).
        path: Vec<String>,
    },
    /// `path/$count` on the entity.
    Count(Vec<String>),
    /// A literal.
    Literal(Literal),
}

/// `any` or `all`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LambdaKind {
    /// `any`
    Any,
    /// `all`
    All,
}

/// A parsed `$filter` expression (always boolean-valued).
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// `a and b and …` (n-ary, so long chains do not nest).
    And(Vec<Expr>),
    /// `a or b or …` (n-ary).
    Or(Vec<Expr>),
    /// `not a`
    Not(Box<Expr>),
    /// `left op right`
    Compare {
        /// The operator.
        op: CompareOp,
        /// Left operand.
        left: Operand,
        /// Right operand.
        right: Operand,
    },
    /// `operand in (v1, v2, …)`
    In {
        /// The tested operand.
        operand: Operand,
        /// The candidate values.
        values: Vec<Literal>,
    },
    /// `startswith(operand, 'prefix')`
    StartsWith {
        /// The tested operand.
        operand: Operand,
        /// The prefix.
        prefix: String,
    },
    /// `endswith(operand, 'suffix')`
    EndsWith {
        /// The tested operand.
        operand: Operand,
        /// The suffix.
        suffix: String,
    },
    /// `collection/any(v: body)`, `collection/any()`, `collection/all(v: body)`
    Lambda {
        /// `any` or `all`.
        kind: LambdaKind,
        /// The collection (a [`Operand::Property`] or [`Operand::Variable`]).
        collection: Operand,
        /// The range variable's name as written.
        variable: String,
        /// The predicate; `None` for `any()`.
        body: Option<Box<Expr>>,
    },
}

/// Why a filter did not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterErrorKind {
    /// Malformed text (Graph: 400 `BadRequest`, "Invalid filter clause: …").
    Syntax,
    /// Valid OData that Graph's directory does not support (functions other than startswith/endswith, …).
    Unsupported,
}

/// A filter that did not parse, with the character position of the problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterError {
    /// Syntax or unsupported construct.
    pub kind: FilterErrorKind,
    /// 0-based character position.
    pub position: usize,
    /// ODataLib-style message (already includes the position and the text where ODataLib's does).
    pub message: String,
}

/// Parses a `$filter` value.
pub fn parse(text: &str) -> Result<Expr, FilterError> {
    let tokens = lex(text)?;
    let mut parser = Parser { text, tokens, at: 0, depth: 0, variables: Vec::new() };
    let term = parser.parse_or()?;
    let end = parser.peek();
    if end.kind != TokenKind::End {
        return Err(parser.syntax_error(end.position));
    }
    match term {
        Term::Bool(expr) => Ok(expr),
        Term::Value(_) => Err(FilterError {
            kind: FilterErrorKind::Syntax,
            position: 0,
            message: "The $filter expression must evaluate to a single boolean value.".into(),
        }),
    }
}

// ---------------------------------------------------------------------------------------------------------
// Parser

/// A parsed sub-expression: boolean-valued or a value operand.
enum Term {
    Bool(Expr),
    Value(Operand),
}

struct Parser<'t> {
    text: &'t str,
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
    variables: Vec<String>,
}

fn is_keyword(token: &Token, keyword: &str) -> bool {
    matches!(&token.kind, TokenKind::Ident(word) if word.eq_ignore_ascii_case(keyword))
}

fn comparison_op(token: &Token) -> Option<CompareOp> {
    let TokenKind::Ident(word) = &token.kind else { return None };
    let op = match word.to_ascii_lowercase().as_str() {
        "eq" => CompareOp::Eq,
        "ne" => CompareOp::Ne,
        "gt" => CompareOp::Gt,
        "ge" => CompareOp::Ge,
        "lt" => CompareOp::Lt,
        "le" => CompareOp::Le,
        _ => return None,
    };
    Some(op)
}

const RESERVED: &[&str] = &["and", "or", "not", "eq", "ne", "gt", "ge", "lt", "le", "in", "has"];

impl Parser<'_> {
    fn peek(&self) -> Token {
        self.tokens[self.at.min(self.tokens.len() - 1)].clone()
    }

    fn advance(&mut self) -> Token {
        let token = self.peek();
        if self.at < self.tokens.len() - 1 {
            self.at += 1;
        }
        token
    }

    fn error(&self, message: String, position: usize) -> FilterError {
        FilterError { kind: FilterErrorKind::Syntax, position, message }
    }

    fn syntax_error(&self, position: usize) -> FilterError {
        self.error(format!("Syntax error at position {position} in '{}'.", self.text), position)
    }

    fn expression_expected(&self, position: usize) -> FilterError {
        self.error(format!("Expression expected at position {position} in '{}'.", self.text), position)
    }

    fn not_boolean(&self, position: usize) -> FilterError {
        self.error("The $filter expression must evaluate to a single boolean value.".into(), position)
    }

    fn enter(&mut self, position: usize) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("Recursion depth exceeded allowed limit.".into(), position));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn expect_close(&mut self) -> Result<(), FilterError> {
        let token = self.advance();
        if token.kind == TokenKind::Close {
            Ok(())
        } else {
            Err(self.error(
                format!("')' or operator expected at position {} in '{}'.", token.position, self.text),
                token.position,
            ))
        }
    }

    fn boolean(&self, term: Term, position: usize) -> Result<Expr, FilterError> {
        match term {
            Term::Bool(expr) => Ok(expr),
            Term::Value(_) => Err(self.not_boolean(position)),
        }
    }

    fn parse_or(&mut self) -> Result<Term, FilterError> {
        self.parse_chain("or", Parser::parse_and, Expr::Or)
    }

    fn parse_and(&mut self) -> Result<Term, FilterError> {
        self.parse_chain("and", Parser::parse_comparison, Expr::And)
    }

    /// `operand (keyword operand)*`, collected into one n-ary node.
    fn parse_chain(
        &mut self,
        keyword: &str,
        operand: fn(&mut Self) -> Result<Term, FilterError>,
        combine: fn(Vec<Expr>) -> Expr,
    ) -> Result<Term, FilterError> {
        let start = self.peek().position;
        let first = operand(self)?;
        if !is_keyword(&self.peek(), keyword) {
            return Ok(first);
        }
        let mut parts = vec![self.boolean(first, start)?];
        while is_keyword(&self.peek(), keyword) {
            let operator = self.advance();
            let next = operand(self)?;
            parts.push(self.boolean(next, operator.position).map_err(|_| self.not_boolean(operator.position))?);
        }
        Ok(Term::Bool(combine(parts)))
    }

    fn parse_comparison(&mut self) -> Result<Term, FilterError> {
        let left = self.parse_unary()?;
        let next = self.peek();
        if let Some(op) = comparison_op(&next) {
            self.advance();
            let right_token = self.peek();
            let right = self.parse_unary()?;
            let (Term::Value(left), Term::Value(right)) = (left, right) else {
                return Err(self.error(
                    format!(
                        "A binary operator with incompatible types was detected. Found operand types 'Edm.Boolean' \
                         and 'Edm.Boolean' for operator kind '{}'.",
                        op.odata_kind()
                    ),
                    right_token.position,
                ));
            };
            if comparison_op(&self.peek()).is_some() || is_keyword(&self.peek(), "in") {
                return Err(self.not_boolean(self.peek().position));
            }
            return Ok(Term::Bool(Expr::Compare { op, left, right }));
        }
        if is_keyword(&next, "in") {
            self.advance();
            let Term::Value(operand) = left else { return Err(self.not_boolean(next.position)) };
            let values = self.parse_in_list()?;
            return Ok(Term::Bool(Expr::In { operand, values }));
        }
        if is_keyword(&next, "has") {
            return Err(FilterError {
                kind: FilterErrorKind::Unsupported,
                position: next.position,
                message: "Unsupported Query.".into(),
            });
        }
        Ok(left)
    }

    fn parse_in_list(&mut self) -> Result<Vec<Literal>, FilterError> {
        let open = self.advance();
        if open.kind != TokenKind::Open {
            return Err(
                self.error(format!("'(' expected at position {} in '{}'.", open.position, self.text), open.position)
            );
        }
        let mut values = Vec::new();
        loop {
            let token = self.advance();
            match token.kind {
                TokenKind::Literal(literal) => values.push(literal),
                TokenKind::Close if values.is_empty() => return Ok(values),
                _ => return Err(self.expression_expected(token.position)),
            }
            let separator = self.advance();
            match separator.kind {
                TokenKind::Comma => continue,
                TokenKind::Close => return Ok(values),
                _ => {
                    return Err(self.error(
                        format!("')' or ',' expected at position {} in '{}'.", separator.position, self.text),
                        separator.position,
                    ));
                }
            }
        }
    }

    fn parse_unary(&mut self) -> Result<Term, FilterError> {
        let token = self.peek();
        if is_keyword(&token, "not") {
            self.advance();
            self.enter(token.position)?;
            let operand_start = self.peek().position;
            let inner = self.parse_unary()?;
            self.leave();
            let expr = self.boolean(inner, operand_start)?;
            return Ok(Term::Bool(Expr::Not(Box::new(expr))));
        }
        self.parse_primary()
    }

    fn parse_primary(&mut self) -> Result<Term, FilterError> {
        let token = self.advance();
        match token.kind {
            TokenKind::Open => {
                self.enter(token.position)?;
                let inner = self.parse_or()?;
                self.leave();
                self.expect_close()?;
                Ok(inner)
            }
            TokenKind::Literal(literal) => Ok(Term::Value(Operand::Literal(literal))),
            TokenKind::Ident(word) => {
                if RESERVED.iter().any(|reserved| word.eq_ignore_ascii_case(reserved)) {
                    return Err(self.expression_expected(token.position));
                }
                if self.peek().kind == TokenKind::Open {
                    return self.parse_function(&word, token.position);
                }
                self.parse_path(word, token.position)
            }
            _ => Err(self.expression_expected(token.position)),
        }
    }

    fn parse_function(&mut self, name: &str, position: usize) -> Result<Term, FilterError> {
        let lower = name.to_ascii_lowercase();
        if lower != "startswith" && lower != "endswith" {
            let known = [
                "contains",
                "tolower",
                "toupper",
                "trim",
                "length",
                "indexof",
                "substring",
                "concat",
                "year",
                "month",
                "day",
                "hour",
                "minute",
                "second",
                "date",
                "time",
                "round",
                "floor",
                "ceiling",
                "cast",
                "isof",
                "matchespattern",
                "now",
            ];
            let (kind, message) = if known.contains(&lower.as_str()) {
                (FilterErrorKind::Unsupported, "Unsupported Query.".to_string())
            } else {
                (FilterErrorKind::Syntax, format!("An unknown function with name '{name}' was found."))
            };
            return Err(FilterError { kind, position, message });
        }
        self.advance(); // '('
        self.enter(position)?;
        let operand = match self.parse_or()? {
            Term::Value(operand) => operand,
            Term::Bool(_) => return Err(self.no_applicable_function(name, position)),
        };
        let comma = self.advance();
        if comma.kind != TokenKind::Comma {
            return Err(self.error(
                format!("')' or ',' expected at position {} in '{}'.", comma.position, self.text),
                comma.position,
            ));
        }
        let argument_token = self.peek();
        let argument = self.parse_or()?;
        self.leave();
        self.expect_close()?;
        let text = match argument {
            Term::Value(Operand::Literal(Literal::Str(text))) => text,
            Term::Value(Operand::Literal(_)) | Term::Bool(_) => return Err(self.no_applicable_function(name, position)),
            Term::Value(_) => {
                return Err(FilterError {
                    kind: FilterErrorKind::Unsupported,
                    position: argument_token.position,
                    message: "Unsupported Query.".into(),
                });
            }
        };
        let expr = if lower == "startswith" {
            Expr::StartsWith { operand, prefix: text }
        } else {
            Expr::EndsWith { operand, suffix: text }
        };
        Ok(Term::Bool(expr))
    }

    fn no_applicable_function(&self, name: &str, position: usize) -> FilterError {
        self.error(
            format!(
                "No function signature for the function with name '{name}' matches the specified arguments. The \
                 function signatures considered are: {name}(Edm.String Nullable=true, Edm.String Nullable=true)."
            ),
            position,
        )
    }

    /// A path starting with `first`: `a`, `a/b`, `a/$count`, `a/any(x: …)`, `x/skuId` (lambda variable).
    fn parse_path(&mut self, first: String, position: usize) -> Result<Term, FilterError> {
        let variable_depth = self.variables.iter().rposition(|name| *name == first);
        let mut path = if variable_depth.is_some() { Vec::new() } else { vec![first] };
        let make_operand = |path: Vec<String>| match variable_depth {
            Some(depth) => Operand::Variable { depth, path },
            None => Operand::Property(path),
        };
        while self.peek().kind == TokenKind::Slash {
            self.advance();
            let segment = self.advance();
            let TokenKind::Ident(name) = segment.kind else {
                return Err(self
                    .error(format!("An identifier was expected at position {}.", segment.position), segment.position));
            };
            if name.eq_ignore_ascii_case("$count") {
                if variable_depth.is_some() || path.is_empty() {
                    return Err(FilterError {
                        kind: FilterErrorKind::Unsupported,
                        position: segment.position,
                        message: "Unsupported Query.".into(),
                    });
                }
                return Ok(Term::Value(Operand::Count(path)));
            }
            let lambda = if name.eq_ignore_ascii_case("any") {
                Some(LambdaKind::Any)
            } else if name.eq_ignore_ascii_case("all") {
                Some(LambdaKind::All)
            } else {
                None
            };
            if let Some(kind) = lambda
                && self.peek().kind == TokenKind::Open
            {
                return self.parse_lambda(kind, make_operand(path), segment.position).map(Term::Bool);
            }
            if name.starts_with('$') {
                return Err(self.syntax_error(segment.position));
            }
            path.push(name);
        }
        if path.is_empty() && variable_depth.is_none() {
            return Err(self.expression_expected(position));
        }
        Ok(Term::Value(make_operand(path)))
    }

    fn parse_lambda(&mut self, kind: LambdaKind, collection: Operand, position: usize) -> Result<Expr, FilterError> {
        self.advance(); // '('
        self.enter(position)?;
        if self.peek().kind == TokenKind::Close {
            self.advance();
            self.leave();
            if kind == LambdaKind::All {
                return Err(self.expression_expected(position));
            }
            return Ok(Expr::Lambda { kind, collection, variable: String::new(), body: None });
        }
        let variable_token = self.advance();
        let TokenKind::Ident(variable) = variable_token.kind else {
            return Err(self.error(
                format!("An identifier was expected at position {}.", variable_token.position),
                variable_token.position,
            ));
        };
        let colon = self.advance();
        if colon.kind != TokenKind::Colon {
            return Err(self.syntax_error(colon.position));
        }
        self.variables.push(variable.clone());
        let body_start = self.peek().position;
        let body = self.parse_or();
        self.variables.pop();
        let body = self.boolean(body?, body_start)?;
        self.leave();
        self.expect_close()?;
        Ok(Expr::Lambda { kind, collection, variable, body: Some(Box::new(body)) })
    }
}

#[cfg(test)]
#[path = "filter_tests.rs"]
mod tests;
