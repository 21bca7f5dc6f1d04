//! Seeded users and queues, the standard objects other than Case (accounts, contacts,
//! opportunities, leads, campaigns) and the custom objects.

use super::*;

/// The Organization, the users (the first is the run-as user), groups and queues. Long on
/// purpose: a list of fixed records, each a few lines.
pub(super) fn seed_org_and_users(s: &mut Seeder) {
    let org_created = range_start() - Duration::days(30);
    let mut org_fields: Fields = vec![
        ("Name", Value::from("Fake Org — sfmount")),
        ("OrganizationType", Value::from("Developer Edition")),
        ("InstanceName", Value::from("FAKE1")),
        ("IsSandbox", Value::Bool(false)),
        // A Developer Edition never expires and this org has no managed-package namespace.
        ("TrialExpirationDate", Value::Null),
        ("NamespacePrefix", Value::Null),
        ("TimeZoneSidKey", Value::from("America/Los_Angeles")),
        ("LanguageLocaleKey", Value::from("en_US")),
        ("Phone", Value::from("+1 415 555 0100")),
    ];
    s.address("", &mut org_fields);
    let org_id = s.add("Organization", org_created, org_fields);
    s.store.org_id = org_id;

    for i in 0..USER_COUNT {
        let (first, last, alias, user_type) = if i == 0 {
            (
                "Integration".to_string(),
                "User".to_string(),
                "integ".to_string(),
                "AutomatedProcess",
            )
        } else {
            let (first, last) = s.person();
            let alias: String = format!("{first}{last}")
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(6)
                .collect::<String>()
                .to_lowercase();
            (first, last, format!("{alias}{i}"), "Standard")
        };
        let email = if i == 0 {
            "integration@fake-org.example".to_string()
        } else {
            s.email(&first, &last, i)
        };
        let created = org_created + Duration::days(i as i64);
        let title = s.pick(&[
            "Support Agent",
            "Account Executive",
            "Sales Manager",
            "Engineer",
        ]);
        let id = s.add(
            "User",
            created,
            vec![
                ("Username", Value::from(format!("user{i}@fake-org.example"))),
                ("Name", Value::from(format!("{first} {last}"))),
                ("FirstName", Value::from(first)),
                ("LastName", Value::from(last)),
                ("Email", Value::from(email)),
                ("Alias", Value::from(alias)),
                ("IsActive", Value::Bool(true)),
                ("UserType", Value::from(user_type)),
                ("Title", Value::from(title)),
                ("CompanyName", Value::from("Fake Org")),
            ],
        );
        if i == 0 {
            s.store.integration_user_id = id.clone();
        }
        s.users.push(id);
    }
    // Users, and the Organization, were created before anyone existed: they point at the
    // integration user.
    let integration = s.store.integration_user_id.clone();
    let made_before_users = s.users.iter().chain([&s.store.org_id]).cloned();
    for id in made_before_users.collect::<Vec<_>>() {
        let &(table, row) = s.store.by_id.get(&id).expect("just stored");
        for field in ["CreatedById", "LastModifiedById"] {
            s.store.set_field(
                usize::from(table),
                row as usize,
                field,
                Value::String(integration.clone()),
            );
        }
    }

    for (name, developer) in [
        ("Tier 1 Support", "Tier_1_Support"),
        ("Escalations", "Escalations"),
    ] {
        let id = s.add(
            "Group",
            org_created,
            vec![
                ("Name", Value::from(name)),
                ("DeveloperName", Value::from(developer)),
                ("Type", Value::from("Queue")),
                (
                    "Email",
                    Value::from(format!("{}@fake-org.example", developer.to_lowercase())),
                ),
                ("OwnerId", Value::String(integration.clone())),
            ],
        );
        s.groups.push(id);
    }
}

