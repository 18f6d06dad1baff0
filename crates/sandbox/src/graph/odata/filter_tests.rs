//! Unit tests of the `$filter` parser: every operator, precedence, literals, lambdas, errors with
//! positions and the depth limit.

use chrono::{NaiveDate, TimeZone, Utc};
use uuid::Uuid;

use super::*;

fn prop(name: &str) -> Operand {
    Operand::Property(name.split('/').map(str::to_string).collect())
}

fn text(value: &str) -> Operand {
    Operand::Literal(Literal::Str(value.to_string()))
}

fn cmp(op: CompareOp, left: Operand, right: Operand) -> Expr {
    Expr::Compare { op, left, right }
}

fn ok(filter: &str) -> Expr {
    parse(filter).unwrap_or_else(|error| panic!("{filter}: {error:?}"))
}

fn err(filter: &str) -> FilterError {
    parse(filter).expect_err(filter)
}

#[test]
fn every_comparison_operator() {
    for (word, op) in [
        ("eq", CompareOp::Eq),
        ("ne", CompareOp::Ne),
        ("gt", CompareOp::Gt),
        ("ge", CompareOp::Ge),
        ("lt", CompareOp::Lt),
        ("le", CompareOp::Le),
        ("EQ", CompareOp::Eq),
        ("Ge", CompareOp::Ge),
    ] {
        assert_eq!(ok(&format!("city {word} 'Oslo'")), cmp(op, prop("city"), text("Oslo")), "{word}");
    }
}

#[test]
fn in_operator_takes_a_literal_list() {
    assert_eq!(
        ok("id in ('a', 'b')"),
        Expr::In { operand: prop("id"), values: vec![Literal::Str("a".into()), Literal::Str("b".into())] }
    );
    assert_eq!(ok("id IN ()"), Expr::In { operand: prop("id"), values: vec![] });
    assert_eq!(err("id in 'a'").message, "'(' expected at position 6 in 'id in 'a''.");
    assert_eq!(err("id in ('a' 'b')").message, "')' or ',' expected at position 11 in 'id in ('a' 'b')'.");
}

#[test]
fn and_binds_tighter_than_or_and_chains_are_flat() {
    let a = || cmp(CompareOp::Eq, prop("a"), Operand::Literal(Literal::Int(1)));
    let b = || cmp(CompareOp::Eq, prop("b"), Operand::Literal(Literal::Int(2)));
    let c = || cmp(CompareOp::Eq, prop("c"), Operand::Literal(Literal::Int(3)));
    assert_eq!(ok("a eq 1 or b eq 2 and c eq 3"), Expr::Or(vec![a(), Expr::And(vec![b(), c()])]));
    assert_eq!(ok("(a eq 1 or b eq 2) and c eq 3"), Expr::And(vec![Expr::Or(vec![a(), b()]), c()]));
    assert_eq!(ok("a eq 1 AND b eq 2 And c eq 3"), Expr::And(vec![a(), b(), c()]));
    let long = vec!["a eq 1"; 5000].join(" or ");
    let Expr::Or(parts) = ok(&long) else { panic!("expected an or-chain") };
    assert_eq!(parts.len(), 5000);
}

#[test]
fn not_binds_to_its_primary() {
    let starts = Expr::StartsWith { operand: prop("displayName"), prefix: "Conf".into() };
    assert_eq!(ok("NOT startsWith(displayName, 'Conf')"), Expr::Not(Box::new(starts.clone())));
    assert_eq!(
        ok("not startswith(displayName,'Conf') and city eq 'x'"),
        Expr::And(vec![Expr::Not(Box::new(starts)), cmp(CompareOp::Eq, prop("city"), text("x"))])
    );
    assert_eq!(
        ok("NOT(companyName eq 'Microsoft')"),
        Expr::Not(Box::new(cmp(CompareOp::Eq, prop("companyName"), text("Microsoft"))))
    );
    // `not a eq b` is `(not a) eq b`: `not` needs a boolean operand.
    assert_eq!(err("not city eq 'x'").message, "The $filter expression must evaluate to a single boolean value.");
}

