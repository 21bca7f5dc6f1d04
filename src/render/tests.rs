use serde_json::{json, Map, Value};

use super::*;

const INSTANCE: &str = "https://acme.my.salesforce.com";

fn record(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

fn text(object: &str, record: &Map<String, Value>, title: &str) -> String {
    let ctx = TextContext {
        instance_url: INSTANCE,
        title,
        name_field: None,
    };
    let bytes = render_text(object, record, &ctx);
    assert_eq!(bytes, render_text(object, record, &ctx), "deterministic");
    String::from_utf8(bytes).unwrap()
}

fn account() -> Map<String, Value> {
    record(json!({
        "attributes": {"type": "Account", "url": "/services/data/v62.0/sobjects/Account/001Hs00002AbCdEIAV"},
        "Id": "001Hs00002AbCdEIAV",
        "Name": "Acme Corporation",
        "Description": "Makes anvils.\r\nShips worldwide.",
        "Website": "https://acme.example",
        "Type": "Customer - Direct",
        "BillingStreet": "1 Road Runner Way\nSuite 5",
        "BillingCity": "Springfield",
        "BillingState": "IL",
        "BillingPostalCode": "62701",
        "BillingCountry": "USA",
        "BillingAddress": null,
        "Owner": {"attributes": {"type": "User", "url": "/x"}, "Name": "Jane Doe", "Email": "jane@acme.example"},
        "CreatedBy": {"attributes": {"type": "User", "url": "/y"}, "Name": "Admin User"},
        "CreatedDate": "2024-01-15T10:30:00.000+0000",
        "LastModifiedDate": "2024-02-01T08:05:09.000+0000",
        "ContentDocumentLinks": [
            {"ContentDocumentId": "069Hs000000AbCdIAA", "ContentDocument": {"Title": "Contract", "FileExtension": "pdf", "ContentSize": 12345, "LatestPublishedVersionId": "068Hs000000AbCdIAA"}},
            {"ContentDocumentId": "069Hs000000AbCeIAA", "ContentDocument": {"Title": "notes.txt", "FileExtension": "txt", "ContentSize": 10, "LatestPublishedVersionId": null}}
        ]
    }))
}

#[test]
fn account_text_is_exactly_the_documented_layout() {
    let out = text("Account", &account(), "Acme Corporation");
    let expected = "\
Acme Corporation
Link: https://acme.my.salesforce.com/001Hs00002AbCdEIAV
Object: Account
Owner: Jane Doe
Created: 2024-01-15 10:30:00 UTC by Admin User
Modified: 2024-02-01 08:05:09 UTC

Description:
  Makes anvils.
  Ships worldwide.
Website: https://acme.example
Type: Customer - Direct
Billing Address: 1 Road Runner Way, Suite 5, Springfield, IL 62701, USA

Files:
- Contract.pdf (12345 bytes)
- notes.txt (10 bytes)
";
    assert_eq!(out, expected);
}

#[test]
fn compound_address_wins_part_by_part_and_empty_parts_are_skipped() {
    let mut acct = account();
    acct.insert(
        "BillingAddress".into(),
        json!({"street": "9 Elm St", "city": null, "state": "", "postalCode": "12345", "country": null,
               "geocodeAccuracy": null, "latitude": null, "longitude": null}),
    );
    acct.remove("BillingCountry");
    let out = text("Account", &acct, "Acme");
    assert!(
        out.contains("Billing Address: 9 Elm St, Springfield, IL 12345\n"),
        "{out}"
    );

    let bare = record(json!({"Id": "001Hs00002AbCdEIAV", "BillingCountry": "France"}));
    assert!(text("Account", &bare, "x").contains("Billing Address: France\n"));
    let none = record(json!({"Id": "001Hs00002AbCdEIAV", "BillingAddress": {"city": null}}));
    assert!(!text("Account", &none, "x").contains("Billing Address"));
}

#[test]
fn each_standard_object_shows_its_fields() {
    let opp = record(
        json!({"Id": "006Hs00000AbCdEIAV", "Name": "Big deal", "Description": "d", "StageName": "Closed Won"}),
    );
    let out = text("Opportunity", &opp, "Big deal");
    assert!(
        out.contains("\nDescription: d\nStage: Closed Won\n"),
        "{out}"
    );

    let contact = record(
        json!({"Id": "003Hs00000AbCdEIAV", "Name": "Ann Lee", "Email": "ann@x.example",
                                "Phone": "+1 555", "Title": "CTO", "Description": null}),
    );
    let out = text("Contact", &contact, "Ann Lee");
    assert!(
        out.contains("\nEmail: ann@x.example\nPhone: +1 555\nTitle: CTO\n"),
        "{out}"
    );
    assert!(
        !out.contains("Description"),
        "null values are left out: {out}"
    );

    let lead = record(
        json!({"Id": "00QHs00000AbCdEIAV", "Company": "Globex", "Email": "a@g.example",
                             "Phone": "1", "Status": "Open - Not Contacted"}),
    );
    let out = text("Lead", &lead, "Lead");
    assert!(
        out.contains(
            "\nCompany: Globex\nEmail: a@g.example\nPhone: 1\nStatus: Open - Not Contacted\n"
        ),
        "{out}"
    );

    let active = record(
        json!({"Id": "701Hs00000AbCdEIAV", "Type": "Webinar", "Status": "Planned", "IsActive": true}),
    );
    assert!(
        text("Campaign", &active, "c").contains("\nType: Webinar\nStatus: Planned\nActive: yes\n")
    );
    let inactive = record(json!({"Id": "701Hs00000AbCdEIAV", "IsActive": false}));
    assert!(text("Campaign", &inactive, "c").contains("\nActive: no\n"));
    let unknown = record(json!({"Id": "701Hs00000AbCdEIAV", "IsActive": null}));
    assert!(!text("Campaign", &unknown, "c").contains("Active"));
}

fn case() -> Map<String, Value> {
    record(json!({
        "attributes": {"type": "Case", "url": "/services/data/v62.0/sobjects/Case/500Hs00001XyZaBIAR"},
        "Id": "500Hs00001XyZaBIAR",
        "CaseNumber": "00001026",
        "Subject": "Engine failure",
        "Description": "Engine stops at 3000 rpm",
        "Status": "Escalated",
        "IsClosed": false,
        "Owner": {"attributes": {"type": "Group", "url": "/g"}, "Name": "Support Queue"},
        "CreatedDate": "2024-03-01T09:00:00.000+0000",
        "LastModifiedDate": "2024-03-02T09:00:00.000+0000",
        "ContentDocumentLinks": [],
        "Feeds": [
            {"Id": "0D5Hs000000001AAA", "Type": "TextPost", "Body": "Customer called.\nVery upset.",
             "Title": null, "LinkUrl": null, "CreatedDate": "2024-03-01T10:00:00.000+0000",
             "CreatedBy": {"Name": "Bob Agent"},
             "FeedComments": [
                {"Id": "0D7Hs000000001AAA", "CommentBody": "Replaced the gasket", "CreatedDate": "2024-03-01T11:00:00.000+0000", "CreatedBy": {"Name": "Carol Tech"}},
                {"Id": "0D7Hs000000002AAA", "CommentBody": null, "CreatedDate": null, "CreatedBy": null}
             ]},
            {"Id": "0D5Hs000000002AAA", "Type": "LinkPost", "Body": null, "Title": "Manual",
             "LinkUrl": "https://docs.example/engine", "CreatedDate": "2024-03-01T12:00:00.000+0000",
             "CreatedBy": {"Name": "Bob Agent"}, "FeedComments": null}
        ]
    }))
}

#[test]
fn case_text_has_status_state_and_feeds_with_comments() {
    let out = text("Case", &case(), "00001026 Engine failure");
    let expected = "\
00001026 Engine failure
Link: https://acme.my.salesforce.com/500Hs00001XyZaBIAR
Object: Case
Owner: Support Queue
Created: 2024-03-01 09:00:00 UTC
Modified: 2024-03-02 09:00:00 UTC

Description: Engine stops at 3000 rpm
Case Number: 00001026
Status: Escalated
State: Open

Feed:
- TextPost by Bob Agent at 2024-03-01 10:00:00 UTC
  Customer called.
  Very upset.
  Comment by Carol Tech at 2024-03-01 11:00:00 UTC:
    Replaced the gasket
  Comment:
- LinkPost by Bob Agent at 2024-03-01 12:00:00 UTC
  Title: Manual
  Link: https://docs.example/engine
";
    assert_eq!(out, expected);

    let mut closed = case();
    closed.insert("IsClosed".into(), json!(true));
    closed.remove("Feeds");
    let out = text("Case", &closed, "t");
    assert!(
        out.contains("State: Closed\n") && !out.contains("Feed:"),
        "{out}"
    );
}

#[test]
fn custom_objects_show_description_and_other_text_fields() {
    let invoice = record(json!({
        "attributes": {"type": "Invoice__c", "url": "/i"},
        "Id": "a00Hs00000AbCdEIAV",
        "Name": "INV-001",
        "OwnerId": "005Hs00000AbCdEIAV",
        "Description": "Quarterly invoice",
        "Notes__c": "Pay by wire",
        "Amount__c": 1200.5,
        "Paid__c": false,
        "Account__c": "001Hs00002AbCdEIAV",
        "LegacyId__c": "001Hs00002AbCdE",
        "Code__c": "ABC123XYZ456DEF",
        "Account__r": {"attributes": {"type": "Account"}, "Id": "001Hs00002AbCdEIAV", "Name": "Acme"},
        "Due__c": "2024-05-01",
        "Empty__c": "",
        "SystemModstamp": "2024-01-15T10:30:00.000+0000",
        "CreatedDate": "2024-01-15T10:30:00.000+0000"
    }));
    let out = text("Invoice__c", &invoice, "INV-001");
    let body = out.split_once("\n\n").unwrap().1;
    assert_eq!(
        body,
        "Description: Quarterly invoice\nNotes__c: Pay by wire\nCode__c: ABC123XYZ456DEF\nAccount__r.Name: Acme\nDue__c: 2024-05-01\n"
    );
}

#[test]
fn custom_name_field_is_not_repeated() {
    let thing =
        record(json!({"Id": "a01Hs0000000001IAA", "Label__c": "Widget", "Color__c": "red"}));
    let ctx = TextContext {
        instance_url: INSTANCE,
        title: "Widget",
        name_field: Some("Label__c"),
    };
    let out = String::from_utf8(render_text("Thing__c", &thing, &ctx)).unwrap();
    assert!(out.starts_with("Widget\n"));
    assert!(!out.contains("Label__c"), "{out}");
    assert!(out.contains("Color__c: red\n"));
}

#[test]
fn control_characters_are_cleaned_but_newlines_and_tabs_kept() {
    let rec = record(
        json!({"Id": "003Hs00000AbCdEIAV", "Description": "a\u{0}b\u{7}c\td\r\ne\u{1b}[31m", "Title": "Boss\u{0}"}),
    );
    let out = text("Contact", &rec, "Ann\u{0}\nLee");
    assert!(out.starts_with("Ann Lee\n"), "{out}");
    assert!(out.contains("Description:\n  abc\td\n  e[31m\n"), "{out:?}");
    assert!(out.contains("Title: Boss\n"));
    assert!(!out
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t'));
}

#[test]
fn unicode_is_kept_in_text() {
    let rec = record(json!({"Id": "003Hs00000AbCdEIAV", "Description": "مرحبا 👋 שלום"}));
    assert!(text("Contact", &rec, "x").contains("Description: مرحبا 👋 שלום\n"));
}

#[test]
fn minimal_and_odd_records_render_without_panicking() {
    let empty = Map::new();
    assert_eq!(text("Account", &empty, ""), "(untitled)\nObject: Account\n");
    let weird = record(json!({
        "Id": 5, "Owner": "not an object", "CreatedDate": "yesterday", "Feeds": {"bad": true},
        "ContentDocumentLinks": [null, 3, {"ContentDocument": null}, {"ContentDocument": {}}],
        "IsClosed": "true", "BillingAddress": []
    }));
    for object in ["Account", "Case", "Campaign", "X__c"] {
        let out = text(object, &weird, "t");
        assert!(out.starts_with("t\n"));
    }
    let out = text("Case", &weird, "t");
    assert!(out.contains("Created: yesterday\n"), "{out}");
    assert!(out.contains("State: Closed\n"), "{out}");
    assert!(out.contains("Files:\n- (untitled)\n"), "{out}");
}

#[test]
fn salesforce_subquery_shape_for_files_is_accepted() {
    let mut acct = account();
    acct.insert(
        "ContentDocumentLinks".into(),
        json!({"totalSize": 1, "done": true, "records": [
            {"ContentDocument": {"Title": "Spec", "FileExtension": "docx", "ContentSize": 2048}}
        ]}),
    );
    assert!(text("Account", &acct, "Acme").ends_with("\nFiles:\n- Spec.docx (2048 bytes)\n"));
}

#[test]
fn legacy_attachments_are_listed_with_the_files() {
    let mut acct = account();
    acct.insert(
        "Attachments".into(),
        json!([{"Id": "00P000000000001AAA", "Name": "Screenshot.png", "BodyLength": 10}]),
    );
    let out = text("Account", &acct, "Acme");
    // After the record's documents, in the same list.
    let files = &out[out.find("\nFiles:\n").expect("a Files section")..];
    assert!(files.ends_with("\n- Screenshot.png (10 bytes)\n"), "{out}");
}

#[test]
fn instance_url_trailing_slash_is_tolerated() {
    let ctx = TextContext {
        instance_url: "https://acme.my.salesforce.com/",
        title: "t",
        name_field: None,
    };
    let out = String::from_utf8(render_text("Account", &account(), &ctx)).unwrap();
    assert!(out.contains("Link: https://acme.my.salesforce.com/001Hs00002AbCdEIAV\n"));
}

#[test]
fn json_is_pretty_deterministic_and_complete() {
    let rec = case();
    let bytes = render_json(&rec);
    assert_eq!(bytes, render_json(&rec));
    assert_eq!(bytes.last(), Some(&b'\n'));
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(
        text.starts_with("{\n  \"attributes\": {\n    \"type\": \"Case\""),
        "{text}"
    );
    let parsed: Map<String, Value> = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(parsed, rec);
    // Key order is the input's, so a field added later in SELECT order stays later.
    let keys: Vec<&String> = parsed.keys().collect();
    let original: Vec<&String> = rec.keys().collect();
    assert_eq!(keys, original);
    assert_eq!(
        parsed["Feeds"][0]["FeedComments"][0]["CommentBody"],
        "Replaced the gasket"
    );
}

#[test]
fn json_escapes_control_characters() {
    let rec = record(json!({"Id": "003Hs00000AbCdEIAV", "Description": "a\u{0}b\u{1b}"}));
    let bytes = render_json(&rec);
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.contains(r#""a\u0000b\u001b""#), "{text}");
    assert!(!bytes.contains(&0));
    let parsed: Map<String, Value> = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(parsed, rec);
}

#[test]
fn rich_text_feed_bodies_become_plain_lines() {
    let mut rec = case();
    rec.insert(
        "Feeds".into(),
        json!([{"Type": "TextPost", "IsRichText": true,
                "Body": "<p>Gasket <b>replaced</b> &amp; tested</p><p>Next: 3 &lt; 4<br/>done</p>",
                "FeedComments": [{"CommentBody": "<p>ok&nbsp;thanks</p>", "IsRichText": true},
                                 {"CommentBody": "a <b> not html", "IsRichText": false}]}]),
    );
    let out = text("Case", &rec, "t");
    let feed = out.split_once("Feed:\n").unwrap().1;
    assert_eq!(
        feed,
        "- TextPost\n  Gasket replaced & tested\n  Next: 3 < 4\n  done\n  Comment:\n    ok thanks\n  Comment:\n    a <b> not html\n"
    );
}

#[test]
fn line_end_spaces_are_trimmed_the_same_with_or_without_other_cleaning() {
    let plain = record(json!({"Id": "003Hs00000AbCdEIAV", "Description": "a \t\nb\u{a0}\nc"}));
    let dirty = record(json!({"Id": "003Hs00000AbCdEIAV", "Description": "a \t\nb\u{a0}\nc\u{0}"}));
    assert_eq!(text("Contact", &plain, "x"), text("Contact", &dirty, "x"));
    assert!(text("Contact", &plain, "x").contains("Description:\n  a\n  b\u{a0}\n  c\n"));
}
