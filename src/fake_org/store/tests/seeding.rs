//! Store tests: what the seeded org holds: counts, Ids, awkward values, cases, files, wide objects.

use super::*;

#[test]
fn same_seed_same_data_and_other_seed_other_data() {
    let a = small();
    let b = small();
    let c = Store::generate(&GenerateOptions {
        records: 60,
        seed: 8,
    });
    assert_eq!(all_records(&a), all_records(&b));
    assert_eq!(a.blobs, b.blobs);
    assert_ne!(all_records(&a), all_records(&c));
}

#[test]
fn record_counts_follow_the_options() {
    let store = Store::generate(&GenerateOptions {
        records: 100,
        seed: 1,
    });
    for object in [
        "Account",
        "Contact",
        "Lead",
        "Opportunity",
        "Campaign",
        "Case",
    ] {
        assert_eq!(store.record_count(object), 100, "{object}");
    }
    assert_eq!(store.record_count("User"), 20);
    assert_eq!(store.record_count("Group"), 2);
    assert_eq!(store.record_count("Invoice__c"), 25);
    assert_eq!(store.record_count("Project__c"), 25);
    assert_eq!(store.record_count("Wide_Object__c"), 20);
    assert!(store.record_count("ContentDocument") >= 10);
    // Fewer records than awkward names: Accounts are never fewer than those.
    let tiny = Store::generate(&GenerateOptions {
        records: 3,
        seed: 1,
    });
    assert!(tiny.record_count("Account") >= 20);
    assert_eq!(tiny.record_count("Case"), 3);
}

#[test]
fn every_id_and_reference_is_valid_and_resolves() {
    let store = small();
    for (object, record) in all_records(&store) {
        let def = store.object(&object).expect("object exists");
        let id = record["Id"].as_str().expect("Id is a string");
        assert!(sfid::is_valid_18(id), "{object} Id {id}");
        assert!(id.starts_with(&def.key_prefix), "{object} Id {id}");
        for field in def
            .fields
            .iter()
            .filter(|f| f.field_type == FieldType::Reference)
        {
            let Some(target) = record.get(&field.name).and_then(Value::as_str) else {
                continue;
            };
            let (target_def, _) = store
                .record_by_id(target)
                .unwrap_or_else(|| panic!("{object}.{} = {target} resolves", field.name));
            assert!(
                field.reference_to.contains(&target_def.name),
                "{object}.{} points at a {}",
                field.name,
                target_def.name
            );
        }
    }
}

#[test]
fn seeded_values_are_awkward_and_dated_in_range() {
    let store = small();
    let accounts: Vec<Record> = store.records("Account").collect();
    let names: Vec<&str> = accounts.iter().filter_map(|r| r["Name"].as_str()).collect();
    for expected in [
        ".",
        "..",
        "Acme / Subsidiary",
        "O'Reilly & Sons",
        "The \"Quoted\" Company",
    ] {
        assert!(names.contains(&expected), "{expected:?} missing");
    }
    assert!(names.iter().any(|n| n.chars().count() == 255));
    assert!(names.iter().any(|n| n.starts_with(' ') && n.ends_with(' ')));
    assert!(names
        .iter()
        .any(|n| n.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))));
    assert!(names.iter().any(|n| n.contains('🚀')));
    assert_eq!(
        names.iter().filter(|n| **n == "Duplicate Name Inc").count(),
        2
    );
    let longest = store
        .records("Account")
        .filter_map(|r| r.get("Description").and_then(Value::as_str).map(str::len))
        .max()
        .unwrap_or(0);
    assert!(
        longest > 4_000,
        "a description of several KB, got {longest}"
    );

    let start = parse_datetime("2023-01-01T00:00:00.000+0000").unwrap();
    let end = parse_datetime("2026-01-01T00:00:00.000+0000").unwrap();
    for object in ["Account", "Contact", "Case", "Invoice__c"] {
        for record in store.records(object) {
            let created = parse_datetime(record["CreatedDate"].as_str().unwrap()).unwrap();
            let modified = parse_datetime(record["LastModifiedDate"].as_str().unwrap()).unwrap();
            assert!(created >= start && created < end, "{object} {created}");
            assert!(modified >= created);
            assert_eq!(record["SystemModstamp"], record["LastModifiedDate"]);
            assert!(record["CreatedDate"].as_str().unwrap().ends_with("+0000"));
        }
    }
    let account = store.records("Account").nth(5).unwrap();
    let address = &account["BillingAddress"];
    assert_eq!(address["city"], account["BillingCity"]);
    assert_eq!(address["street"], account["BillingStreet"]);
}

