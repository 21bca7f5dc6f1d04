//! Engine tests: properties.

use super::*;

/// Writes `value` as a SOQL string literal, escaping what SOQL requires.
fn escape_literal(value: &str) -> String {
    let mut out = String::from("'");
    for c in value.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c.is_control() => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

const VALID_QUERIES: &[&str] = &[
    "SELECT Id, Name, Owner.Name FROM Account WHERE Name LIKE 'A%' ORDER BY Name DESC NULLS LAST LIMIT 10 OFFSET 5",
    "SELECT Id, (SELECT Id, Body FROM Feeds WHERE Type IN ('TextPost') ORDER BY CreatedDate LIMIT 10) FROM Case",
    "SELECT COUNT() FROM Contact WHERE CreatedDate > 2024-01-15T10:30:00.000+01:00 AND (LastName != null OR Email = 'a@b.c')",
    "SELECT Id FROM Account WHERE NOT (Industry NOT IN ('x', 'y')) AND CreatedDate = LAST_N_DAYS:30",
    "SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact) AND Interests__c INCLUDES ('a;b')",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn parse_never_panics_on_arbitrary_text(text in "\\PC{0,200}") {
        let _ = parse(&text);
    }

    #[test]
    fn parse_never_panics_on_soql_like_tokens(
        tokens in proptest::collection::vec(
            prop_oneof![
                Just("SELECT"), Just("FROM"), Just("WHERE"), Just("("), Just(")"), Just(","),
                Just("'a\\'b'"), Just("'"), Just("\\"), Just("Id"), Just("Owner.Name"),
                Just("="), Just("!="), Just("<"), Just(">="), Just("AND"), Just("OR"),
                Just("NOT"), Just("IN"), Just("LIKE"), Just("null"), Just("2024-01-15"),
                Just("2024-01-15T10:30:00Z"), Just("LAST_N_DAYS"), Just(":"), Just("-1.5"),
                Just("ORDER"), Just("BY"), Just("LIMIT"), Just("OFFSET"), Just("99999999999999999999"),
                Just("COUNT()"), Just("NULLS"), Just("é"), Just("\u{1F600}"), Just("."),
            ],
            0..40,
        )
    ) {
        let _ = parse(&tokens.join(" "));
    }

    #[test]
    fn parse_never_panics_on_mutated_valid_queries(
        which in 0..VALID_QUERIES.len(),
        cuts in proptest::collection::vec((0usize..400, 0usize..4, "\\PC{0,3}"), 1..6),
    ) {
        let mut text = VALID_QUERIES[which].to_string();
        for (at, remove, insert) in cuts {
            let mut at = at.min(text.len());
            while !text.is_char_boundary(at) { at -= 1; }
            let mut end = (at + remove).min(text.len());
            while !text.is_char_boundary(end) { end += 1; }
            text.replace_range(at..end, &insert);
        }
        let org = org();
        let _ = parse(&text);
        let _ = execute(&text, &org, &OPTS);
    }

    #[test]
    fn escaped_literals_parse_back_to_the_same_string(value in "\\PC*|[\\x00-\\x20'\"\\\\%_]*") {
        let soql = format!("SELECT Id FROM Account WHERE Name = {}", escape_literal(&value));
        let query = parse(&soql).unwrap();
        match query.where_clause {
            Some(ast::Expr::Compare { value: ast::Literal::String(parsed), .. }) => {
                prop_assert_eq!(parsed, value)
            }
            other => prop_assert!(false, "unexpected {:?}", other),
        }
    }
}

/// Reference LIKE semantics, written the obvious recursive way.
fn like_reference(text: &[char], pattern: &[ast::LikePart]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((ast::LikePart::AnyMany, rest)) => {
            (0..=text.len()).any(|skip| like_reference(&text[skip..], rest))
        }
        Some((ast::LikePart::AnyOne, rest)) => !text.is_empty() && like_reference(&text[1..], rest),
        Some((ast::LikePart::Char(c), rest)) => {
            text.first() == Some(c) && like_reference(&text[1..], rest)
        }
    }
}

proptest! {
    #[test]
    fn like_agrees_with_the_reference_matcher(value in "[abAé]{0,8}", pattern in "[ab%_é]{0,6}") {
        let parts: Vec<ast::LikePart> = pattern
            .chars()
            .map(|c| match c {
                '%' => ast::LikePart::AnyMany,
                '_' => ast::LikePart::AnyOne,
                c => ast::LikePart::Char(c),
            })
            .collect();
        let lowered: Vec<char> = value.to_lowercase().chars().collect();
        prop_assert_eq!(
            eval::like_matches(&value, &parts),
            like_reference(&lowered, &parts)
        );
    }
}

#[test]
fn valid_corpus_parses() {
    for q in VALID_QUERIES {
        parse(q).unwrap_or_else(|e| panic!("{q}: {e}"));
    }
}

