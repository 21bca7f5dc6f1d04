use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::{json, Map, Value};

use super::*;

fn small() -> Store {
    Store::generate(&GenerateOptions {
        records: 60,
        seed: 7,
    })
}

fn capture(name: &str) -> Value {
    // Copied into the repository (BSD-3 from CumulusCI, see the folder's NOTICE.md).
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/salesforce-captures")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read capture {}: {e}", path.display()));
    serde_json::from_str(&text).expect("captures are JSON")
}

fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect()
}

fn body(value: Value) -> Map<String, Value> {
    value.as_object().expect("test bodies are objects").clone()
}

fn all_records(store: &Store) -> Vec<(String, Record)> {
    store
        .tables
        .iter()
        .filter(|t| matches!(t.storage, Storage::Own(_)))
        .flat_map(|t| {
            store
                .records(&t.def.name)
                .map(|r| (t.def.name.clone(), r.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

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
fn describe_key_sets_match_the_captures() {
    let store = small();
    let lead_capture = capture("describe-Lead.json");
    let top_keys = keys(&lead_capture);
    let field_keys = keys(&lead_capture["fields"][0]);
    assert_eq!(field_keys.len(), 57);
    let child_keys = keys(&lead_capture["childRelationships"][0]);
    let record_type_keys = keys(&lead_capture["recordTypeInfos"][0]);
    for name in ["Account", "Case", "Contact", "Lead", "Opportunity"] {
        let captured = capture(&format!("describe-{name}.json"));
        let ours = store
            .describe(name, "v59.0", "https://fake.my.salesforce.com")
            .unwrap();
        assert_eq!(keys(&ours), top_keys, "{name} top-level keys");
        for field in ours["fields"].as_array().unwrap() {
            assert_eq!(keys(field), field_keys, "{name}.{} keys", field["name"]);
            assert_eq!(keys(field), keys(&captured["fields"][0]));
        }
        for child in ours["childRelationships"].as_array().unwrap() {
            assert_eq!(keys(child), child_keys);
        }
        let children: Vec<&str> = ours["childRelationships"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["childSObject"].as_str().unwrap())
            .collect();
        let mut sorted = children.clone();
        sorted.sort();
        assert_eq!(children, sorted, "{name} children sorted");
        assert_eq!(keys(&ours["recordTypeInfos"][0]), record_type_keys);
        assert_eq!(keys(&ours["urls"]), keys(&captured["urls"]), "{name} urls");
        assert_eq!(
            ours["urls"]["describe"],
            json!(format!("/services/data/v59.0/sobjects/{name}/describe"))
        );
        assert_eq!(
            ours["urls"]["uiDetailTemplate"],
            json!("https://fake.my.salesforce.com/{ID}")
        );
        // Same field types for the fields both sides have.
        for field in ours["fields"].as_array().unwrap() {
            if let Some(real) = captured["fields"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["name"] == field["name"])
            {
                for key in [
                    "type",
                    "soapType",
                    "filterable",
                    "sortable",
                    "nillable",
                    "referenceTo",
                    "relationshipName",
                    "calculated",
                ] {
                    assert_eq!(field[key], real[key], "{name}.{} {key}", field["name"]);
                }
            }
        }
    }
    let custom = capture("describe-Custom__c.json");
    let invoice = store.describe("Invoice__c", "59.0", "https://x").unwrap();
    assert_eq!(keys(&invoice), keys(&custom));
    let days_open = invoice["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Days_Open__c")
        .unwrap();
    assert_eq!(days_open["calculated"], json!(true));
    assert_eq!(days_open["custom"], json!(true));
}

#[test]
fn describe_global_matches_the_capture_and_lists_filterable_extras() {
    let store = small();
    let captured = capture("describe-global.json");
    let ours = store.describe_global("v52.0");
    assert_eq!(keys(&ours), keys(&captured));
    let entry_keys = keys(&captured["sobjects"][0]);
    let entries = ours["sobjects"].as_array().unwrap();
    for entry in entries {
        assert_eq!(keys(entry), entry_keys, "{}", entry["name"]);
    }
    let names: Vec<&str> = entries
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    let find = |name: &str| entries.iter().find(|e| e["name"] == name).unwrap();
    assert_eq!(find("AccountChangeEvent")["queryable"], json!(false));
    assert_eq!(find("CaseFeed")["keyPrefix"], json!(null));
    assert_eq!(find("CaseFeed")["associateEntityType"], json!("Feed"));
    assert_eq!(find("Account")["keyPrefix"], json!("001"));
    assert_eq!(find("Invoice__c")["custom"], json!(true));
    assert!(names.iter().any(|n| n.ends_with("__mdt")));
    assert!(names.iter().any(|n| n.ends_with("__e")));
    assert_eq!(
        find("Account")["urls"]["sobject"],
        json!("/services/data/v52.0/sobjects/Account")
    );

    // Objects with no rows here still describe, with the captures' field keys.
    let field_keys = keys(&capture("describe-Lead.json")["fields"][0]);
    for name in [
        "AccountChangeEvent",
        "Invoice_Paid__e",
        "region_setting__MDT",
    ] {
        let described = store
            .describe(name, "v52.0", "http://127.0.0.1:1")
            .unwrap_or_else(|| panic!("{name} describes"));
        let listed = find(described["name"].as_str().unwrap());
        assert_eq!(described["queryable"], listed["queryable"], "{name}");
        assert_eq!(described["childRelationships"], json!([]), "{name}");
        let fields = described["fields"].as_array().unwrap();
        assert!(fields.len() >= 4, "{name}");
        for field in fields {
            assert_eq!(keys(field), field_keys, "{name}.{}", field["name"]);
        }
    }
    let change_event = store
        .describe("AccountChangeEvent", "v52.0", "http://127.0.0.1:1")
        .unwrap();
    assert_eq!(change_event["associateParentEntity"], json!("Account"));
    assert_eq!(
        change_event["urls"]["eventSchema"],
        json!("/services/data/v52.0/sobjects/AccountChangeEvent/eventSchema")
    );
    assert!(store
        .describe("NoSuch__e", "v52.0", "http://127.0.0.1:1")
        .is_none());
}

#[test]
fn schema_facts_the_product_relies_on() {
    let store = small();
    let account = store.object("Account").unwrap();
    let billing = account.field("BillingAddress").unwrap();
    assert_eq!(billing.field_type, FieldType::Address);
    assert!(billing.filterable && !billing.sortable);
    let description = account.field("description").unwrap();
    assert!(!description.filterable && !description.sortable);
    assert_eq!(description.length, 32000);
    let case = store.object("Case").unwrap();
    assert_eq!(
        case.field("OwnerId").unwrap().reference_to,
        vec!["Group", "User"]
    );
    for (parent, relationship, child, field) in [
        ("Case", "Feeds", "CaseFeed", "ParentId"),
        ("Case", "CaseComments", "CaseComment", "ParentId"),
        ("Case", "EmailMessages", "EmailMessage", "ParentId"),
        (
            "Invoice__c",
            "ContentDocumentLinks",
            "ContentDocumentLink",
            "LinkedEntityId",
        ),
        ("CaseFeed", "FeedComments", "FeedComment", "FeedItemId"),
        ("FeedItem", "FeedComments", "FeedComment", "FeedItemId"),
        ("Account", "Projects__r", "Project__c", "Account__c"),
        ("Account", "ChildAccounts", "Account", "ParentId"),
    ] {
        let rel = store
            .object(parent)
            .unwrap()
            .child_relationship(relationship)
            .unwrap_or_else(|| panic!("{parent}.{relationship}"));
        assert_eq!(
            (rel.child_object.as_str(), rel.field.as_str()),
            (child, field)
        );
    }
    let project = store.object("Project__c").unwrap();
    assert_eq!(
        project.field_by_relationship("Account__r").unwrap().name,
        "Account__c"
    );
    assert_eq!(
        store
            .object("ContentDocumentLink")
            .unwrap()
            .required_filter_fields,
        vec!["LinkedEntityId", "ContentDocumentId", "Id"]
    );
}

#[test]
fn get_record_returns_attributes_and_visible_fields() {
    let store = small();
    let id = store.records("Account").next().unwrap()["Id"]
        .as_str()
        .unwrap()
        .to_string();
    let record = store.get_record("account", &id, None, "59.0").unwrap();
    assert_eq!(
        record["attributes"],
        json!({"type": "Account", "url": format!("/services/data/v59.0/sobjects/Account/{id}")})
    );
    assert_eq!(
        record.as_object().unwrap().len(),
        1 + store.object("Account").unwrap().fields.len()
    );
    let only = store
        .get_record(
            "Account",
            &id[..15],
            Some(&["name".to_string(), "Id".to_string()]),
            "59.0",
        )
        .unwrap();
    assert_eq!(
        keys(&only),
        BTreeSet::from(["attributes".into(), "Name".into(), "Id".into()])
    );
    let bad = store.get_record("Account", &id, Some(&["Foo".to_string()]), "59.0");
    assert_eq!(bad.unwrap_err().error_code(), "INVALID_FIELD");
    for (object, id) in [
        ("Account", "001000000000000AAA"),
        ("Nope", id.as_str()),
        ("Contact", id.as_str()),
        ("Account", "garbage"),
    ] {
        let err = store.get_record(object, id, None, "59.0").unwrap_err();
        assert_eq!((err.status_code(), err.error_code()), (404, "NOT_FOUND"));
        assert_eq!(err.to_string(), "The requested resource does not exist");
    }
}

#[test]
fn create_sets_system_fields_and_validates() {
    let mut store = small();
    let id = store
        .create(
            "Account",
            &body(json!({"Name": "New Co", "BillingCity": "Paris"})),
        )
        .unwrap();
    assert!(sfid::is_valid_18(&id) && id.starts_with("001"));
    let record = store.get_record("Account", &id, None, "59.0").unwrap();
    assert_eq!(record["IsDeleted"], json!(false));
    assert_eq!(record["OwnerId"], json!(store.integration_user_id()));
    assert_eq!(record["CreatedById"], json!(store.integration_user_id()));
    assert_eq!(record["CreatedDate"], record["SystemModstamp"]);
    assert_eq!(record["BillingAddress"]["city"], json!("Paris"));
    let stamp = record["CreatedDate"].as_str().unwrap();
    assert!(parse_datetime(stamp).unwrap().timestamp() > 1_700_000_000);

    let err = store
        .create("Account", &body(json!({"Name": "X", "Foo": 1})))
        .unwrap_err();
    assert_eq!(
        (err.status_code(), err.error_code()),
        (400, "INVALID_FIELD")
    );
    assert_eq!(
        err.to_string(),
        "No such column 'Foo' on sobject of type Account"
    );
    let err = store
        .create("Account", &body(json!({"Phone": "1"})))
        .unwrap_err();
    assert_eq!(err.error_code(), "REQUIRED_FIELD_MISSING");
    assert_eq!(err.fields(), vec!["Name"]);
    assert_eq!(err.to_string(), "Required fields are missing: [Name]");
    let err = store
        .create("Contact", &body(json!({"FirstName": "A"})))
        .unwrap_err();
    assert_eq!(err.fields(), vec!["LastName"]);
    let err = store
        .create(
            "Account",
            &body(json!({"Name": "X", "CreatedDate": "2024-01-01T00:00:00Z"})),
        )
        .unwrap_err();
    assert_eq!(err.error_code(), "INVALID_FIELD_FOR_INSERT_UPDATE");
    let err = store
        .create("Account", &body(json!({"Name": "x".repeat(256)})))
        .unwrap_err();
    assert_eq!(err.error_code(), "STRING_TOO_LONG");
    let err = store
        .create(
            "Account",
            &body(json!({"Name": "X", "NumberOfEmployees": "many"})),
        )
        .unwrap_err();
    assert_eq!(err.error_code(), "JSON_PARSER_ERROR");
    let err = store
        .create("Account", &body(json!({"Name": "X", "ParentId": "nope"})))
        .unwrap_err();
    assert_eq!(err.error_code(), "MALFORMED_ID");
    let err = store
        .create("Nope__c", &body(json!({"Name": "X"})))
        .unwrap_err();
    assert_eq!((err.status_code(), err.error_code()), (404, "NOT_FOUND"));
    let err = store
        .create("CaseFeed", &body(json!({"Body": "x"})))
        .unwrap_err();
    assert_eq!(err.error_code(), "INVALID_TYPE_FOR_OPERATION");

    let before = store.records("Case").count();
    let case = store.create("Case", &Map::new()).unwrap();
    assert_eq!(store.records("Case").count(), before + 1);
    let case = store.get_record("Case", &case, None, "59.0").unwrap();
    assert_eq!(case["CaseNumber"], json!(format!("{:08}", 1001 + before)));
    assert_eq!(case["Status"], json!("New"));
}

#[test]
fn mutations_move_stamps_strictly_forward() {
    let mut store = small();
    let id = store
        .create("Lead", &body(json!({"LastName": "Ng", "Company": "C"})))
        .unwrap();
    let mut previous = String::new();
    for i in 0..50 {
        store
            .update("Lead", &id, &body(json!({"Title": format!("T{i}")})))
            .unwrap();
        let record = store.get_record("Lead", &id, None, "59.0").unwrap();
        let stamp = record["SystemModstamp"].as_str().unwrap().to_string();
        assert_eq!(record["LastModifiedDate"].as_str().unwrap(), stamp);
        assert_eq!(stamp.len(), "2024-01-15T10:30:00.000+0000".len());
        assert!(stamp > previous, "{stamp} after {previous}");
        previous = stamp;
    }
    // Other records' mutations also stamp later.
    let other = store.records("Account").next().unwrap()["Id"]
        .as_str()
        .unwrap()
        .to_string();
    store
        .update("Account", &other, &body(json!({"Name": "Renamed"})))
        .unwrap();
    let stamp = store.get_record("Account", &other, None, "59.0").unwrap()["SystemModstamp"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(stamp > previous);
    let err = store
        .update("Account", &other, &body(json!({"Name": ""})))
        .unwrap_err();
    assert_eq!(err.error_code(), "REQUIRED_FIELD_MISSING");
    let contact = store
        .create(
            "Contact",
            &body(json!({"FirstName": "Ada", "LastName": "Lovelace"})),
        )
        .unwrap();
    store
        .update("Contact", &contact, &body(json!({"lastname": "King"})))
        .unwrap();
    assert_eq!(
        store.get_record("Contact", &contact, None, "59.0").unwrap()["Name"],
        json!("Ada King")
    );
}

#[test]
fn update_keeps_the_child_index_in_step() {
    let mut store = small();
    let accounts: Vec<String> = store
        .records("Account")
        .take(2)
        .map(|r| r["Id"].as_str().unwrap().to_string())
        .collect();
    let contact = store
        .create(
            "Contact",
            &body(json!({"LastName": "Moved", "AccountId": accounts[0]})),
        )
        .unwrap();
    let ids = |store: &Store, account: &str| -> Vec<String> {
        store
            .children("Contact", "AccountId", account)
            .iter()
            .map(|r| r["Id"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(ids(&store, &accounts[0]).contains(&contact));
    store
        .update(
            "Contact",
            &contact,
            &body(json!({"AccountId": accounts[1]})),
        )
        .unwrap();
    assert!(!ids(&store, &accounts[0]).contains(&contact));
    assert!(ids(&store, &accounts[1]).contains(&contact));
}

#[test]
fn delete_and_undelete_use_the_recycle_bin() {
    let mut store = small();
    let id = store.records("Opportunity").next().unwrap()["Id"]
        .as_str()
        .unwrap()
        .to_string();
    let live = store.record_count("Opportunity");
    let stamp_of = |store: &Store| {
        let (_, record) = store.record_by_id(&id).unwrap();
        assert_eq!(record["LastModifiedDate"], record["SystemModstamp"]);
        record["SystemModstamp"].as_str().unwrap().to_string()
    };
    let before = stamp_of(&store);
    store.delete("Opportunity", &id).unwrap();
    assert_eq!(store.record_count("Opportunity"), live - 1);
    let deleted_at = stamp_of(&store);
    assert!(deleted_at > before, "{deleted_at} after {before}");
    let (_, record) = store.record_by_id(&id).unwrap();
    assert_eq!(record["IsDeleted"], json!(true));
    assert_eq!(store.records("Opportunity").count(), live);
    let err = store
        .get_record("Opportunity", &id, None, "59.0")
        .unwrap_err();
    assert_eq!(
        (err.status_code(), err.error_code()),
        (404, "ENTITY_IS_DELETED")
    );
    assert_eq!(
        store.delete("Opportunity", &id).unwrap_err(),
        StoreError::EntityIsDeleted
    );
    assert_eq!(
        store
            .update("Opportunity", &id, &body(json!({"Amount": 1})))
            .unwrap_err(),
        StoreError::EntityIsDeleted
    );
    store.undelete(&id).unwrap();
    assert_eq!(store.record_count("Opportunity"), live);
    assert!(
        stamp_of(&store) > deleted_at,
        "undelete is a modification too"
    );
    assert!(store.get_record("Opportunity", &id, None, "59.0").is_ok());
    let err = store.undelete(&id).unwrap_err();
    assert_eq!(err.error_code(), "UNDELETE_FAILED");
    assert_eq!(
        store.undelete("006000000000000AAA").unwrap_err(),
        StoreError::NotFound
    );
    let org = store.org_id().to_string();
    assert_eq!(
        store.delete("Organization", &org).unwrap_err().error_code(),
        "INVALID_TYPE_FOR_OPERATION"
    );
}

#[test]
fn new_feed_items_and_comments_join_the_case_feed() {
    let mut store = small();
    let case = store.records("Case").next().unwrap().clone();
    let case_id = case["Id"].as_str().unwrap().to_string();
    let feeds_before = store.children("CaseFeed", "ParentId", &case_id).len();
    let item = store
        .create(
            "FeedItem",
            &body(json!({"ParentId": case_id, "Body": "New post"})),
        )
        .unwrap();
    let feeds: Vec<Record> = store.children("CaseFeed", "ParentId", &case_id);
    assert_eq!(feeds.len(), feeds_before + 1);
    assert!(store.records("CaseFeed").any(|r| r["Id"] == json!(item)));
    assert!(store.get_record("CaseFeed", &item, None, "59.0").is_ok());
    let comment = store
        .create(
            "FeedComment",
            &body(json!({"FeedItemId": item, "CommentBody": "First!"})),
        )
        .unwrap();
    let (_, stored) = store.record_by_id(&comment).unwrap();
    assert_eq!(stored["ParentId"], json!(case_id));
    assert_eq!(store.children("FeedComment", "FeedItemId", &item).len(), 1);
    assert_eq!(
        store.record_by_id(&item).unwrap().1["CommentCount"],
        json!(1)
    );
    // The case itself did not move.
    let (_, after) = store.record_by_id(&case_id).unwrap();
    assert_eq!(after["SystemModstamp"], case["SystemModstamp"]);

    // A post on an Account is a FeedItem but not CaseFeed.
    let account = store.records("Account").next().unwrap()["Id"]
        .as_str()
        .unwrap()
        .to_string();
    let post = store
        .create(
            "FeedItem",
            &body(json!({"ParentId": account, "Body": "hi"})),
        )
        .unwrap();
    assert!(!store.records("CaseFeed").any(|r| r["Id"] == json!(post)));
    assert_eq!(
        store
            .get_record("CaseFeed", &post, None, "59.0")
            .unwrap_err(),
        StoreError::NotFound
    );
    let err = store
        .create("FeedItem", &body(json!({"Body": "orphan"})))
        .unwrap_err();
    assert_eq!(err.fields(), vec!["ParentId"]);
}

#[test]
fn content_version_insert_creates_its_document() {
    use base64::Engine as _;
    let mut store = small();
    let encoded = base64::engine::general_purpose::STANDARD.encode("hello, file");
    let version = store
        .create(
            "ContentVersion",
            &body(json!({"Title": "Greeting", "PathOnClient": "greeting.txt", "VersionData": encoded})),
        )
        .unwrap();
    let (bytes, mime) = store.version_data(&version).unwrap();
    assert_eq!(
        (bytes.as_slice(), mime.as_str()),
        (&b"hello, file"[..], "text/plain")
    );
    let (_, record) = store.record_by_id(&version).unwrap();
    let document = record["ContentDocumentId"].as_str().unwrap().to_string();
    let (def, doc) = store.record_by_id(&document).unwrap();
    assert_eq!(def.name, "ContentDocument");
    assert_eq!(doc["LatestPublishedVersionId"], json!(version));
    assert_eq!(doc["ContentSize"], json!(11));
    assert_eq!(doc["FileExtension"], json!("txt"));
}

#[test]
fn hidden_fields_vanish_everywhere() {
    let mut store = small();
    store.set_field_hidden("Account", "Phone", true).unwrap();
    let describe = store.describe("Account", "59.0", "https://x").unwrap();
    assert!(!describe["fields"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["name"] == "Phone"));
    assert!(store.object("Account").unwrap().field("Phone").is_none());
    let id = store.records("Account").next().unwrap()["Id"]
        .as_str()
        .unwrap()
        .to_string();
    let record = store.get_record("Account", &id, None, "59.0").unwrap();
    assert!(record.get("Phone").is_none());
    let err = store
        .create("Account", &body(json!({"Name": "A", "Phone": "1"})))
        .unwrap_err();
    assert_eq!(err.error_code(), "INVALID_FIELD");
    store.set_field_hidden("Account", "phone", false).unwrap();
    assert!(store
        .get_record("Account", &id, None, "59.0")
        .unwrap()
        .get("Phone")
        .is_some());
    assert_eq!(
        store
            .set_field_hidden("Account", "Nope", true)
            .unwrap_err()
            .error_code(),
        "INVALID_FIELD"
    );
    assert_eq!(
        store
            .set_field_hidden("Nope", "Phone", true)
            .unwrap_err()
            .error_code(),
        "INVALID_TYPE"
    );

    store.set_queryable("Lead", false).unwrap();
    assert!(!store.object("Lead").unwrap().queryable);
    assert_eq!(
        store.describe("Lead", "59.0", "https://x").unwrap()["queryable"],
        json!(false)
    );
    let global = store.describe_global("59.0");
    let lead = global["sobjects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "Lead")
        .unwrap();
    assert_eq!(lead["queryable"], json!(false));
}

#[test]
fn formula_follows_the_clock_without_moving_the_modstamp() {
    let mut store = small();
    let invoice = store.records("Invoice__c").next().unwrap().clone();
    let id = invoice["Id"].as_str().unwrap().to_string();
    let day_count = |store: &Store| {
        store.get_record("Invoice__c", &id, None, "59.0").unwrap()["Days_Open__c"]
            .as_f64()
            .unwrap()
    };
    let now = day_count(&store);
    let created = parse_datetime(invoice["CreatedDate"].as_str().unwrap()).unwrap();
    let expected = (Utc::now().date_naive() - created.date_naive()).num_days() as f64;
    assert!((now - expected).abs() <= 1.0, "{now} vs {expected}");
    store.set_formula_clock_offset(Duration::days(3));
    assert_eq!(day_count(&store), now + 3.0);
    let def = store.object("Invoice__c").unwrap();
    let field = def.field("Days_Open__c").unwrap();
    let (_, record) = store.record_by_id(&id).unwrap();
    let (_, row) = DataSource::record_by_id(&store, &id).unwrap();
    assert_eq!(store.formula(def, field, row), json!(now + 3.0));
    assert!(
        record.get("Days_Open__c").is_none(),
        "formulas are not stored"
    );
    assert_eq!(record["SystemModstamp"], invoice["SystemModstamp"]);
}

#[test]
fn error_bodies_have_salesforce_codes_and_statuses() {
    let cases = [
        (StoreError::NotFound, 404, "NOT_FOUND"),
        (StoreError::EntityIsDeleted, 404, "ENTITY_IS_DELETED"),
        (
            StoreError::MalformedJson("x".into()),
            400,
            "JSON_PARSER_ERROR",
        ),
        (
            StoreError::RequiredFieldMissing {
                fields: vec!["Name".into()],
            },
            400,
            "REQUIRED_FIELD_MISSING",
        ),
    ];
    for (error, status, code) in cases {
        assert_eq!((error.status_code(), error.error_code()), (status, code));
    }
}

#[test]
fn derived_flags_follow_status_and_stage() {
    let mut store = small();
    let case = store
        .create("Case", &body(json!({"Subject": "s"})))
        .unwrap();
    let read =
        |store: &Store, object: &str, id: &str| store.get_record(object, id, None, "59.0").unwrap();
    assert_eq!(read(&store, "Case", &case)["IsClosed"], json!(false));
    assert_eq!(read(&store, "Case", &case)["ClosedDate"], json!(null));
    store
        .update("Case", &case, &body(json!({"Status": "Closed"})))
        .unwrap();
    let closed = read(&store, "Case", &case);
    assert_eq!(closed["IsClosed"], json!(true));
    assert_eq!(closed["ClosedDate"], closed["LastModifiedDate"]);
    let err = store
        .update("Case", &case, &body(json!({"IsClosed": false})))
        .unwrap_err();
    assert_eq!(err.fields(), vec!["IsClosed"]);

    let account = store.records("Account").next().unwrap()["Id"].clone();
    let opportunity = store
        .create(
            "Opportunity",
            &body(json!({"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2026-03-01", "AccountId": account})),
        )
        .unwrap();
    store
        .update(
            "Opportunity",
            &opportunity,
            &body(json!({"StageName": "Closed Won"})),
        )
        .unwrap();
    let won = read(&store, "Opportunity", &opportunity);
    assert_eq!(
        (won["IsClosed"].clone(), won["IsWon"].clone()),
        (json!(true), json!(true))
    );
    assert_eq!(won["CloseDate"], json!("2026-03-01"));
    let err = store
        .create("Opportunity", &body(json!({"Name": "No stage"})))
        .unwrap_err();
    assert_eq!(err.fields(), vec!["StageName", "CloseDate"]);
}

#[test]
fn deleting_a_case_cascades_to_its_feed_and_undelete_restores_it() {
    let mut store = small();
    let case_id = store.records("Case").next().unwrap()["Id"]
        .as_str()
        .unwrap()
        .to_string();
    let feed_ids: Vec<String> = store
        .children("CaseFeed", "ParentId", &case_id)
        .iter()
        .map(|r| r["Id"].as_str().unwrap().to_string())
        .collect();
    let comments_before = store.record_count("FeedComment");
    let live_feed = store.record_count("CaseFeed");
    store.delete("Case", &case_id).unwrap();
    assert_eq!(store.record_count("CaseFeed"), live_feed - feed_ids.len());
    for id in &feed_ids {
        assert_eq!(store.record_by_id(id).unwrap().1["IsDeleted"], json!(true));
    }
    assert!(
        store.record_count("FeedComment") < comments_before,
        "the marker comment went too"
    );
    // Undelete by the 15-character Id, as clients may pass.
    store.undelete(&case_id[..15]).unwrap();
    assert_eq!(store.record_count("CaseFeed"), live_feed);
    assert_eq!(store.record_count("FeedComment"), comments_before);
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
