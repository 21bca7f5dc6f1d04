//! Engine tests over a small in-memory org: users and a queue, accounts with contacts,
//! cases with feeds and comments, files, a custom object with a lookup, a hidden field,
//! a formula field, a non-queryable object and deleted rows.

use std::cell::Cell;

use chrono::{Duration, Utc};
use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;
use crate::fake_org::model::{
    ChildRelationshipDef, DataSource, FieldDef, FieldType, ObjectDef, Record, RowRef,
};
use crate::sfid::make_id;

fn field(name: &str, field_type: FieldType) -> FieldDef {
    FieldDef {
        name: name.to_string(),
        label: name.to_string(),
        field_type,
        length: 0,
        reference_to: Vec::new(),
        relationship_name: None,
        nillable: true,
        custom: name.ends_with("__c"),
        calculated: false,
        filterable: field_type != FieldType::Base64,
        sortable: !matches!(field_type, FieldType::Address | FieldType::Base64),
        compound_field_name: None,
        name_field: name == "Name",
        hidden: false,
        picklist_values: Vec::new(),
    }
}

fn lookup(name: &str, relationship: &str, targets: &[&str]) -> FieldDef {
    FieldDef {
        reference_to: targets.iter().map(|t| t.to_string()).collect(),
        relationship_name: Some(relationship.to_string()),
        ..field(name, FieldType::Reference)
    }
}

fn long_text(name: &str) -> FieldDef {
    FieldDef {
        filterable: false,
        sortable: false,
        ..field(name, FieldType::TextArea)
    }
}

fn child(relationship: &str, object: &str, field: &str) -> ChildRelationshipDef {
    ChildRelationshipDef {
        relationship_name: Some(relationship.to_string()),
        child_object: object.to_string(),
        field: field.to_string(),
        cascade_delete: false,
    }
}

fn object(name: &str, prefix: &str, fields: Vec<FieldDef>) -> ObjectDef {
    let mut all = vec![
        field("Id", FieldType::Id),
        field("IsDeleted", FieldType::Boolean),
    ];
    all.extend(fields);
    ObjectDef {
        name: name.to_string(),
        label: name.to_string(),
        label_plural: format!("{name}s"),
        key_prefix: prefix.to_string(),
        custom: name.ends_with("__c"),
        queryable: true,
        fields: all,
        child_relationships: Vec::new(),
        required_filter_fields: Vec::new(),
    }
}

