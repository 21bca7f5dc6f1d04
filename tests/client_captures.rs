//! Conformance: every captured Salesforce response parses into the client's own types.

use std::path::PathBuf;

use serde_json::Value;
use sfmount::salesforce::{
    error_from_response, DescribeGlobal, QueryPage, Record, SObjectDescribe, SfError,
};

/// Captured real-org responses, copied into the repository with their licence notice
/// (BSD-3 from CumulusCI, see the folder's NOTICE.md).
fn captures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/salesforce-captures")
}

fn read_json(name: &str) -> Value {
    let path = captures_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn every_capture_file_is_covered_by_a_test() {
    let mut names: Vec<String> = std::fs::read_dir(captures_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    let covered = [
        "describe-Account.json",
        "describe-Case.json",
        "describe-Contact.json",
        "describe-Custom__c.json",
        "describe-Lead.json",
        "describe-Opportunity.json",
        "describe-global.json",
        "query-and-error-exchanges.json",
        "record-Organization.json",
    ];
    assert_eq!(names, covered, "a new capture needs a conformance test");
}

#[test]
fn describe_global_parses() {
    let global: DescribeGlobal = serde_json::from_value(read_json("describe-global.json")).unwrap();
    assert_eq!(global.max_batch_size, Some(200));
    assert!(global.sobjects.len() >= 100, "{}", global.sobjects.len());
    let account = global.find("account").unwrap();
    assert_eq!(account.key_prefix.as_deref(), Some("001"));
    assert!(account.queryable && !account.custom);
    // Feed objects have a null key prefix and name their parent entity.
    let feed = global
        .sobjects
        .iter()
        .find(|s| s.associate_entity_type.as_deref() == Some("Feed"))
        .unwrap();
    assert!(feed.key_prefix.is_none());
    assert!(feed.associate_parent_entity.is_some());
}

#[test]
fn every_object_describe_parses() {
    for (file, name) in [
        ("describe-Account.json", "Account"),
        ("describe-Case.json", "Case"),
        ("describe-Contact.json", "Contact"),
        ("describe-Custom__c.json", "Custom__c"),
        ("describe-Lead.json", "Lead"),
        ("describe-Opportunity.json", "Opportunity"),
    ] {
        let raw = read_json(file);
        let field_count = raw["fields"].as_array().unwrap().len();
        let child_count = raw["childRelationships"].as_array().unwrap().len();
        let d: SObjectDescribe =
            serde_json::from_value(raw).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(d.name, name);
        assert_eq!(d.fields.len(), field_count, "{file}");
        assert_eq!(d.child_relationships.len(), child_count, "{file}");
        let id = d.field("id").unwrap_or_else(|| panic!("{file}: no Id"));
        assert_eq!(id.field_type, "id");
    }
}

#[test]
fn describe_details_come_through() {
    let account: SObjectDescribe =
        serde_json::from_value(read_json("describe-Account.json")).unwrap();
    let owner = account.relationship("owner").unwrap();
    assert_eq!(owner.name, "OwnerId");
    assert_eq!(owner.reference_to, vec!["User".to_string()]);
    assert!(!owner.is_polymorphic());
    let billing = account.field("BillingAddress").unwrap();
    assert_eq!(billing.field_type, "address");
    assert_eq!(
        account
            .field("BillingCity")
            .unwrap()
            .compound_field_name
            .as_deref(),
        Some("BillingAddress")
    );
    assert_eq!(account.name_field().unwrap().name, "Name");
    assert!(account.child_relationship("ContentDocumentLinks").is_some());

    let case: SObjectDescribe = serde_json::from_value(read_json("describe-Case.json")).unwrap();
    let feeds = case.child_relationship("Feeds").unwrap();
    assert_eq!(feeds.child_sobject, "CaseFeed");
    assert_eq!(feeds.field, "ParentId");
    // Children without a relationship name cannot be used in subqueries.
    assert!(case
        .child_relationships
        .iter()
        .any(|c| c.relationship_name.is_none()));

    let lead: SObjectDescribe = serde_json::from_value(read_json("describe-Lead.json")).unwrap();
    assert!(lead.relationship("Owner").unwrap().is_polymorphic());
    let description = lead.field("Description").unwrap();
    assert!(!description.filterable && !description.sortable);
}

#[test]
fn captured_exchanges_parse() {
    let exchanges = read_json("query-and-error-exchanges.json");
    let mut pages = 0;
    let mut errors = 0;
    let mut writes = 0;
    for exchange in exchanges.as_array().unwrap() {
        let uri = exchange["uri"].as_str().unwrap();
        let body = exchange["body"].clone();
        if uri.contains("/query/") {
            let page = QueryPage::parse(body).unwrap();
            assert!(page.done);
            assert_eq!(page.total_size as usize, page.records.len());
            for r in &page.records {
                assert!(r["attributes"]["type"].is_string());
                assert!(r["Id"].as_str().is_some_and(|id| id.len() == 18));
            }
            pages += 1;
        } else if uri.ends_with("/composite") {
            for sub in body["compositeResponse"].as_array().unwrap() {
                let status = sub["httpStatusCode"].as_u64().unwrap() as u16;
                if status == 200 {
                    let page = QueryPage::parse(sub["body"].clone()).unwrap();
                    assert_eq!(page.total_size, 17);
                    assert!(page.records.is_empty());
                } else {
                    let bytes = serde_json::to_vec(&sub["body"]).unwrap();
                    let err = error_from_response(status, &bytes, "composite subrequest");
                    match status {
                        404 => assert!(matches!(err, SfError::NotFound { .. }), "{err}"),
                        400 => {
                            assert!(matches!(err, SfError::InvalidType { .. }), "{err}");
                            assert!(err.to_string().contains("XYZZY"));
                        }
                        other => panic!("unexpected status {other}"),
                    }
                    errors += 1;
                }
            }
        } else if uri.ends_with("/composite/sobjects") {
            // sObject Collections inserts: sfmount is read-only and never sends them, so
            // there is no client type to parse them with; their shape is checked instead.
            for result in body.as_array().unwrap() {
                assert!(result["id"].is_string() && result["success"].is_boolean());
            }
            writes += 1;
        } else {
            panic!("a captured exchange no test reads: {uri}");
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(errors, 2);
    assert_eq!(writes, 2);
}

#[test]
fn record_capture_parses_as_a_record() {
    let record: Record = serde_json::from_value(read_json("record-Organization.json")).unwrap();
    assert_eq!(record["attributes"]["type"], "Organization");
    assert!(record["Address"].is_object());
    // Salesforce datetimes: milliseconds and a +0000 offset without a colon.
    let created = record["CreatedDate"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_str(created, "%Y-%m-%dT%H:%M:%S%.3f%z").is_ok(),
        "{created}"
    );
}