/// The server keeps executions behind query locators shared between request tasks.
#[test]
fn execution_is_send_sync_and_clone() {
    fn check<T: Send + Sync + Clone + std::fmt::Debug>() {}
    check::<Execution>();
}

/// The real store keeps CaseFeed as a view over FeedItem rows: `record_by_id` names the
/// storage object, and the engine must still find and show those rows as CaseFeed.
#[test]
fn view_objects_of_the_real_store_answer_by_id_parent_and_subquery() {
    use crate::fake_org::store::{GenerateOptions, Store};
    let mut store = Store::generate(&GenerateOptions {
        records: 20,
        seed: 1,
    });
    let case = execute(
        "SELECT Id FROM Case ORDER BY CaseNumber LIMIT 1",
        &store,
        &OPTS,
    )
    .unwrap()
    .ids[0]
        .clone();
    let body = json!({"ParentId": case, "Body": "posted in a test", "Type": "TextPost"});
    let item = store.create("FeedItem", body.as_object().unwrap()).unwrap();
    for soql in [
        format!("SELECT Id, Body FROM CaseFeed WHERE ParentId = '{case}'"),
        format!("SELECT Id, Body FROM CaseFeed WHERE Id = '{item}'"),
        format!("SELECT Id, Body FROM CaseFeed WHERE Id IN ('{item}') AND Type = 'TextPost'"),
    ] {
        let execution = execute(&soql, &store, &OPTS).unwrap();
        assert!(execution.ids.contains(&item), "{soql}");
        let rows = execution.project(&store, &OPTS, &execution.ids);
        let row = rows
            .iter()
            .find(|r| r["Id"] == item.as_str())
            .expect("row shown");
        assert_eq!(row["attributes"]["type"], "CaseFeed", "{soql}");
        assert_eq!(row["Body"], "posted in a test");
    }
    let soql = format!("SELECT Id, (SELECT Id, Body FROM Feeds) FROM Case WHERE Id = '{case}'");
    let execution = execute(&soql, &store, &OPTS).unwrap();
    let rows = execution.project(&store, &OPTS, &execution.ids);
    let feeds = rows[0]["Feeds"]["records"].as_array().unwrap();
    assert!(feeds.iter().any(|f| f["Id"] == item.as_str()));
}

