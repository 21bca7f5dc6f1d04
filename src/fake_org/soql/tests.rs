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

// ---------------------------------------------------------------- parsing

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

// ---------------------------------------------------------------- projection

#[test]
fn rows_have_attributes_then_fields_in_select_order_with_canonical_casing() {
    let org = org();
    let rows = rows(
        &org,
        "SELECT numberofemployees, NAME, id FROM account WHERE Name = 'Acme'",
    );
    assert_eq!(rows.len(), 1);
    assert_eq!(
        keys(&rows[0]),
        ["attributes", "NumberOfEmployees", "Name", "Id"]
    );
    assert_eq!(
        rows[0]["attributes"],
        json!({"type": "Account", "url": format!("/services/data/v59.0/sobjects/Account/{}", id("001", 1))})
    );
    assert_eq!(rows[0]["Name"], "Acme");
    assert_eq!(rows[0]["NumberOfEmployees"], 50);
}

#[test]
fn object_name_prefix_on_fields_is_accepted() {
    let org = org();
    let rows = rows(
        &org,
        "SELECT Account.Name FROM Account WHERE Account.Name = 'Acme'",
    );
    assert_eq!(keys(&rows[0]), ["attributes", "Name"]);
}

#[test]
fn object_alias_and_ignored_clauses() {
    let org = org();
    let rows = rows(
        &org,
        "SELECT a.Name, a.Owner.Name FROM Account a WHERE a.Name = 'Acme' WITH SECURITY_ENFORCED ORDER BY a.Name LIMIT 5 FOR VIEW",
    );
    assert_eq!(keys(&rows[0]), ["attributes", "Name", "Owner"]);
    assert_eq!(rows[0]["Owner"]["Name"], "Bob Boss");
    let e = error(&org, "SELECT Id FROM Account WITH NOTHING");
    assert_eq!(e.error_code, "MALFORMED_QUERY");
    let e = error(&org, "SELECT Id FROM Account GROUP BY Name");
    assert!(e.message.ends_with("unexpected token: 'GROUP'"), "{e}");
}

#[test]
fn parent_relationships_nest_merge_and_are_null_when_empty() {
    let org = org();
    let rows = rows(
        &org,
        "SELECT Name, Owner.Name, owner.email, Owner.Manager.Name FROM Account ORDER BY Name",
    );
    // Acme (owner Bob, manager Ada), beta Corp (no owner), O'Brien (owner Ada, no manager).
    assert_eq!(
        rows[0]["Owner"],
        json!({
            "attributes": {"type": "User", "url": format!("/services/data/v59.0/sobjects/User/{}", id("005", 2))},
            "Name": "Bob Boss",
            "Email": "bob@example.com",
            "Manager": {
                "attributes": {"type": "User", "url": format!("/services/data/v59.0/sobjects/User/{}", id("005", 1))},
                "Name": "Ada Admin"
            }
        })
    );
    assert_eq!(keys(&rows[0]), ["attributes", "Name", "Owner"]);
    assert_eq!(rows[1]["Owner"], Value::Null);
    assert_eq!(rows[2]["Owner"]["Manager"], Value::Null);
}

#[test]
fn two_level_and_custom_relationship_paths() {
    let org = org();
    let contacts = rows(
        &org,
        "SELECT LastName, Account.Owner.Email FROM Contact WHERE LastName = 'Zeta'",
    );
    assert_eq!(contacts[0]["Account"]["Owner"]["Email"], "bob@example.com");
    let invoices = rows(&org, "SELECT Name, Account__r.Name FROM Invoice__c");
    assert_eq!(invoices[0]["Account__r"]["Name"], "Acme");
    assert_eq!(invoices[0]["Account__r"]["attributes"]["type"], "Account");
}

#[test]
fn relationship_paths_follow_at_most_five_hops() {
    let org = org();
    let five = "Owner.Manager.Manager.Manager.Manager.Name";
    let rows = rows(
        &org,
        &format!("SELECT {five} FROM Account WHERE Name = 'Acme'"),
    );
    // Bob's manager is Ada, who has none: the chain ends in null after two hops.
    assert_eq!(rows[0]["Owner"]["Manager"]["Manager"], Value::Null);
    let e = error(
        &org,
        "SELECT Owner.Manager.Manager.Manager.Manager.Manager.Name FROM Account",
    );
    assert_eq!(e.error_code, "MALFORMED_QUERY");
    assert!(e.message.contains("at most 5 relationships"), "{e}");
}

