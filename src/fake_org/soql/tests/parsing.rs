//! Engine tests: parsing.

use super::*;

#[test]
fn parse_builds_the_ast_with_case_insensitive_keywords() {
    let query = parse(
        "select id, Owner.Name, (SELECT Id FROM Contacts) from account where name = 'x' order by name desc nulls last limit 5 offset 2",
    )
    .unwrap();
    assert_eq!(query.from.text, "account");
    assert_eq!(query.select.len(), 3);
    assert!(
        matches!(&query.select[1], ast::SelectItem::Field(p) if p.segments == ["Owner", "Name"])
    );
    assert!(matches!(&query.select[2], ast::SelectItem::Subquery(q) if q.from.text == "Contacts"));
    assert_eq!(query.limit, Some(5));
    assert_eq!(query.offset, Some(2));
    assert_eq!(query.order_by.len(), 1);
    assert!(query.order_by[0].descending);
    assert!(!query.order_by[0].nulls_first());
    assert!(matches!(
        query.where_clause,
        Some(ast::Expr::Compare { op: ast::CompareOp::Eq, value: ast::Literal::String(ref s), .. }) if s == "x"
    ));
}

#[test]
fn string_escapes_are_decoded() {
    let query =
        parse(r#"SELECT Id FROM Account WHERE Name = 'O\'Brien \"q\" \\ \n\t\u00e9\uD83D\uDE00'"#)
            .unwrap();
    let Some(ast::Expr::Compare {
        value: ast::Literal::String(s),
        ..
    }) = query.where_clause
    else {
        panic!("expected a string comparison")
    };
    assert_eq!(s, "O'Brien \"q\" \\ \n\t\u{e9}\u{1F600}");
}

#[test]
fn datetime_literal_forms_parse_to_the_same_instant() {
    let instant = |text: &str| {
        let query = parse(&format!(
            "SELECT Id FROM Account WHERE CreatedDate = {text}"
        ))
        .unwrap();
        match query.where_clause {
            Some(ast::Expr::Compare {
                value: ast::Literal::DateTime(dt),
                ..
            }) => dt.timestamp(),
            other => panic!("{text}: {other:?}"),
        }
    };
    let z = instant("2024-01-15T10:30:00Z");
    assert_eq!(instant("2024-01-15T10:30:00.000Z"), z);
    assert_eq!(instant("2024-01-15T11:30:00+01:00"), z);
    assert_eq!(instant("2024-01-15T02:30:00-0800"), z);
}

#[test]
fn syntax_errors_are_malformed_query_with_a_caret() {
    let org = org();
    let e = error(&org, "SELECT Id, Name From Account Foo Bar");
    assert_eq!(e.error_code, "MALFORMED_QUERY");
    assert_eq!(
        e.message,
        format!(
            "\nSELECT Id, Name From Account Foo Bar\n{}^\nERROR at Row:1:Column:34\nunexpected token: 'Bar'",
            " ".repeat(33)
        )
    );
    let e = error(&org, "SELECT Id\nFROM Account\nWHERE Name = 'a' Nope");
    assert!(
        e.message
            .starts_with("\nWHERE Name = 'a' Nope\n                 ^\nERROR at Row:3:Column:18\n"),
        "{e}"
    );
    for bad in [
        "",
        "SELECT",
        "SELECT FROM Account",
        "SELECT Id FROM",
        "SELECT Id, FROM Account",
        "SELECT Id FROM Account WHERE",
        "SELECT Id FROM Account WHERE Name = ",
        "SELECT Id FROM Account WHERE (Name = 'a'",
        "SELECT Id FROM Account LIMIT -1",
        "SELECT Id FROM Account LIMIT 1.5",
        "SELECT Id FROM Account ORDER Name",
        "SELECT Id FROM Account WHERE Name = 'a' AND Id = null OR Name = 'b'",
        "SELECT Id FROM Account WHERE Name = 'a' OR Id = null AND Name = 'b'",
        "SELECT Id FROM Account WHERE CreatedDate = 2024-13-45",
        "SELECT Id FROM Account WHERE Name = 'bad \\q escape'",
        "SELECT Id, (SELECT Id, (SELECT Id FROM FeedComments) FROM Feeds) FROM Case",
    ] {
        let e = error(&org, bad);
        assert_eq!(e.error_code, "MALFORMED_QUERY", "{bad}: {e}");
    }
    let e = error(&org, "SELECT Id FROM Account WHERE Name = 'open");
    assert!(e.message.contains("mismatched character '<EOF>'"), "{e}");
    let e = error(&org, r"SELECT Id FROM Account WHERE Name = 'a\qb'");
    assert!(
        e.message.contains("Illegal character sequence '\\q'"),
        "{e}"
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!(
        "SELECT Id FROM Account WHERE {}Name = 'a'{}",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    assert_eq!(parse(&deep).unwrap_err().error_code, "MALFORMED_QUERY");
    let nots = format!(
        "SELECT Id FROM Account WHERE {}Name = 'a'",
        "NOT ".repeat(10_000)
    );
    assert_eq!(parse(&nots).unwrap_err().error_code, "MALFORMED_QUERY");
}

#[test]
fn statements_over_100000_characters_are_refused() {
    let padding = " ".repeat(100_000);
    let e = parse(&format!("SELECT Id FROM Account{padding}")).unwrap_err();
    assert_eq!(e.error_code, "MALFORMED_QUERY");
    assert!(e.message.contains("100000 characters"), "{e}");
    let fits = format!("SELECT Id FROM Account{}", &padding[..99_000]);
    assert!(parse(&fits).is_ok());
}

#[test]
fn offset_above_2000_is_number_outside_valid_range() {
    let org = org();
    let e = error(&org, "SELECT Id FROM Account OFFSET 2001");
    assert_eq!(e.error_code, "NUMBER_OUTSIDE_VALID_RANGE");
    assert!(
        e.message.contains("Maximum SOQL offset allowed is 2000"),
        "{e}"
    );
    assert_eq!(
        run(&org, "SELECT Id FROM Account OFFSET 2000").total_size,
        0
    );
}
