//! Store tests: record reads and writes: create, update, delete, undelete, hidden fields, formulas, derived fields.

use super::*;

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