#[test]
fn polymorphic_lookup_is_typed_name_and_reads_the_real_target() {
    let org = org();
    let rows = rows(
        &org,
        "SELECT CaseNumber, Owner.Name, Owner.Type, Owner.Email FROM Case ORDER BY CaseNumber",
    );
    let queue = &rows[0]["Owner"];
    assert_eq!(queue["attributes"]["type"], "Name");
    assert_eq!(
        queue["attributes"]["url"],
        format!("/services/data/v59.0/sobjects/Group/{}", id("00G", 1))
    );
    assert_eq!(queue["Name"], "Support Queue");
    assert_eq!(queue["Type"], "Queue");
    assert_eq!(queue["Email"], Value::Null);
    let user = &rows[1]["Owner"];
    assert_eq!(user["attributes"]["type"], "Name");
    assert_eq!(user["Email"], "ada@example.com");
    // Only the Name pseudo-object's fields exist behind a polymorphic lookup.
    let e = error(&org, "SELECT Owner.Manager.Name FROM Case");
    assert_eq!(e.error_code, "INVALID_FIELD");
    let e = error(&org, "SELECT Owner.ManagerId FROM Case");
    assert!(
        e.message
            .contains("No such column 'ManagerId' on entity 'Name'"),
        "{e}"
    );
    // Filtering through it works too.
    let run = run(
        &org,
        "SELECT Id FROM Case WHERE Owner.Name = 'support queue'",
    );
    assert_eq!(run.ids, [id("500", 1)]);
}

#[test]
fn subqueries_are_complete_results_or_null() {
    let org = org();
    let rows = rows(
        &org,
        "SELECT Name, (SELECT LastName FROM Contacts ORDER BY LastName) FROM Account ORDER BY Name",
    );
    assert_eq!(
        rows[0]["Contacts"],
        json!({
            "totalSize": 2,
            "done": true,
            "records": [
                {"attributes": {"type": "Contact", "url": format!("/services/data/v59.0/sobjects/Contact/{}", id("003", 2))}, "LastName": "alpha"},
                {"attributes": {"type": "Contact", "url": format!("/services/data/v59.0/sobjects/Contact/{}", id("003", 1))}, "LastName": "Zeta"}
            ]
        })
    );
    assert_eq!(
        rows[1]["Contacts"],
        Value::Null,
        "beta Corp has no contacts"
    );
}

#[test]
fn subquery_has_its_own_where_order_limit_and_relationship_fields() {
    let org = org();
    let rows = rows(
        &org,
        "SELECT Id, (SELECT Id, Body, CreatedBy.Name FROM Feeds WHERE Type = 'TextPost' ORDER BY CreatedDate DESC LIMIT 1) FROM Case WHERE CaseNumber = '00001001'",
    );
    let feeds = &rows[0]["Feeds"];
    assert_eq!(feeds["totalSize"], 1);
    let post = &feeds["records"][0];
    assert_eq!(post["Body"], "Third post");
    assert_eq!(post["CreatedBy"]["Name"], "Bob Boss");
    assert_eq!(keys(post), ["attributes", "Id", "Body", "CreatedBy"]);
}

#[test]
fn unknown_child_relationship_is_invalid_type() {
    let org = org();
    let e = error(&org, "SELECT Id, (SELECT Id FROM Foos) FROM Account");
    assert_eq!(e.error_code, "INVALID_TYPE");
    assert!(
        e.message
            .contains("Didn't understand relationship 'Foos' in FROM part of query call."),
        "{e}"
    );
}

#[test]
fn address_is_the_stored_object_and_base64_is_a_url() {
    let org = org();
    let rows = rows(
        &org,
        "SELECT BillingAddress FROM Account WHERE Name = 'Acme'",
    );
    assert_eq!(
        rows[0]["BillingAddress"],
        json!({"city": "Paris", "country": "FR"})
    );
    let rows = self::rows(&org, "SELECT VersionData FROM ContentVersion");
    assert_eq!(
        rows[0]["VersionData"],
        format!(
            "/services/data/v59.0/sobjects/ContentVersion/{}/VersionData",
            id("068", 1)
        )
    );
}

