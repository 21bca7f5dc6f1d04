//! Store tests: describe and describeGlobal bodies against the captures, and the schema facts the product relies on.

use super::*;

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