pub(super) fn seed_accounts(s: &mut Seeder, n: usize) {
    let awkward = awkward_account_names();
    let count = n.max(awkward.len());
    for i in 0..count {
        let name = match awkward.get(i) {
            Some(name) => name.clone(),
            None => format!(
                "{} {} {}",
                s.pick(COMPANY_WORDS),
                s.pick(COMPANY_WORDS),
                s.pick(COMPANY_SUFFIXES)
            ),
        };
        let created = s.created();
        let mut fields: Fields = vec![
            ("Name", Value::from(name)),
            (
                "Type",
                Value::from(s.pick(&[
                    "Prospect",
                    "Customer - Direct",
                    "Customer - Channel",
                    "Other",
                ])),
            ),
            (
                "Industry",
                Value::from(s.pick(&["Technology", "Energy", "Retail", "Banking", "Media"])),
            ),
            (
                "Phone",
                Value::from(format!("+1 415 555 {:04}", i % 10_000)),
            ),
            (
                "Website",
                Value::from(format!("https://www.example{}.com", i)),
            ),
            ("AccountNumber", Value::from(format!("CD{:06}", i))),
            (
                "AnnualRevenue",
                Value::from(s.rng.gen_range(10u32..5000) as f64 * 1000.0),
            ),
            ("NumberOfEmployees", Value::from(s.rng.gen_range(1..20_000))),
        ];
        s.address("Billing", &mut fields);
        s.address("Shipping", &mut fields);
        let description = if i % LONG_DESCRIPTION_EVERY == 3 {
            Some(s.long_text(4_000 + (i % 7) * 500))
        } else if i % 3 == 0 {
            Some(format!(
                "Key account #{i}.\nNotes: «prefers e-mail»; contact via portal ✉️."
            ))
        } else {
            None
        };
        if let Some(text) = description {
            fields.push(("Description", Value::from(text)));
        }
        if i > 0 && s.rng.gen_bool(0.1) {
            let parent = s.accounts[s.rng.gen_range(0..s.accounts.len())].clone();
            fields.push(("ParentId", Value::String(parent)));
        }
        let id = s.add("Account", created, fields);
        s.accounts.push(id);
    }
}

pub(super) fn seed_contacts(s: &mut Seeder, n: usize) {
    for i in 0..n {
        let (first, last) = s.person();
        let account = if s.rng.gen_bool(0.9) {
            Some(s.accounts[s.rng.gen_range(0..s.accounts.len())].clone())
        } else {
            None
        };
        let email = s.email(&first, &last, i);
        let mut fields: Fields = vec![
            ("Name", Value::from(format!("{first} {last}"))),
            ("FirstName", Value::from(first)),
            ("LastName", Value::from(last)),
            ("Salutation", Value::from(s.pick(&["Mr.", "Ms.", "Dr."]))),
            ("Email", Value::from(email)),
            (
                "Phone",
                Value::from(format!("+44 20 7946 {:04}", i % 10_000)),
            ),
            (
                "Title",
                Value::from(s.pick(&["CEO", "CTO", "Buyer", "Directeur général", "エンジニア"])),
            ),
            (
                "AccountId",
                account.clone().map(Value::String).unwrap_or(Value::Null),
            ),
        ];
        s.address("Mailing", &mut fields);
        if i % 4 == 0 {
            fields.push((
                "Description",
                Value::from("Met at the 2024 conference; follow up in Q3."),
            ));
        }
        let created = s.created();
        let id = s.add("Contact", created, fields);
        s.contacts.push((id, account));
    }
}

pub(super) fn seed_opportunities(s: &mut Seeder, n: usize) {
    for i in 0..n {
        let account = s.accounts[s.rng.gen_range(0..s.accounts.len())].clone();
        let stage = s.pick(OPPORTUNITY_STAGES);
        let created = s.created();
        let close = s.later(created, 365).date_naive();
        let product = s.pick(PRODUCTS);
        let fields: Fields = vec![
            ("AccountId", Value::String(account)),
            ("Name", Value::from(format!("{product} #{i}"))),
            ("StageName", Value::from(stage)),
            (
                "Amount",
                Value::from(s.rng.gen_range(1u32..500) as f64 * 250.0),
            ),
            (
                "Probability",
                Value::from(s.rng.gen_range(0..=10) as f64 * 10.0),
            ),
            (
                "CloseDate",
                Value::from(close.format("%Y-%m-%d").to_string()),
            ),
            ("IsClosed", Value::Bool(stage.starts_with("Closed"))),
            ("IsWon", Value::Bool(stage == "Closed Won")),
            (
                "Type",
                Value::from(s.pick(&["Existing Customer - Upgrade", "New Customer"])),
            ),
        ];
        s.add("Opportunity", created, fields);
    }
}

pub(super) fn seed_leads(s: &mut Seeder, n: usize) {
    for i in 0..n {
        let (first, last) = s.person();
        let email = s.email(&first, &last, i);
        let company = format!("{} {}", s.pick(COMPANY_WORDS), s.pick(COMPANY_SUFFIXES));
        let mut fields: Fields = vec![
            ("Name", Value::from(format!("{first} {last}"))),
            ("FirstName", Value::from(first)),
            ("LastName", Value::from(last)),
            ("Company", Value::from(company)),
            ("Email", Value::from(email)),
            (
                "Phone",
                Value::from(format!("+33 1 23 45 {:02} {:02}", i % 100, (i / 100) % 100)),
            ),
            ("Status", Value::from(s.pick(LEAD_STATUSES))),
            (
                "LeadSource",
                Value::from(s.pick(&["Web", "Phone Inquiry", "Partner Referral"])),
            ),
        ];
        s.address("", &mut fields);
        if i % 5 == 0 {
            fields.push((
                "Description",
                Value::from("Asked for a demo / pricing sheet."),
            ));
        }
        if s.rng.gen_bool(0.2) {
            let queue = s.groups[s.rng.gen_range(0..s.groups.len())].clone();
            fields.push(("OwnerId", Value::String(queue)));
        }
        let created = s.created();
        s.add("Lead", created, fields);
    }
}