#[test]
fn formula_fields_are_computed_for_select_and_where() {
    let org = org();
    let rows = rows(
        &org,
        "SELECT Name, NameLength__c FROM Account WHERE NameLength__c = 4",
    );
    assert_eq!(column(&rows, "Name"), [json!("Acme")]);
    assert_eq!(rows[0]["NameLength__c"], 4);
}

// ---------------------------------------------------------------- filtering

#[test]
fn boolean_logic_with_parentheses() {
    let org = org();
    assert_eq!(
        names(
            &org,
            "SELECT Name FROM Account WHERE (NumberOfEmployees = 50 AND Industry = 'Energy') OR Name = 'beta corp' ORDER BY Name"
        ),
        ["Acme", "beta Corp"]
    );
    assert_eq!(
        names(
            &org,
            "SELECT Name FROM Account WHERE NOT Name = 'Acme' ORDER BY Name"
        ),
        ["beta Corp", "O'Brien & Sons_50%"]
    );
    assert_eq!(
        names(
            &org,
            "SELECT Name FROM Account WHERE NOT (Name = 'Acme' OR NumberOfEmployees < 10)"
        ),
        ["O'Brien & Sons_50%"]
    );
}

#[test]
fn comparison_operators_on_numbers_and_nulls() {
    let org = org();
    let q = |w: &str| {
        names(
            &org,
            &format!("SELECT Name FROM Account WHERE {w} ORDER BY Name"),
        )
    };
    assert_eq!(q("AnnualRevenue > 20"), ["Acme"]);
    assert_eq!(q("AnnualRevenue >= 20"), ["Acme", "O'Brien & Sons_50%"]);
    assert_eq!(q("AnnualRevenue < 1000.5"), ["O'Brien & Sons_50%"]);
    assert_eq!(q("AnnualRevenue <= 1000.5"), ["Acme", "O'Brien & Sons_50%"]);
    assert_eq!(q("AnnualRevenue = null"), ["beta Corp"]);
    assert_eq!(q("AnnualRevenue != null"), ["Acme", "O'Brien & Sons_50%"]);
    // SOQL's != keeps rows whose value is null.
    assert_eq!(
        q("Industry != 'Energy'"),
        ["beta Corp", "O'Brien & Sons_50%"]
    );
    assert_eq!(
        q("Industry <> 'energy'"),
        ["beta Corp", "O'Brien & Sons_50%"]
    );
    assert_eq!(q("NumberOfEmployees = -3"), Vec::<String>::new());
}

#[test]
fn text_equality_is_case_insensitive_and_strings_unescape() {
    let org = org();
    let q = |w: &str| names(&org, &format!("SELECT Name FROM Account WHERE {w}"));
    assert_eq!(q("Name = 'ACME'"), ["Acme"]);
    assert_eq!(q(r"Name = 'O\'Brien & Sons_50%'"), ["O'Brien & Sons_50%"]);
}

#[test]
fn like_with_wildcards_and_escapes() {
    let org = org();
    let q = |w: &str| {
        names(
            &org,
            &format!("SELECT Name FROM Account WHERE {w} ORDER BY Name"),
        )
    };
    assert_eq!(q("Name LIKE 'a%'"), ["Acme"]);
    assert_eq!(q("Name LIKE '%CORP'"), ["beta Corp"]);
    assert_eq!(q("Name LIKE '_cme'"), ["Acme"]);
    assert_eq!(
        q("Name LIKE '%'"),
        ["Acme", "beta Corp", "O'Brien & Sons_50%"]
    );
    assert_eq!(q(r"Name LIKE '%\_50\%'"), ["O'Brien & Sons_50%"]);
    assert_eq!(q(r"Name LIKE 'Acm\_'"), Vec::<String>::new());
    assert_eq!(q("NOT Name LIKE '%a%'"), ["O'Brien & Sons_50%"]);
}

