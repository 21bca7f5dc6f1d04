//! Engine tests: filtering.

use super::*;

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