pub(super) fn seed_campaigns(s: &mut Seeder, n: usize) {
    for i in 0..n {
        let created = s.created();
        let start = s.later(created, 60).date_naive();
        let end = start + Duration::days(s.rng.gen_range(1..90));
        let fields: Fields = vec![
            (
                "Name",
                Value::from(format!(
                    "{} {}",
                    s.pick(&[
                        "Spring Webinar",
                        "Trade Show",
                        "Newsletter",
                        "Salon Printemps"
                    ]),
                    2023 + i % 3
                )),
            ),
            (
                "Type",
                Value::from(s.pick(&["Conference", "Webinar", "Trade Show", "Email"])),
            ),
            (
                "Status",
                Value::from(s.pick(&["Planned", "In Progress", "Completed"])),
            ),
            (
                "StartDate",
                Value::from(start.format("%Y-%m-%d").to_string()),
            ),
            ("EndDate", Value::from(end.format("%Y-%m-%d").to_string())),
            ("IsActive", Value::Bool(s.rng.gen_bool(0.5))),
            (
                "Description",
                Value::from(format!("Campaign {i}: targets «mid-market» accounts.")),
            ),
        ];
        s.add("Campaign", created, fields);
    }
}

pub(super) fn seed_custom_objects(s: &mut Seeder, n: usize) {
    let quarter = (n / 4).max(1);
    for i in 0..quarter {
        let account = s.accounts[s.rng.gen_range(0..s.accounts.len())].clone();
        let created = s.created();
        let start = s.later(created, 30).date_naive();
        let fields: Fields = vec![
            (
                "Name",
                Value::from(format!("Project {} / phase {}", i, 1 + i % 3)),
            ),
            ("Account__c", Value::String(account)),
            (
                "Status__c",
                Value::from(s.pick(&["Proposed", "Active", "On Hold", "Done"])),
            ),
            (
                "Budget__c",
                Value::from(s.rng.gen_range(5u32..500) as f64 * 1000.0),
            ),
            (
                "Start_Date__c",
                Value::from(start.format("%Y-%m-%d").to_string()),
            ),
            (
                "Summary__c",
                Value::from(format!("Rollout for site {i}: 設置 and training.")),
            ),
        ];
        let id = s.add("Project__c", created, fields);
        s.projects.push(id);
    }
    for i in 0..quarter {
        let project = s.projects[s.rng.gen_range(0..s.projects.len())].clone();
        let created = s.created();
        let due = s.later(created, 60).date_naive();
        let status = s.pick(&["Draft", "Sent", "Paid", "Overdue"]);
        let fields: Fields = vec![
            ("Name", Value::from(format!("INV-{:06}", i + 1))),
            ("Project__c", Value::String(project)),
            (
                "Amount__c",
                Value::from(s.rng.gen_range(100u32..100_000) as f64 / 4.0),
            ),
            ("Status__c", Value::from(status)),
            (
                "Due_Date__c",
                Value::from(due.format("%Y-%m-%d").to_string()),
            ),
            ("Paid__c", Value::Bool(status == "Paid")),
            (
                "Notes__c",
                Value::from("Net 30. Référence client: «PO-123»."),
            ),
        ];
        let id = s.add("Invoice__c", created, fields);
        s.invoices.push(id);
    }
    for i in 0..WIDE_RECORD_COUNT {
        let created = s.created();
        let table = s.store.table("Wide_Object__c").expect("schema has it");
        let name = Value::from(format!("Wide record {i}"));
        let id = s.add("Wide_Object__c", created, vec![("Name", name)]);
        // Fill the wide fields directly: the names are not 'static.
        let &(_, row) = s.store.by_id.get(&id).expect("just stored");
        for n in 1..=schema::WIDE_FIELD_COUNT {
            let value = Value::from(format!("r{i}-f{n}"));
            s.store
                .put(table, row as usize, &schema::wide_field_name(n), value);
        }
        s.wide.push(id);
    }
}