#[test]
fn in_and_not_in_lists() {
    let org = org();
    let q = |w: &str| {
        names(
            &org,
            &format!("SELECT Name FROM Account WHERE {w} ORDER BY Name"),
        )
    };
    assert_eq!(
        q("Industry IN ('Energy', 'Banking')"),
        ["Acme", "O'Brien & Sons_50%"]
    );
    assert_eq!(
        q("Industry NOT IN ('Energy')"),
        ["beta Corp", "O'Brien & Sons_50%"]
    );
    assert_eq!(q("Industry IN ('ENERGY')"), ["Acme"]);
    assert_eq!(q("Industry IN ('Energy', null)"), ["Acme", "beta Corp"]);
    assert_eq!(q("NumberOfEmployees IN (5, 7)"), ["beta Corp"]);
    assert_eq!(
        q(&format!("Id IN ('{}', '{}')", id("001", 1), id("001", 2))),
        ["Acme", "beta Corp"]
    );
    assert_eq!(
        q(&format!("Id NOT IN ('{}')", id("001", 1))),
        ["beta Corp", "O'Brien & Sons_50%"]
    );
}

#[test]
fn ids_match_in_15_and_18_character_forms_whatever_the_case() {
    let org = org();
    let full = id("001", 1);
    for form in [
        full.clone(),
        full[..15].to_string(),
        full.to_lowercase(),
        full.to_uppercase(),
    ] {
        let run = run(&org, &format!("SELECT Id FROM Account WHERE Id = '{form}'"));
        assert_eq!(run.ids, std::slice::from_ref(&full), "form {form}");
    }
    let run = run(
        &org,
        &format!(
            "SELECT Id FROM Contact WHERE AccountId = '{}' ORDER BY LastName",
            &full[..15]
        ),
    );
    assert_eq!(run.ids, [id("003", 2), id("003", 1)]);
    let e = error(&org, "SELECT Id FROM Account WHERE Id = 'nope'");
    assert_eq!(e.error_code, "INVALID_QUERY_FILTER_OPERATOR");
    assert!(e.message.ends_with("invalid ID field: nope"), "{e}");
}

#[test]
fn id_and_lookup_filters_use_indexes_not_scans() {
    let org = org();
    let run = run(
        &org,
        &format!(
            "SELECT Id FROM Account WHERE Id = '{}' AND Name != 'x'",
            id("001", 3)
        ),
    );
    assert_eq!(run.ids, [id("001", 3)]);
    assert_eq!(org.scans.get(), 0);
    let run = self::run(
        &org,
        &format!(
            "SELECT Id FROM Contact WHERE AccountId IN ('{}', '{}')",
            id("001", 1),
            id("001", 3)
        ),
    );
    assert_eq!(run.ids.len(), 3);
    assert_eq!(org.scans.get(), 0);
    self::run(&org, "SELECT Id FROM Contact WHERE LastName = 'Mid'");
    assert_eq!(org.scans.get(), 1, "a plain filter scans");
    // A deleted record found through the index is still hidden.
    let run = self::run(
        &org,
        &format!("SELECT Id FROM Account WHERE Id = '{}'", id("001", 4)),
    );
    assert!(run.ids.is_empty());
}

#[test]
fn boolean_fields_compare_with_true_and_false() {
    let org = org();
    let active = run(&org, "SELECT Id FROM User WHERE IsActive = TRUE");
    assert_eq!(active.total_size, 2);
    assert_eq!(
        run(&org, "SELECT Id FROM User WHERE IsActive = false").total_size,
        0
    );
}

#[test]
fn datetime_and_date_literals_compare_against_stored_values() {
    let org = org();
    let q = |w: &str| {
        names(
            &org,
            &format!("SELECT Name FROM Account WHERE {w} ORDER BY Name"),
        )
    };
    assert_eq!(q("CreatedDate = 2024-01-15T10:30:00Z"), ["Acme"]);
    assert_eq!(q("CreatedDate = 2024-01-15T10:30:00.000Z"), ["Acme"]);
    assert_eq!(q("CreatedDate = 2024-01-15T11:30:00+01:00"), ["Acme"]);
    assert_eq!(q("CreatedDate < 2024-01-15T10:30:01Z"), ["Acme"]);
    assert_eq!(
        q("CreatedDate > 2024-01-15T10:30:00Z"),
        ["beta Corp", "O'Brien & Sons_50%"]
    );
    assert_eq!(q("LastActivityDate >= 2024-01-01"), ["Acme"]);
    assert_eq!(q("LastActivityDate < 2024-01-01"), ["O'Brien & Sons_50%"]);
}

