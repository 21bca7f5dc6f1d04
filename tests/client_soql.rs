//! The SOQL builder's output, read back by the fake org's SOQL parser.

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use sfmount::fake_org::soql::ast::{Expr, InList, Literal as AstLiteral, SelectItem};
use sfmount::fake_org::soql::parse;
use sfmount::salesforce::soql::{Condition, Direction, Literal, Soql};

fn where_literal(query: &str) -> AstLiteral {
    let parsed = parse(query).unwrap_or_else(|e| panic!("{query:?}: {e}"));
    match parsed.where_clause {
        Some(Expr::Compare { value, .. }) => value,
        other => panic!("unexpected WHERE {other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_string_survives_a_literal_round_trip(s in any::<String>()) {
        let q = Soql::select(["Id"]).from("Account").where_(Condition::eq("Name", Literal::string(s.clone()))).build();
        prop_assert_eq!(where_literal(&q), AstLiteral::String(s));
    }

    #[test]
    fn quote_heavy_strings_survive(s in "[\\\\'\"\n\r\t\u{8}\u{c}%_a-z ]{0,40}") {
        let q = Soql::select(["Id"]).from("Case").where_(Condition::eq("Subject", Literal::string(s.clone()))).build();
        prop_assert_eq!(where_literal(&q), AstLiteral::String(s));
    }

    #[test]
    fn in_lists_keep_every_value(values in proptest::collection::vec(any::<String>(), 1..20)) {
        let q = Soql::select(["Id"]).from("Account").where_(Condition::in_strings("Name", &values)).build();
        let parsed = parse(&q).unwrap();
        match parsed.where_clause {
            Some(Expr::In { list: InList::Values(items), .. }) => {
                let expected: Vec<AstLiteral> = values.into_iter().map(AstLiteral::String).collect();
                prop_assert_eq!(items, expected);
            }
            other => prop_assert!(false, "unexpected WHERE {:?}", other),
        }
    }
}

#[test]
fn datetime_and_typed_literals_parse() {
    let t = Utc.with_ymd_and_hms(2024, 1, 15, 10, 30, 5).unwrap();
    let q = Soql::select(["Id"])
        .from("Account")
        .where_(Condition::ge("SystemModstamp", Literal::DateTime(t)))
        .build();
    match where_literal(&q) {
        AstLiteral::DateTime(parsed) => assert_eq!(parsed.with_timezone(&Utc), t),
        other => panic!("{other:?}"),
    }
    let q = Soql::select(["Id"])
        .from("Account")
        .where_(Condition::eq("IsDeleted", Literal::Bool(true)))
        .build();
    assert_eq!(where_literal(&q), AstLiteral::Bool(true));
}

#[test]
fn a_listing_shaped_query_parses() {
    let feeds = Soql::select(["Id", "Body", "CreatedBy.Name"])
        .from("Feeds")
        .order_by("CreatedDate")
        .order_by("Id");
    let q = Soql::select(["Id", "Subject", "Owner.Name"])
        .subquery(&feeds)
        .from("Case")
        .where_(Condition::ge(
            "SystemModstamp",
            Literal::DateTime(Utc::now()),
        ))
        .where_(Condition::in_strings(
            "Id",
            &["500000000000001AAA", "500000000000002AAA"],
        ))
        .order_by_dir("Id", Direction::Desc)
        .limit(10)
        .build();
    let parsed = parse(&q).unwrap();
    assert_eq!(parsed.from.text, "Case");
    assert_eq!(parsed.limit, Some(10));
    assert!(parsed.order_by[0].descending);
    let sub = parsed
        .select
        .iter()
        .find_map(|s| match s {
            SelectItem::Subquery(q) => Some(q),
            _ => None,
        })
        .unwrap();
    assert_eq!(sub.from.text, "Feeds");
    assert_eq!(sub.order_by.len(), 2);
}