/// Every queryable object of the real seeded store: all its fields selected, each
/// filterable field filtered with `!= null`, each sortable field sorted on. Catches any
/// stored value or field type the engine does not handle.
#[test]
fn every_field_of_every_store_object_selects_filters_and_sorts() {
    use crate::fake_org::store::{GenerateOptions, Store};
    let store = Store::generate(&GenerateOptions {
        records: 12,
        seed: 3,
    });
    let global = store.describe_global("59.0");
    let names: Vec<String> = global["sobjects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["queryable"] == true)
        .map(|o| o["name"].as_str().unwrap().to_string())
        .collect();
    assert!(names.len() > 10, "{names:?}");
    for name in names {
        // describeGlobal also lists objects the store holds no schema for (copied from the
        // capture); those are the store's business.
        let Some(object) = store.object(&name).cloned() else {
            continue;
        };
        if !object.required_filter_fields.is_empty() {
            continue;
        }
        let fields: Vec<&FieldDef> = object.fields.iter().filter(|f| !f.hidden).collect();
        let list: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        let soql = format!(
            "SELECT {} FROM {name} ORDER BY Id LIMIT 30",
            list.join(", ")
        );
        let execution = execute(&soql, &store, &OPTS).unwrap_or_else(|e| panic!("{name}: {e}"));
        let rows = execution.project(&store, &OPTS, &execution.ids);
        assert_eq!(rows.len(), execution.ids.len(), "{name}");
        for row in &rows {
            let mut expected = vec!["attributes"];
            expected.extend(&list);
            assert_eq!(keys(row), expected, "{name}");
        }
        for field in &fields {
            if field.filterable {
                let soql = format!("SELECT Id FROM {name} WHERE {} != null LIMIT 5", field.name);
                execute(&soql, &store, &OPTS).unwrap_or_else(|e| panic!("{soql}: {e}"));
            }
            if field.sortable {
                let soql = format!("SELECT Id FROM {name} ORDER BY {} DESC LIMIT 5", field.name);
                execute(&soql, &store, &OPTS).unwrap_or_else(|e| panic!("{soql}: {e}"));
            }
        }
    }
}

/// The shape of sfmount's Case listing against the real store: parent fields, a
/// polymorphic owner, file links and feeds as subqueries, then the feeds' comments.
#[test]
fn case_listing_as_sfmount_sends_it() {
    use crate::fake_org::store::{GenerateOptions, Store};
    let store = Store::generate(&GenerateOptions {
        records: 30,
        seed: 5,
    });
    let soql = "SELECT Id, CaseNumber, Subject, Description, Owner.Id, Owner.Name, Owner.Email, \
        CreatedBy.Id, CreatedBy.Name, Account.Id, Account.Name, Contact.Name, \
        (SELECT Id, ContentDocumentId, ShareType, Visibility, ContentDocument.Title, ContentDocument.FileExtension, ContentDocument.ContentSize FROM ContentDocumentLinks), \
        (SELECT Id, Type, Body, Title, LinkUrl, CreatedDate, CreatedBy.Name FROM Feeds ORDER BY CreatedDate ASC), \
        SystemModstamp FROM Case ORDER BY Id";
    let execution = execute(soql, &store, &OPTS).unwrap();
    assert!(execution.total_size >= 30);
    let rows = execution.project(&store, &OPTS, &execution.ids);
    let mut feed_ids = Vec::new();
    let mut saw_files = false;
    for row in &rows {
        assert_eq!(row["attributes"]["type"], "Case");
        if let Value::Object(owner) = &row["Owner"] {
            assert_eq!(
                owner["attributes"]["type"], "Name",
                "Case.Owner is polymorphic"
            );
        }
        if let Value::Object(links) = &row["ContentDocumentLinks"] {
            saw_files = true;
            assert_eq!(links["done"], true);
            assert_eq!(
                links["records"][0]["ContentDocument"]["attributes"]["type"],
                "ContentDocument"
            );
        }
        if let Value::Object(feeds) = &row["Feeds"] {
            let records = feeds["records"].as_array().unwrap();
            assert_eq!(feeds["totalSize"], records.len());
            let dates: Vec<&str> = records
                .iter()
                .map(|r| r["CreatedDate"].as_str().unwrap())
                .collect();
            assert!(dates.windows(2).all(|w| w[0] <= w[1]), "feeds sorted");
            feed_ids.extend(
                records
                    .iter()
                    .map(|r| r["Id"].as_str().unwrap().to_string()),
            );
        }
    }
    assert!(saw_files, "some cases have files");
    assert!(!feed_ids.is_empty(), "some cases have feeds");
    let quoted: Vec<String> = feed_ids.iter().map(|id| format!("'{id}'")).collect();
    let soql = format!(
        "SELECT Id, FeedItemId, CommentBody, CreatedDate, CreatedBy.Name FROM FeedComment WHERE FeedItemId IN ({}) ORDER BY CreatedDate",
        quoted.join(",")
    );
    let comments = execute(&soql, &store, &OPTS).unwrap();
    let rows = comments.project(&store, &OPTS, &comments.ids);
    assert!(!rows.is_empty());
    assert!(rows
        .iter()
        .all(|r| feed_ids.iter().any(|f| r["FeedItemId"] == f.as_str())));
}

#[test]
fn relative_date_ranges_on_fixed_days() {
    use super::ast::RelativeDate as R;
    use chrono::NaiveDate;
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    // A Wednesday.
    let today = day(2024, 3, 6);
    let range = |r| plan::relative_range(r, today);
    assert_eq!(range(R::Today), (day(2024, 3, 6), day(2024, 3, 7)));
    assert_eq!(range(R::Yesterday), (day(2024, 3, 5), day(2024, 3, 6)));
    assert_eq!(range(R::ThisWeek), (day(2024, 3, 3), day(2024, 3, 10)));
    assert_eq!(range(R::LastWeek), (day(2024, 2, 25), day(2024, 3, 3)));
    assert_eq!(range(R::LastMonth), (day(2024, 2, 1), day(2024, 3, 1)));
    assert_eq!(range(R::NextMonth), (day(2024, 4, 1), day(2024, 5, 1)));
    assert_eq!(range(R::ThisYear), (day(2024, 1, 1), day(2025, 1, 1)));
    assert_eq!(range(R::LastNDays(2)), (day(2024, 3, 4), day(2024, 3, 7)));
    assert_eq!(range(R::NextNDays(2)), (day(2024, 3, 7), day(2024, 3, 9)));
    let december = plan::relative_range(R::NextMonth, day(2024, 12, 31));
    assert_eq!(december, (day(2025, 1, 1), day(2025, 2, 1)));
    // Absurd spans saturate instead of overflowing, and still compare as dates.
    let (start, _) = range(R::LastNDays(u32::MAX));
    assert!(start < day(1, 1, 1));
    let org = org();
    let all = run(
        &org,
        "SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS:4000000000",
    );
    assert_eq!(all.total_size, 3);
    let none = run(
        &org,
        "SELECT Id FROM Account WHERE CreatedDate > NEXT_N_DAYS:4000000000",
    );
    assert_eq!(none.total_size, 0);
    let future = run(
        &org,
        "SELECT Id FROM Account WHERE CreatedDate < NEXT_N_DAYS:4000000000",
    );
    assert_eq!(future.total_size, 3);
}