#[test]
fn cases_have_numbers_feeds_comments_and_the_marker() {
    let store = small();
    let mut cases: Vec<Record> = store.records("Case").collect();
    cases.sort_by_key(|c| c["CaseNumber"].as_str().unwrap().to_string());
    for (i, case) in cases.iter().enumerate() {
        let number = case["CaseNumber"].as_str().unwrap();
        assert_eq!(number.len(), 8);
        assert_eq!(number.parse::<usize>().unwrap(), 1001 + i);
        let feeds = store.children("CaseFeed", "ParentId", case["Id"].as_str().unwrap());
        assert!(
            (1..=4).contains(&feeds.len()),
            "case {number} has {} feeds",
            feeds.len()
        );
        for item in feeds {
            let comments =
                store.children("FeedComment", "FeedItemId", item["Id"].as_str().unwrap());
            assert_eq!(item["CommentCount"], json!(comments.len()));
            for comment in comments {
                assert_eq!(comment["ParentId"], case["Id"]);
            }
        }
    }
    let marked: Vec<Record> = store
        .records("FeedComment")
        .filter(|c| {
            c["CommentBody"]
                .as_str()
                .unwrap()
                .contains(FEED_COMMENT_MARKER)
        })
        .collect();
    assert_eq!(marked.len(), 1);
    assert_eq!(marked[0]["ParentId"], cases[0]["Id"]);
    let types: BTreeSet<String> = store
        .records("CaseFeed")
        .filter_map(|r| r["Type"].as_str().map(str::to_string))
        .collect();
    assert!(types.len() >= 3, "several feed types: {types:?}");
    assert!(store.records("CaseComment").count() > 0);
}

#[test]
fn files_have_bytes_sizes_and_links() {
    let store = small();
    let mut linked_objects = BTreeSet::new();
    for document in store.records("ContentDocument") {
        let latest = document["LatestPublishedVersionId"].as_str().unwrap();
        let (bytes, mime) = store
            .version_data(latest)
            .expect("latest version has bytes");
        assert_eq!(document["ContentSize"], json!(bytes.len()));
        assert!(mime.starts_with("text/"), "{mime}");
        assert!(std::str::from_utf8(&bytes).is_ok());
        let links = store.children(
            "ContentDocumentLink",
            "ContentDocumentId",
            document["Id"].as_str().unwrap(),
        );
        assert!(!links.is_empty());
        for link in links {
            let target = link["LinkedEntityId"].as_str().unwrap();
            linked_objects.insert(store.record_by_id(target).unwrap().0.name.clone());
        }
    }
    for object in ["Account", "Case", "Project__c"] {
        assert!(
            linked_objects.contains(object),
            "{object} has files: {linked_objects:?}"
        );
    }
    let version = store.records("ContentVersion").next().unwrap();
    let id = version["Id"].as_str().unwrap();
    let got = store
        .get_record("ContentVersion", id, None, "v62.0")
        .unwrap();
    assert_eq!(
        got["VersionData"],
        json!(format!(
            "/services/data/v62.0/sobjects/ContentVersion/{id}/VersionData"
        ))
    );
    assert!(store.version_data("068000000000000AAA").is_none());
}

#[test]
fn wide_object_field_list_passes_the_uri_limit() {
    let store = small();
    let def = store.object("Wide_Object__c").unwrap();
    let custom: Vec<&str> = def
        .fields
        .iter()
        .filter(|f| f.custom)
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(custom.len(), 800);
    assert!(custom.join(",").len() > 16_384);
    let record = store.records("Wide_Object__c").next().unwrap();
    assert!(record["Wide_Field_Number_0800__c"].is_string());
}

#[test]
fn an_org_with_zero_records_per_object_still_generates() {
    let store = Store::generate(&GenerateOptions {
        records: 0,
        seed: 7,
    });
    // Users and the accounts with awkward names exist regardless of the count asked for.
    assert!(store.record_count("User") > 0);
    assert!(store.record_count("Account") > 0);
}
