//! Engine tests: schema errors.

use super::*;

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