fn schema() -> Vec<ObjectDef> {
    let user = object(
        "User",
        "005",
        vec![
            field("Name", FieldType::String),
            field("Email", FieldType::Email),
            field("Alias", FieldType::String),
            field("IsActive", FieldType::Boolean),
            lookup("ManagerId", "Manager", &["User"]),
        ],
    );
    let group = object(
        "Group",
        "00G",
        vec![
            field("Name", FieldType::String),
            field("Type", FieldType::Picklist),
        ],
    );
    let mut account = object(
        "Account",
        "001",
        vec![
            field("Name", FieldType::String),
            lookup("OwnerId", "Owner", &["User"]),
            long_text("Description"),
            field("BillingAddress", FieldType::Address),
            field("AnnualRevenue", FieldType::Currency),
            field("NumberOfEmployees", FieldType::Int),
            FieldDef {
                picklist_values: vec!["Energy".into(), "Banking".into()],
                ..field("Industry", FieldType::Picklist)
            },
            field("Interests__c", FieldType::MultiPicklist),
            field("CreatedDate", FieldType::DateTime),
            field("LastActivityDate", FieldType::Date),
            FieldDef {
                hidden: true,
                ..field("Secret__c", FieldType::String)
            },
            FieldDef {
                calculated: true,
                ..field("NameLength__c", FieldType::Int)
            },
        ],
    );
    account.child_relationships = vec![
        child("Contacts", "Contact", "AccountId"),
        child("Cases", "Case", "AccountId"),
        child("Invoices__r", "Invoice__c", "Account__c"),
        child(
            "ContentDocumentLinks",
            "ContentDocumentLink",
            "LinkedEntityId",
        ),
    ];
    let contact = object(
        "Contact",
        "003",
        vec![
            field("LastName", FieldType::String),
            lookup("AccountId", "Account", &["Account"]),
            field("Email", FieldType::Email),
            field("CreatedDate", FieldType::DateTime),
        ],
    );
    let mut case = object(
        "Case",
        "500",
        vec![
            field("CaseNumber", FieldType::String),
            field("Subject", FieldType::String),
            lookup("AccountId", "Account", &["Account"]),
            lookup("OwnerId", "Owner", &["User", "Group"]),
            field("CreatedDate", FieldType::DateTime),
        ],
    );
    case.child_relationships = vec![
        child("Feeds", "CaseFeed", "ParentId"),
        child(
            "ContentDocumentLinks",
            "ContentDocumentLink",
            "LinkedEntityId",
        ),
    ];
    let mut feed = object(
        "CaseFeed",
        "0D5",
        vec![
            lookup("ParentId", "Parent", &["Case"]),
            field("Type", FieldType::Picklist),
            long_text("Body"),
            lookup("CreatedById", "CreatedBy", &["User"]),
            field("CreatedDate", FieldType::DateTime),
        ],
    );
    feed.child_relationships = vec![child("FeedComments", "FeedComment", "FeedItemId")];
    let comment = object(
        "FeedComment",
        "0D7",
        vec![
            lookup("FeedItemId", "FeedItem", &["CaseFeed"]),
            long_text("CommentBody"),
        ],
    );
    let mut link = object(
        "ContentDocumentLink",
        "06A",
        vec![
            lookup("LinkedEntityId", "LinkedEntity", &["Account", "Case"]),
            lookup("ContentDocumentId", "ContentDocument", &["ContentDocument"]),
        ],
    );
    link.required_filter_fields = vec![
        "LinkedEntityId".to_string(),
        "ContentDocumentId".to_string(),
        "Id".to_string(),
    ];
    let document = object(
        "ContentDocument",
        "069",
        vec![field("Title", FieldType::String)],
    );
    let version = object(
        "ContentVersion",
        "068",
        vec![
            field("Title", FieldType::String),
            field("VersionData", FieldType::Base64),
        ],
    );
    let invoice = object(
        "Invoice__c",
        "a00",
        vec![
            field("Name", FieldType::String),
            lookup("Account__c", "Account__r", &["Account"]),
            field("Amount__c", FieldType::Double),
        ],
    );
    let hidden = ObjectDef {
        queryable: false,
        ..object("Vault__c", "a01", vec![field("Name", FieldType::String)])
    };
    vec![
        user, group, account, contact, case, feed, comment, link, document, version, invoice,
        hidden,
    ]
}

/// An in-memory org that counts full scans, so tests can prove an index was used.
struct TestOrg {
    objects: Vec<ObjectDef>,
    records: Vec<(String, Record)>,
    scans: Cell<usize>,
}

impl TestOrg {
    fn insert(&mut self, object: &str, value: Value) {
        let Value::Object(record) = value else {
            panic!("records are JSON objects")
        };
        self.records.push((object.to_string(), record));
    }
}

impl DataSource for TestOrg {
    fn object(&self, name: &str) -> Option<&ObjectDef> {
        self.objects
            .iter()
            .find(|o| o.name.eq_ignore_ascii_case(name))
    }