#[test]
fn functions() {
    assert_eq!(
        ok("startswith(displayName,'a')"),
        Expr::StartsWith { operand: prop("displayName"), prefix: "a".into() }
    );
    assert_eq!(
        ok("endsWith(mail, '@contoso.com')"),
        Expr::EndsWith { operand: prop("mail"), suffix: "@contoso.com".into() }
    );
    let unsupported = err("contains(displayName,'a')");
    assert_eq!(unsupported.kind, FilterErrorKind::Unsupported);
    let unknown = err("frobnicate(displayName,'a')");
    assert_eq!(
        (unknown.kind, unknown.message.as_str()),
        (FilterErrorKind::Syntax, "An unknown function with name 'frobnicate' was found.")
    );
    assert!(
        err("startswith(displayName, 5)")
            .message
            .starts_with("No function signature for the function with name 'startswith'")
    );
    assert_eq!(
        err("startswith(displayName)").message,
        "')' or ',' expected at position 22 in 'startswith(displayName)'."
    );
}

#[test]
fn literals() {
    let literal = |filter: &str| match ok(filter) {
        Expr::Compare { right: Operand::Literal(literal), .. } => literal,
        other => panic!("{other:?}"),
    };
    assert_eq!(literal("a eq 'it''s'"), Literal::Str("it's".into()));
    assert_eq!(literal("a eq ''"), Literal::Str(String::new()));
    assert_eq!(literal("a eq 'a b , ( ) eq'"), Literal::Str("a b , ( ) eq".into()));
    assert_eq!(literal("a eq 42"), Literal::Int(42));
    assert_eq!(literal("a eq -7"), Literal::Int(-7));
    assert_eq!(literal("a eq true"), Literal::Bool(true));
    assert_eq!(literal("a eq FALSE"), Literal::Bool(false));
    assert_eq!(literal("a eq null"), Literal::Null);
    assert_eq!(literal("a eq Null"), Literal::Null);
    let guid = Uuid::parse_str("6fd2c87f-b296-42f0-b197-1e91e994b900").unwrap();
    assert_eq!(literal("a eq 6fd2c87f-b296-42f0-b197-1e91e994b900"), Literal::Guid(guid));
    let letter_guid = Uuid::parse_str("a1b2c3d4-0000-4000-8000-00000000c001").unwrap();
    assert_eq!(literal("a eq A1B2C3D4-0000-4000-8000-00000000C001"), Literal::Guid(letter_guid));
    let at = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    assert_eq!(literal("a ge 2024-01-01T00:00:00Z"), Literal::DateTime(at));
    assert_eq!(literal("a ge 2024-01-01T01:00:00+01:00"), Literal::DateTime(at));
    assert_eq!(literal("a ge 2024-01-01T00:00Z"), Literal::DateTime(at));
    assert_eq!(literal("a ge 2024-01-01T00:00:00.000Z"), Literal::DateTime(at));
    assert_eq!(literal("a ge 2024-01-01"), Literal::Date(NaiveDate::from_ymd_opt(2024, 1, 1).unwrap()));
}

#[test]
fn paths_counts_and_lambdas() {
    assert_eq!(
        ok("employeeOrgData/costCenter eq 'x'"),
        cmp(CompareOp::Eq, prop("employeeOrgData/costCenter"), text("x"))
    );
    assert_eq!(
        ok("assignedLicenses/$count eq 0"),
        cmp(CompareOp::Eq, Operand::Count(vec!["assignedLicenses".into()]), Operand::Literal(Literal::Int(0)))
    );
    assert_eq!(
        ok("proxyAddresses/any(p:startswith(p,'smtp:'))"),
        Expr::Lambda {
            kind: LambdaKind::Any,
            collection: prop("proxyAddresses"),
            variable: "p".into(),
            body: Some(Box::new(Expr::StartsWith {
                operand: Operand::Variable { depth: 0, path: vec![] },
                prefix: "smtp:".into()
            })),
        }
    );
    let guid = Uuid::parse_str("6fd2c87f-b296-42f0-b197-1e91e994b900").unwrap();
    assert_eq!(
        ok("assignedLicenses/any(x:x/skuId eq 6fd2c87f-b296-42f0-b197-1e91e994b900)"),
        Expr::Lambda {
            kind: LambdaKind::Any,
            collection: prop("assignedLicenses"),
            variable: "x".into(),
            body: Some(Box::new(cmp(
                CompareOp::Eq,
                Operand::Variable { depth: 0, path: vec!["skuId".into()] },
                Operand::Literal(Literal::Guid(guid))
            ))),
        }
    );
    assert_eq!(
        ok("otherMails/any (m: m eq 'a@b.com')"),
        Expr::Lambda {
            kind: LambdaKind::Any,
            collection: prop("otherMails"),
            variable: "m".into(),
            body: Some(Box::new(cmp(CompareOp::Eq, Operand::Variable { depth: 0, path: vec![] }, text("a@b.com")))),
        }
    );
    assert_eq!(
        ok("groupTypes/ANY()"),
        Expr::Lambda { kind: LambdaKind::Any, collection: prop("groupTypes"), variable: String::new(), body: None }
    );
    let Expr::Lambda { kind: LambdaKind::All, .. } = ok("proxyAddresses/all(p:p ne 'x')") else { panic!("all") };
    // Outside its lambda the variable name is an ordinary property.
    assert_eq!(
        ok("proxyAddresses/any(p:p eq 'x') and p eq 'y'"),
        Expr::And(vec![
            Expr::Lambda {
                kind: LambdaKind::Any,
                collection: prop("proxyAddresses"),
                variable: "p".into(),
                body: Some(Box::new(cmp(CompareOp::Eq, Operand::Variable { depth: 0, path: vec![] }, text("x")))),
            },
            cmp(CompareOp::Eq, prop("p"), text("y")),
        ])
    );
}

