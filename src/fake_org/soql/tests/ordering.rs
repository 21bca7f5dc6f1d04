//! Engine tests: order, limits, count.

use super::*;

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