    fn records<'a>(&'a self, object: &str) -> Box<dyn Iterator<Item = RowRef> + 'a> {
        self.scans.set(self.scans.get() + 1);
        let object = object.to_string();
        Box::new(
            self.records
                .iter()
                .enumerate()
                .filter(move |(_, (o, _))| *o == object)
                .map(|(i, _)| row_ref(i)),
        )
    }

    fn record_by_id(&self, id: &str) -> Option<(&ObjectDef, RowRef)> {
        let (i, (object, _)) = self
            .records
            .iter()
            .enumerate()
            .find(|(_, (_, r))| r.get("Id").and_then(Value::as_str) == Some(id))?;
        Some((self.object(object)?, row_ref(i)))
    }

    fn children(&self, child_object: &str, field: &str, parent_id: &str) -> Vec<RowRef> {
        self.records
            .iter()
            .enumerate()
            .filter(|(_, (o, r))| {
                o == child_object && r.get(field).and_then(Value::as_str) == Some(parent_id)
            })
            .map(|(i, _)| row_ref(i))
            .collect()
    }

    fn value(&self, row: RowRef, field: &str) -> Value {
        self.row(row).get(field).cloned().unwrap_or(Value::Null)
    }

    fn formula(&self, _object: &ObjectDef, field: &FieldDef, row: RowRef) -> Value {
        match field.name.as_str() {
            "NameLength__c" => self
                .row(row)
                .get("Name")
                .and_then(Value::as_str)
                .map_or(Value::Null, |n| json!(n.chars().count())),
            _ => Value::Null,
        }
    }
}

/// Rows of the test org are numbered by their position in `TestOrg::records`.
fn row_ref(index: usize) -> RowRef {
    RowRef {
        table: 0,
        row: index as u32,
    }
}

impl TestOrg {
    fn row(&self, row: RowRef) -> &Record {
        &self.records[row.row as usize].1
    }
}

fn id(prefix: &str, n: u64) -> String {
    make_id(prefix, "000", n)
}

fn stamp(days_ago: i64) -> String {
    (Utc::now() - Duration::days(days_ago))
        .format("%Y-%m-%dT%H:%M:%S%.3f+0000")
        .to_string()
}