#[test]
fn nested_lambdas_index_their_variables() {
    let Expr::Lambda { body: Some(body), .. } = ok("a/any(x: x/b/any(y: y eq x/c))") else { panic!("lambda") };
    let Expr::Lambda { collection, body: Some(inner), .. } = *body else { panic!("inner lambda") };
    assert_eq!(collection, Operand::Variable { depth: 0, path: vec!["b".into()] });
    assert_eq!(
        *inner,
        cmp(
            CompareOp::Eq,
            Operand::Variable { depth: 1, path: vec![] },
            Operand::Variable { depth: 0, path: vec!["c".into()] }
        )
    );
}

#[test]
fn syntax_errors_carry_positions_and_odatalib_wording() {
    let cases = [
        ("displayName eq", 14, "Expression expected at position 14 in 'displayName eq'."),
        ("displayName eq 'abc", 19, "There is an unterminated string literal at position 19 in 'displayName eq 'abc'."),
        (
            "displayName eq \"x\"",
            15,
            "Syntax error: character '\"' is not valid at position 15 in 'displayName eq \"x\"'.",
        ),
        ("(displayName eq 'x'", 19, "')' or operator expected at position 19 in '(displayName eq 'x''."),
        ("displayName eq 'x')", 18, "Syntax error at position 18 in 'displayName eq 'x')'."),
        ("displayName eq 'x' foo", 19, "Syntax error at position 19 in 'displayName eq 'x' foo'."),
        ("eq 'x'", 0, "Expression expected at position 0 in 'eq 'x''."),
        ("", 0, "Expression expected at position 0 in ''."),
        ("a/any(x x eq 1)", 8, "Syntax error at position 8 in 'a/any(x x eq 1)'."),
        ("a eq 1.5", 6, "Syntax error at position 6 in 'a eq 1.5'."),
    ];
    for (filter, position, message) in cases {
        let error = err(filter);
        assert_eq!((error.position, error.message.as_str()), (position, message), "{filter}");
        assert_eq!(error.kind, FilterErrorKind::Syntax, "{filter}");
    }
    assert_eq!(err("displayName").message, "The $filter expression must evaluate to a single boolean value.");
    assert_eq!(err("a eq 1 eq 2").message, "The $filter expression must evaluate to a single boolean value.");
    assert_eq!(
        err("a eq 99999999999999999999").message,
        "Unrecognized 'Edm.Int64' literal '99999999999999999999' at '5' in 'a eq 99999999999999999999'."
    );
    assert_eq!(err("a/$count/b eq 1").kind, FilterErrorKind::Syntax);
    assert_eq!(err("a has 'x'").kind, FilterErrorKind::Unsupported);
}

#[test]
fn positions_count_characters_not_bytes() {
    assert_eq!(err("displayName eq 'é' ¤").position, 19);
}

#[test]
fn depth_is_limited_without_overflowing_the_stack() {
    let deep = format!("{}a eq 1{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert!(parse(&deep).is_ok());
    let too_deep = format!("{}a eq 1{}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
    assert_eq!(err(&too_deep).message, "Recursion depth exceeded allowed limit.");
    let hostile = "(".repeat(200_000);
    assert_eq!(err(&hostile).message, "Recursion depth exceeded allowed limit.");
    let nots = format!("{}a eq 1", "not ".repeat(100_000));
    assert_eq!(err(&nots).message, "Recursion depth exceeded allowed limit.");
    let lambdas = "a/any(x:".repeat(10_000);
    assert_eq!(err(&lambdas).message, "Recursion depth exceeded allowed limit.");
}
