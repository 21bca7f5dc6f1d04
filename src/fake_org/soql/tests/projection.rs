//! Engine tests: projection.

use super::*;

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