fn org() -> TestOrg {
    let mut org = TestOrg {
        objects: schema(),
        records: Vec::new(),
        scans: Cell::new(0),
    };
    org.insert(
        "User",
        json!({"Id": id("005", 1), "IsDeleted": false, "Name": "Ada Admin", "Email": "ada@example.com", "Alias": "ada", "IsActive": true, "ManagerId": null}),
    );
    org.insert(
        "User",
        json!({"Id": id("005", 2), "IsDeleted": false, "Name": "Bob Boss", "Email": "bob@example.com", "Alias": "bob", "IsActive": true, "ManagerId": id("005", 1)}),
    );
    org.insert(
        "Group",
        json!({"Id": id("00G", 1), "IsDeleted": false, "Name": "Support Queue", "Type": "Queue"}),
    );
    org.insert(
        "Account",
        json!({"Id": id("001", 1), "IsDeleted": false, "Name": "Acme", "OwnerId": id("005", 2),
               "Description": "Long text", "BillingAddress": {"city": "Paris", "country": "FR"},
               "AnnualRevenue": 1000.5, "NumberOfEmployees": 50, "Industry": "Energy",
               "Interests__c": "Golf;Chess", "CreatedDate": "2024-01-15T10:30:00.000+0000",
               "LastActivityDate": "2024-01-20", "Secret__c": "s3cret"}),
    );
    org.insert(
        "Account",
        json!({"Id": id("001", 2), "IsDeleted": false, "Name": "beta Corp", "OwnerId": null,
               "Description": null, "BillingAddress": null, "AnnualRevenue": null,
               "NumberOfEmployees": 5, "Industry": null, "Interests__c": "Chess",
               "CreatedDate": stamp(0), "LastActivityDate": null, "Secret__c": null}),
    );
    org.insert(
        "Account",
        json!({"Id": id("001", 3), "IsDeleted": false, "Name": "O'Brien & Sons_50%", "OwnerId": id("005", 1),
               "Description": null, "BillingAddress": null, "AnnualRevenue": 20.0,
               "NumberOfEmployees": 50, "Industry": "Banking", "Interests__c": null,
               "CreatedDate": stamp(3), "LastActivityDate": "2023-12-31", "Secret__c": null}),
    );
    org.insert(
        "Account",
        json!({"Id": id("001", 4), "IsDeleted": true, "Name": "Gone Ltd", "OwnerId": id("005", 1),
               "Description": null, "BillingAddress": null, "AnnualRevenue": 1.0,
               "NumberOfEmployees": 1, "Industry": "Energy", "Interests__c": null,
               "CreatedDate": stamp(40), "LastActivityDate": null, "Secret__c": null}),
    );
    for (n, last, account) in [
        (1, "Zeta", Some(1)),
        (2, "alpha", Some(1)),
        (3, "Mid", Some(3)),
        (4, "Orphan", None),
    ] {
        org.insert(
            "Contact",
            json!({"Id": id("003", n), "IsDeleted": false, "LastName": last,
                   "AccountId": account.map(|a| id("001", a)), "Email": null,
                   "CreatedDate": stamp(n as i64)}),
        );
    }
    org.insert(
        "Case",
        json!({"Id": id("500", 1), "IsDeleted": false, "CaseNumber": "00001001", "Subject": "Engine failure",
               "AccountId": id("001", 1), "OwnerId": id("00G", 1), "CreatedDate": stamp(1)}),
    );
    org.insert(
        "Case",
        json!({"Id": id("500", 2), "IsDeleted": false, "CaseNumber": "00001002", "Subject": "Login issue",
               "AccountId": id("001", 1), "OwnerId": id("005", 1), "CreatedDate": stamp(2)}),
    );
    for (n, kind, body, days_ago) in [
        (1, "TextPost", "First post", 5),
        (2, "TrackedChange", "Status changed", 4),
        (3, "TextPost", "Third post", 3),
    ] {
        org.insert(
            "CaseFeed",
            json!({"Id": id("0D5", n), "IsDeleted": false, "ParentId": id("500", 1), "Type": kind,
                   "Body": body, "CreatedById": id("005", 2), "CreatedDate": stamp(days_ago)}),
        );
    }
    org.insert(
        "FeedComment",
        json!({"Id": id("0D7", 1), "IsDeleted": false, "FeedItemId": id("0D5", 1), "CommentBody": "Agreed"}),
    );
    org.insert(
        "ContentDocument",
        json!({"Id": id("069", 1), "IsDeleted": false, "Title": "spec.pdf"}),
    );
    org.insert(
        "ContentVersion",
        json!({"Id": id("068", 1), "IsDeleted": false, "Title": "spec.pdf", "VersionData": "aGVsbG8="}),
    );
    org.insert(
        "ContentDocumentLink",
        json!({"Id": id("06A", 1), "IsDeleted": false, "LinkedEntityId": id("500", 1), "ContentDocumentId": id("069", 1)}),
    );
    org.insert(
        "Invoice__c",
        json!({"Id": id("a00", 1), "IsDeleted": false, "Name": "INV-1", "Account__c": id("001", 1), "Amount__c": 99.5}),
    );
    org.insert(
        "Vault__c",
        json!({"Id": id("a01", 1), "IsDeleted": false, "Name": "secret"}),
    );
    org
}

const OPTS: ExecOptions<'static> = ExecOptions {
    include_deleted: false,
    api_version: "59.0",
};

fn run(org: &TestOrg, soql: &str) -> Execution {
    execute(soql, org, &OPTS).unwrap_or_else(|e| panic!("{soql}: {e}"))
}

fn rows(org: &TestOrg, soql: &str) -> Vec<Value> {
    let execution = run(org, soql);
    execution.project(org, &OPTS, &execution.ids)
}

fn column(rows: &[Value], key: &str) -> Vec<Value> {
    rows.iter().map(|r| r[key].clone()).collect()
}

fn names(org: &TestOrg, soql: &str) -> Vec<String> {
    rows(org, soql)
        .iter()
        .map(|r| r["Name"].as_str().unwrap_or("<null>").to_string())
        .collect()
}

fn error(org: &TestOrg, soql: &str) -> SoqlError {
    match execute(soql, org, &OPTS) {
        Ok(e) => panic!("{soql} should fail, got ids {:?}", e.ids),
        Err(e) => e,
    }
}

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

mod filtering;
mod ordering;
mod parsing;
mod projection;
mod properties;
mod schema_errors;