#[test]
fn relative_date_literals() {
    let org = org();
    let q = |w: &str| {
        names(
            &org,
            &format!("SELECT Name FROM Account WHERE {w} ORDER BY Name"),
        )
    };
    assert_eq!(q("CreatedDate = TODAY"), ["beta Corp"]);
    assert_eq!(
        q("CreatedDate = LAST_N_DAYS:7"),
        ["beta Corp", "O'Brien & Sons_50%"]
    );
    assert_eq!(q("CreatedDate < LAST_N_DAYS:7"), ["Acme"]);
    assert_eq!(q("CreatedDate > TODAY"), Vec::<String>::new());
    assert_eq!(
        q("LastActivityDate < TODAY"),
        ["Acme", "O'Brien & Sons_50%"]
    );
    assert_eq!(q("LastActivityDate > TODAY"), Vec::<String>::new());
    let contacts = run(&org, "SELECT Id FROM Contact WHERE CreatedDate = YESTERDAY");
    assert_eq!(contacts.ids, [id("003", 1)]);
}

#[test]
fn literal_type_mismatches_are_worded_like_salesforce() {
    let org = org();
    let e = error(
        &org,
        "SELECT Id FROM Account WHERE CreatedDate > 2024-01-15",
    );
    assert_eq!(e.error_code, "INVALID_FIELD");
    assert!(
        e.message.ends_with(
            "value of filter criterion for field 'CreatedDate' must be of type dateTime and should not be enclosed in quotes"
        ),
        "{e}"
    );
    let e = error(
        &org,
        "SELECT Id FROM Account WHERE CreatedDate > '2024-01-15T10:30:00Z'",
    );
    assert!(e.message.contains("must be of type dateTime"), "{e}");
    let e = error(
        &org,
        "SELECT Id FROM Account WHERE LastActivityDate = 2024-01-15T10:30:00Z",
    );
    assert!(e.message.contains("must be of type date and"), "{e}");
    let e = error(&org, "SELECT Id FROM Account WHERE Name = 5");
    assert!(
        e.message
            .contains("must be of type string and should be enclosed in quotes"),
        "{e}"
    );
    let e = error(&org, "SELECT Id FROM User WHERE IsActive = 'true'");
    assert!(e.message.contains("must be of type boolean"), "{e}");
}

#[test]
fn includes_and_excludes_on_multi_select_picklists() {
    let org = org();
    let q = |w: &str| {
        names(
            &org,
            &format!("SELECT Name FROM Account WHERE {w} ORDER BY Name"),
        )
    };
    assert_eq!(q("Interests__c INCLUDES ('golf')"), ["Acme"]);
    assert_eq!(
        q("Interests__c INCLUDES ('Chess;Golf', 'Tennis')"),
        ["Acme"]
    );
    assert_eq!(q("Interests__c INCLUDES ('Chess')"), ["Acme", "beta Corp"]);
    assert_eq!(
        q("Interests__c EXCLUDES ('Golf')"),
        ["beta Corp", "O'Brien & Sons_50%"]
    );
}

#[test]
fn semi_join_on_ids() {
    let org = org();
    assert_eq!(
        names(
            &org,
            "SELECT Name FROM Account WHERE Id IN (SELECT AccountId FROM Contact WHERE LastName = 'Mid')"
        ),
        ["O'Brien & Sons_50%"]
    );
    assert_eq!(
        names(
            &org,
            "SELECT Name FROM Account WHERE Id NOT IN (SELECT AccountId FROM Case) ORDER BY Name"
        ),
        ["beta Corp", "O'Brien & Sons_50%"]
    );
}

// ---------------------------------------------------------------- order, limits, count

#[test]
fn order_by_several_fields_with_nulls_placement() {
    let org = org();
    // Text sorts case-insensitively; nulls first ASC, last DESC by default.
    assert_eq!(
        names(&org, "SELECT Name FROM Account ORDER BY Name"),
        ["Acme", "beta Corp", "O'Brien & Sons_50%"]
    );
    assert_eq!(
        names(&org, "SELECT Name FROM Account ORDER BY AnnualRevenue"),
        ["beta Corp", "O'Brien & Sons_50%", "Acme"]
    );
    assert_eq!(
        names(&org, "SELECT Name FROM Account ORDER BY AnnualRevenue DESC"),
        ["Acme", "O'Brien & Sons_50%", "beta Corp"]
    );
    assert_eq!(
        names(
            &org,
            "SELECT Name FROM Account ORDER BY AnnualRevenue ASC NULLS LAST"
        ),
        ["O'Brien & Sons_50%", "Acme", "beta Corp"]
    );
    assert_eq!(
        names(
            &org,
            "SELECT Name FROM Account ORDER BY AnnualRevenue DESC NULLS FIRST"
        ),
        ["beta Corp", "Acme", "O'Brien & Sons_50%"]
    );
    assert_eq!(
        names(
            &org,
            "SELECT Name FROM Account ORDER BY NumberOfEmployees DESC, Name DESC"
        ),
        ["O'Brien & Sons_50%", "Acme", "beta Corp"]
    );
}

#[test]
fn picklists_sort_in_their_defined_order() {
    let org = org();
    // Energy is defined before Banking; nulls first as usual.
    assert_eq!(
        names(&org, "SELECT Name FROM Account ORDER BY Industry"),
        ["beta Corp", "Acme", "O'Brien & Sons_50%"]
    );
    assert_eq!(
        names(&org, "SELECT Name FROM Account ORDER BY Industry DESC"),
        ["O'Brien & Sons_50%", "Acme", "beta Corp"]
    );
}

#[test]
fn sorting_is_stable_for_ties() {
    let org = org();
    // Acme and O'Brien both have 50 employees: insertion order (Acme first) is kept.
    assert_eq!(
        names(
            &org,
            "SELECT Name FROM Account ORDER BY NumberOfEmployees DESC"
        ),
        ["Acme", "O'Brien & Sons_50%", "beta Corp"]
    );
}

#[test]
fn limit_and_offset_cut_the_sorted_rows() {
    let org = org();
    let run = run(
        &org,
        "SELECT Name FROM Account ORDER BY Name LIMIT 1 OFFSET 1",
    );
    assert_eq!(run.total_size, 1);
    assert_eq!(run.ids, [id("001", 2)]);
    assert_eq!(
        self::run(&org, "SELECT Name FROM Account ORDER BY Name LIMIT 0").total_size,
        0
    );
}

#[test]
fn count_query_reports_a_total_and_no_rows() {
    let org = org();
    let run = run(&org, "SELECT COUNT() FROM Account");
    assert!(run.is_count);
    assert_eq!(run.total_size, 3);
    assert!(run.ids.is_empty());
    let run = self::run(&org, "select count() from Contact where AccountId != null");
    assert_eq!(run.total_size, 3);
    assert_eq!(
        error(&org, "SELECT COUNT(), Name FROM Account").error_code,
        "MALFORMED_QUERY"
    );
}

#[test]
fn deleted_rows_only_with_include_deleted() {
    let org = org();
    assert_eq!(run(&org, "SELECT Id FROM Account").total_size, 3);
    let all = execute(
        "SELECT Id, IsDeleted FROM Account WHERE Industry = 'Energy'",
        &org,
        &ExecOptions {
            include_deleted: true,
            api_version: "62.0",
        },
    )
    .unwrap();
    assert_eq!(all.ids, [id("001", 1), id("001", 4)]);
    let opts = ExecOptions {
        include_deleted: true,
        api_version: "62.0",
    };
    let rows = all.project(&org, &opts, &all.ids[1..]);
    assert_eq!(rows[0]["IsDeleted"], true);
    assert!(rows[0]["attributes"]["url"]
        .as_str()
        .unwrap()
        .starts_with("/services/data/v62.0/"));
}

// ---------------------------------------------------------------- schema errors

#[test]
fn unknown_and_non_queryable_objects_are_invalid_type() {
    let org = org();
    let e = error(&org, "select count() from XYZZY");
    assert_eq!(e.error_code, "INVALID_TYPE");
    assert_eq!(
        e.message,
        "\nselect count() from XYZZY\n                    ^\nERROR at Row:1:Column:21\nsObject type 'XYZZY' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names."
    );
    let e = error(&org, "SELECT Id FROM Vault__c");
    assert_eq!(e.error_code, "INVALID_TYPE");
    assert!(e
        .message
        .contains("sObject type 'Vault__c' is not supported"));
}

#[test]
fn unknown_and_hidden_fields_are_invalid_field_naming_the_field() {
    let org = org();
    let e = error(&org, "SELECT Id, Foo FROM Account");
    assert_eq!(e.error_code, "INVALID_FIELD");
    assert_eq!(
        e.message,
        "\nSELECT Id, Foo FROM Account\n           ^\nERROR at Row:1:Column:12\nNo such column 'Foo' on entity 'Account'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."
    );
    let e = error(&org, "SELECT Secret__c FROM Account");
    assert!(
        e.message
            .contains("No such column 'Secret__c' on entity 'Account'"),
        "{e}"
    );
    let e = error(&org, "SELECT Id FROM Account WHERE Secret__c = 'x'");
    assert_eq!(e.error_code, "INVALID_FIELD");
    let e = error(&org, "SELECT Owner.Nope FROM Account");
    assert!(
        e.message.contains("No such column 'Nope' on entity 'User'"),
        "{e}"
    );
    let e = error(&org, "SELECT Foo.Name FROM Account");
    assert!(
        e.message
            .contains("Didn't understand relationship 'Foo' in field path."),
        "{e}"
    );
    let e = error(&org, "SELECT Id, Name, id FROM Account");
    assert!(e.message.contains("duplicate field selected: Id"), "{e}");
}

#[test]
fn long_text_cannot_be_filtered_and_address_cannot_be_sorted() {
    let org = org();
    let e = error(&org, "SELECT Id FROM Account WHERE Description = 'x'");
    assert_eq!(e.error_code, "INVALID_FIELD");
    assert!(
        e.message
            .ends_with("field 'Description' can not be filtered in a query call"),
        "{e}"
    );
    let e = error(
        &org,
        "SELECT Id FROM Account WHERE BillingAddress = 'Paris'",
    );
    assert!(
        e.message
            .ends_with("field 'BillingAddress' can not be filtered in a query call"),
        "{e}"
    );
    let with_address = run(&org, "SELECT Id FROM Account WHERE BillingAddress != null");
    assert_eq!(with_address.ids, [id("001", 1)]);
    let e = error(&org, "SELECT Id FROM Account ORDER BY BillingAddress");
    assert!(
        e.message
            .ends_with("field 'BillingAddress' can not be sorted in a query call"),
        "{e}"
    );
}

#[test]
fn content_document_link_needs_a_key_filter() {
    let org = org();
    let text = "Implementation restriction: ContentDocumentLink requires a filter by a single Id on ContentDocumentId or LinkedEntityId using the equals operator or multiple Id's using the IN operator.";
    for bad in [
        "SELECT Id FROM ContentDocumentLink",
        "SELECT Id FROM ContentDocumentLink WHERE IsDeleted = false",
    ] {
        let e = error(&org, bad);
        assert_eq!(e.error_code, "MALFORMED_QUERY");
        assert_eq!(e.message, text);
    }
    let rows = rows(
        &org,
        &format!(
            "SELECT ContentDocumentId, ContentDocument.Title, LinkedEntity.Name FROM ContentDocumentLink WHERE LinkedEntityId = '{}'",
            id("500", 1)
        ),
    );
    assert_eq!(rows[0]["ContentDocument"]["Title"], "spec.pdf");
    assert_eq!(rows[0]["LinkedEntity"]["attributes"]["type"], "Name");
    // Subqueries from the parent need no filter.
    let rows = self::rows(
        &org,
        "SELECT Id, (SELECT ContentDocumentId FROM ContentDocumentLinks) FROM Case WHERE CaseNumber = '00001001'",
    );
    assert_eq!(rows[0]["ContentDocumentLinks"]["totalSize"], 1);
}

#[test]
fn project_skips_ids_that_vanished() {
    let org = org();
    let run = run(&org, "SELECT Id FROM Account ORDER BY Name");
    let page = vec![run.ids[0].clone(), id("001", 999), id("003", 1)];
    let rows = run.project(&org, &OPTS, &page);
    assert_eq!(
        rows.len(),
        1,
        "unknown Ids and Ids of another object are skipped"
    );
}

// ---------------------------------------------------------------- properties

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
