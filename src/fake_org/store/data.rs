//! Seeded data: deterministic for a seed, realistic and awkward on purpose (Unicode, long
//! texts, names with `/`, quotes, emoji, duplicates, `.` and `..`).

use std::collections::HashMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value};

use crate::fake_org::model::FieldType;

use super::schema::{self, CASE_STATUSES, LEAD_STATUSES, OPPORTUNITY_STAGES};
use super::{
    blob_url, format_datetime, GenerateOptions, Store, DEFAULT_API_VERSION, FEED_COMMENT_MARKER,
};

/// Number of seeded users; the first is the integration (run-as) user.
const USER_COUNT: usize = 20;
/// Records of the wide custom object: enough to list, few enough that 800 fields stay cheap.
const WIDE_RECORD_COUNT: usize = 20;
/// One Account in this many gets a description of several kilobytes.
const LONG_DESCRIPTION_EVERY: usize = 25;

/// Account names that break naive file naming: path separators, quotes, dots, emoji,
/// CJK, accents, surrounding spaces, duplicates and the 255-character maximum.
fn awkward_account_names() -> Vec<String> {
    let mut names: Vec<String> = [
        ".",
        "..",
        "Acme / Subsidiary",
        "North/South Trading",
        "O'Reilly & Sons",
        "The \"Quoted\" Company",
        "Café Zürich GmbH",
        "Ærøskøbing Fiskeri ApS",
        "株式会社テスト商事",
        "北京科技有限公司",
        "🚀 Rocket Labs 🚀",
        "Smile 😀 Foods",
        "  Leading and trailing spaces  ",
        "Duplicate Name Inc",
        "Duplicate Name Inc",
        "Back\\slash Ltd",
        "Percent 100% Co",
        "Colon: Star* Question? Corp",
        "Ελληνική Εταιρεία",
        "Компания Пример",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // The longest Name a real org accepts.
    let mut long = String::from("Very Long Account Name ");
    while long.chars().count() < 255 {
        long.push_str("Lorem ipsum ");
    }
    names.push(long.chars().take(255).collect());
    names
}

const COMPANY_WORDS: &[&str] = &[
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Wonka",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Tyrell",
    "Cyberdyne",
    "Massive",
    "Dynamic",
    "Blue",
    "Northern",
    "Pacific",
    "Atlas",
    "Zenith",
    "Summit",
    "Nordström",
    "Søren",
    "Müller",
    "Dubois",
    "Łódź",
    "São Paulo",
];
const COMPANY_SUFFIXES: &[&str] = &[
    "Corp",
    "Inc",
    "LLC",
    "Ltd",
    "GmbH",
    "S.A.",
    "Industries",
    "Holdings",
    "Labs",
    "Partners",
];
const FIRST_NAMES: &[&str] = &[
    "Alice", "Bob", "Chloé", "Dmitri", "Émile", "Fatima", "Günter", "Hiro", "Ingrid", "José",
    "Kaito", "Léa", "Mateo", "Nadia", "Oğuz", "Priya", "Quinn", "Renée", "Søren", "Tomás",
    "Ursula", "Văn", "Wei", "Xavier", "Yūki", "Zoë", "美咲", "D'Arcy",
];
const LAST_NAMES: &[&str] = &[
    "Smith",
    "Johnson",
    "García",
    "Müller",
    "Dubois",
    "Rossi",
    "Nakamura",
    "Kowalski",
    "Silva",
    "O'Brien",
    "Nguyễn",
    "Andersson",
    "Papadopoulos",
    "Ivanova",
    "Martínez",
    "van der Berg",
    "Øster",
    "Çelik",
    "佐藤",
    "李",
    "Smith-Jones",
    "Doe",
];
const CITIES: &[(&str, &str, &str, &str, f64, f64)] = &[
    (
        "San Francisco",
        "CA",
        "94105",
        "United States",
        37.7897,
        -122.3972,
    ),
    (
        "New York",
        "NY",
        "10001",
        "United States",
        40.7506,
        -73.9972,
    ),
    ("Paris", "Île-de-France", "75002", "France", 48.8686, 2.3411),
    ("München", "Bayern", "80331", "Germany", 48.1374, 11.5755),
    ("東京", "東京都", "100-0005", "Japan", 35.6812, 139.7671),
    ("São Paulo", "SP", "01310-100", "Brazil", -23.5614, -46.6559),
    ("Zürich", "ZH", "8001", "Switzerland", 47.3769, 8.5417),
    ("Toronto", "ON", "M5H 2N2", "Canada", 43.6511, -79.3832),
    ("Sydney", "NSW", "2000", "Australia", -33.8688, 151.2093),
    ("Kraków", "Małopolska", "31-042", "Poland", 50.0614, 19.9366),
];
const STREETS: &[&str] = &[
    "1 Market Street",
    "350 Fifth Avenue\nSuite 4200",
    "12 rue de la Paix",
    "Marienplatz 8",
    "丸の内1-1-1",
    "Avenida Paulista, 1578",
    "Bahnhofstrasse 45",
    "100 King St W",
    "1 Macquarie Pl",
    "ul. Floriańska 3",
];
const CASE_SUBJECTS: &[&str] = &[
    "Engine failure",
    "Cannot log in",
    "Invoice shows the wrong amount",
    "Ersatzteil fehlt / missing part",
    "Produit endommagé à la livraison",
    "請求書が届かない",
    "Printer says \"PC LOAD LETTER\"",
    "User's password reset loops",
    "Data export / import broken",
    "Slow dashboard 🐢",
    "Duplicate subject",
    "Duplicate subject",
];
const PRODUCTS: &[&str] = &[
    "Platform Licenses",
    "Support Renewal",
    "Hardware Refresh",
    "Consulting Hours",
    "Expansion / Upsell",
];

/// A paragraph reused to build long texts.
const LOREM: &str =
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit. Sed do eiusmod tempor \
incididunt ut labore et dolore magna aliqua. Überprüfung der Lieferkette — vérification \
des délais; 配送状況を確認しました. ";

/// How one object's records are laid out, computed once per seeding run.
struct Layout {
    table: usize,
    key_prefix: String,
    /// Stored field names in schema order.
    names: Vec<String>,
    /// The empty value of each stored field.
    template: Vec<Value>,
    /// (field position in the schema, slot in `names`) of every reference field.
    references: Vec<(u16, usize)>,
}

/// The seeding state: RNG, clock range and the Ids created so far.
struct Seeder<'a> {
    /// A compound address with every part null, keys alphabetical as real ones come.
    empty_address: Map<String, Value>,
    layouts: Vec<Layout>,
    layout_index: HashMap<&'static str, usize>,
    store: &'a mut Store,
    rng: ChaCha8Rng,
    users: Vec<String>,
    groups: Vec<String>,
    accounts: Vec<String>,
    contacts: Vec<(String, Option<String>)>,
    cases: Vec<(String, DateTime<Utc>)>,
    projects: Vec<String>,
    invoices: Vec<String>,
    wide: Vec<String>,
}

/// The earliest seeded CreatedDate.
fn range_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2023, 1, 1, 0, 0, 0)
        .single()
        .expect("valid date")
}

/// The latest seeded date: the end of 2025.
fn range_end() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 12, 31, 23, 59, 59)
        .single()
        .expect("valid date")
}

type Fields = Vec<(&'static str, Value)>;

impl Seeder<'_> {
    /// A creation time in 2023–2025 at millisecond precision.
    fn created(&mut self) -> DateTime<Utc> {
        let span = (range_end() - range_start()).num_milliseconds();
        range_start() + Duration::milliseconds(self.rng.gen_range(0..span))
    }

    /// A time after `after`, no later than the end of the seeded range.
    fn later(&mut self, after: DateTime<Utc>, max_days: i64) -> DateTime<Utc> {
        let room = (range_end() - after).num_milliseconds().max(0);
        let span = room.min(max_days * 86_400_000);
        if span == 0 {
            return after;
        }
        after + Duration::milliseconds(self.rng.gen_range(0..=span))
    }

    fn pick<'s>(&mut self, items: &'s [&'s str]) -> &'s str {
        items.choose(&mut self.rng).copied().unwrap_or_default()
    }

    fn user(&mut self) -> String {
        self.users
            .choose(&mut self.rng)
            .cloned()
            .unwrap_or_default()
    }

    /// The cached record layout of an object.
    fn layout(&mut self, object: &'static str) -> usize {
        if let Some(&index) = self.layout_index.get(object) {
            return index;
        }
        let table = self.store.table(object).expect("seeded objects exist");
        let def = &self.store.tables[table].def;
        let mut layout = Layout {
            table,
            key_prefix: def.key_prefix.clone(),
            names: Vec::new(),
            template: Vec::new(),
            references: Vec::new(),
        };
        for (position, field) in def.fields.iter().enumerate().filter(|(_, f)| !f.calculated) {
            if field.field_type == FieldType::Reference {
                layout
                    .references
                    .push((position as u16, layout.names.len()));
            }
            layout.names.push(field.name.clone());
            layout
                .template
                .push(if field.field_type == FieldType::Boolean {
                    Value::Bool(false)
                } else {
                    Value::Null
                });
        }
        self.layouts.push(layout);
        self.layout_index.insert(object, self.layouts.len() - 1);
        self.layouts.len() - 1
    }

    /// Stores one record: Id from the object's key prefix, audit fields from `created`.
    /// Derived fields (compound address and name, Case.IsClosed) are the caller's to give.
    fn add(&mut self, object: &'static str, created: DateTime<Utc>, fields: Fields) -> String {
        let layout_index = self.layout(object);
        let prefix = self.layouts[layout_index].key_prefix.clone();
        let id = self.store.new_id(&prefix);
        let modified = self.later(created, 120);
        let (creator, modifier) = if self.users.is_empty() {
            (id.clone(), id.clone())
        } else {
            (self.user(), self.user())
        };
        let layout = &self.layouts[layout_index];
        let mut values = layout.template.clone();
        let slot = |name: &str| layout.names.iter().position(|n| n == name);
        let mut set = |name: &str, value: Value| {
            if let Some(i) = slot(name) {
                values[i] = value;
            }
        };
        set("Id", Value::String(id.clone()));
        let created_text = format_datetime(created);
        let modified_text = format_datetime(modified);
        set("CreatedDate", Value::String(created_text));
        set("LastModifiedDate", Value::String(modified_text.clone()));
        set("SystemModstamp", Value::String(modified_text));
        set("CreatedById", Value::String(creator.clone()));
        set("InsertedById", Value::String(creator.clone()));
        set("LastModifiedById", Value::String(modifier));
        set("OwnerId", Value::String(creator));
        for (name, value) in fields {
            let i = slot(name).unwrap_or_else(|| panic!("{object}.{name} is not in the schema"));
            values[i] = value;
        }
        let references = layout
            .references
            .iter()
            .filter_map(|&(position, i)| values[i].as_str().map(|p| (position, p.to_string())))
            .collect();
        let table = layout.table;
        self.store
            .push_indexed(table, &values, id.clone(), references);
        id
    }

    fn address(&mut self, prefix: &str, fields: &mut Fields) {
        let index = self.rng.gen_range(0..CITIES.len());
        let (city, state, postal, country, lat, lon) = CITIES[index];
        let names: [&'static str; 7] = match prefix {
            "Billing" => [
                "BillingStreet",
                "BillingCity",
                "BillingState",
                "BillingPostalCode",
                "BillingCountry",
                "BillingLatitude",
                "BillingLongitude",
            ],
            "Shipping" => [
                "ShippingStreet",
                "ShippingCity",
                "ShippingState",
                "ShippingPostalCode",
                "ShippingCountry",
                "ShippingLatitude",
                "ShippingLongitude",
            ],
            "Mailing" => [
                "MailingStreet",
                "MailingCity",
                "MailingState",
                "MailingPostalCode",
                "MailingCountry",
                "MailingLatitude",
                "MailingLongitude",
            ],
            _ => [
                "Street",
                "City",
                "State",
                "PostalCode",
                "Country",
                "Latitude",
                "Longitude",
            ],
        };
        fields.push((names[0], Value::from(STREETS[index])));
        fields.push((names[1], Value::from(city)));
        fields.push((names[2], Value::from(state)));
        fields.push((names[3], Value::from(postal)));
        fields.push((names[4], Value::from(country)));
        fields.push((names[5], Value::from(lat)));
        fields.push((names[6], Value::from(lon)));
        let compound = match prefix {
            "Billing" => "BillingAddress",
            "Shipping" => "ShippingAddress",
            "Mailing" => "MailingAddress",
            _ => "Address",
        };
        let mut address = self.empty_address.clone();
        let parts = [
            Value::from(city),
            Value::from(country),
            Value::Null,
            Value::from(lat),
            Value::from(lon),
            Value::from(postal),
            Value::from(state),
            Value::from(STREETS[index]),
        ];
        for (slot, value) in address.values_mut().zip(parts) {
            *slot = value;
        }
        fields.push((compound, Value::Object(address)));
    }

    fn long_text(&mut self, min_bytes: usize) -> String {
        let mut text = String::with_capacity(min_bytes + LOREM.len());
        let mut paragraph = 1;
        while text.len() < min_bytes {
            text.push_str(&format!("§{paragraph}. "));
            text.push_str(LOREM);
            text.push('\n');
            paragraph += 1;
        }
        text
    }

    fn person(&mut self) -> (String, String) {
        (
            self.pick(FIRST_NAMES).to_string(),
            self.pick(LAST_NAMES).to_string(),
        )
    }

    fn email(&mut self, first: &str, last: &str, n: usize) -> String {
        let ascii = |s: &str| -> String {
            s.chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
                .to_lowercase()
        };
        let (f, l) = (ascii(first), ascii(last));
        let local = match (f.is_empty(), l.is_empty()) {
            (false, false) => format!("{f}.{l}{n}"),
            (false, true) => format!("{f}{n}"),
            (true, false) => format!("{l}{n}"),
            (true, true) => format!("person{n}"),
        };
        format!("{local}@example.com")
    }
}

/// Fills an empty store with the org, its users and records.
pub(super) fn seed(store: &mut Store, opts: &GenerateOptions) {
    let n = opts.records;
    let mut s = Seeder {
        empty_address: [
            "city",
            "country",
            "geocodeAccuracy",
            "latitude",
            "longitude",
            "postalCode",
            "state",
            "street",
        ]
        .iter()
        .map(|k| (k.to_string(), Value::Null))
        .collect(),
        layouts: Vec::new(),
        layout_index: HashMap::new(),
        store,
        rng: ChaCha8Rng::seed_from_u64(opts.seed),
        users: Vec::new(),
        groups: Vec::new(),
        accounts: Vec::new(),
        contacts: Vec::new(),
        cases: Vec::new(),
        projects: Vec::new(),
        invoices: Vec::new(),
        wide: Vec::new(),
    };
    seed_org_and_users(&mut s);
    seed_accounts(&mut s, n);
    seed_contacts(&mut s, n);
    seed_opportunities(&mut s, n);
    seed_leads(&mut s, n);
    seed_campaigns(&mut s, n);
    seed_cases(&mut s, n);
    seed_custom_objects(&mut s, n);
    seed_files(&mut s, n);
}

fn seed_org_and_users(s: &mut Seeder) {
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

fn seed_accounts(s: &mut Seeder, n: usize) {
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

fn seed_contacts(s: &mut Seeder, n: usize) {
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

fn seed_opportunities(s: &mut Seeder, n: usize) {
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

fn seed_leads(s: &mut Seeder, n: usize) {
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

fn seed_campaigns(s: &mut Seeder, n: usize) {
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

fn seed_cases(s: &mut Seeder, n: usize) {
    let feed_types = ["TextPost", "LinkPost", "ContentPost", "TrackedChange"];
    for i in 0..n {
        let created = s.created();
        let (contact, account) = if s.contacts.is_empty() || s.rng.gen_bool(0.1) {
            (None, None)
        } else {
            let (c, a) = s.contacts[s.rng.gen_range(0..s.contacts.len())].clone();
            (Some(c), a)
        };
        let status = s.pick(CASE_STATUSES);
        let owner = if s.rng.gen_bool(0.25) {
            s.groups[s.rng.gen_range(0..s.groups.len())].clone()
        } else {
            s.user()
        };
        let subject = s.pick(CASE_SUBJECTS).to_string();
        let case_number = format!("{:08}", s.store.next_case_number);
        s.store.next_case_number += 1;
        let mut fields: Fields = vec![
            ("CaseNumber", Value::from(case_number)),
            ("Subject", Value::from(subject)),
            ("Status", Value::from(status)),
            ("IsClosed", Value::Bool(status == "Closed")),
            ("Priority", Value::from(s.pick(&["High", "Medium", "Low"]))),
            ("Origin", Value::from(s.pick(&["Phone", "Email", "Web"]))),
            (
                "Type",
                Value::from(s.pick(&["Mechanical", "Electrical", "Other"])),
            ),
            (
                "ContactId",
                contact.map(Value::String).unwrap_or(Value::Null),
            ),
            (
                "AccountId",
                account.map(Value::String).unwrap_or(Value::Null),
            ),
            ("OwnerId", Value::String(owner)),
        ];
        let description = if i % 10 == 0 {
            s.long_text(3_000)
        } else {
            format!("Customer reports: «{}». Steps to reproduce attached.", i)
        };
        fields.push(("Description", Value::from(description)));
        if status == "Closed" {
            let closed = s.later(created, 30);
            fields.push(("ClosedDate", Value::String(format_datetime(closed))));
        }
        let case_id = s.add("Case", created, fields);
        s.cases.push((case_id.clone(), created));

        let items = s.rng.gen_range(1..=4);
        for item in 0..items {
            let item_created = s.later(created, 20);
            let kind = feed_types[(i + item) % feed_types.len()];
            let mut fields: Fields = vec![
                ("ParentId", Value::String(case_id.clone())),
                ("Type", Value::from(kind)),
                ("CommentCount", Value::from(0)),
                ("LikeCount", Value::from(s.rng.gen_range(0..5))),
            ];
            match kind {
                "TextPost" => fields.push((
                    "Body",
                    Value::from(format!(
                        "Called the customer about case {i}; they'll send logs. 📞"
                    )),
                )),
                "LinkPost" => {
                    fields.push(("Title", Value::from("Knowledge article")));
                    fields.push((
                        "LinkUrl",
                        Value::from(format!("https://help.example.com/articles/{i}?lang=fr&x=1")),
                    ));
                    fields.push(("Body", Value::from("See this article / voir cet article.")));
                }
                "ContentPost" => {
                    fields.push(("Title", Value::from("screenshot.png")));
                    fields.push(("Body", Value::from("Attached a screenshot of the error.")));
                }
                _ => {}
            }
            let item_id = s.add("FeedItem", item_created, fields);
            let marker_here = i == 0 && item == 0;
            let comments = if marker_here {
                1
            } else {
                s.rng.gen_range(0..=3)
            };
            for c in 0..comments {
                let comment_created = s.later(item_created, 5);
                let body = if marker_here && c == 0 {
                    format!(
                        "Customer confirmed the fix — {FEED_COMMENT_MARKER} (seeded for tests)."
                    )
                } else {
                    format!("Follow-up {c}: « merci » / ありがとう / thanks, O'Neil said \"ok\".")
                };
                s.add(
                    "FeedComment",
                    comment_created,
                    vec![
                        ("FeedItemId", Value::String(item_id.clone())),
                        ("ParentId", Value::String(case_id.clone())),
                        ("CommentBody", Value::from(body)),
                        ("CommentType", Value::from("TextComment")),
                    ],
                );
            }
            let &(table, row) = s.store.by_id.get(&item_id).expect("just stored");
            s.store.set_field(
                usize::from(table),
                row as usize,
                "CommentCount",
                Value::from(comments),
            );
        }
        for c in 0..s.rng.gen_range(0..=2) {
            let at = s.later(created, 10);
            s.add(
                "CaseComment",
                at,
                vec![
                    ("ParentId", Value::String(case_id.clone())),
                    ("IsPublished", Value::Bool(c == 0)),
                    (
                        "CommentBody",
                        Value::from(format!("Internal note {c}: checked the warranty.")),
                    ),
                ],
            );
        }
        if s.rng.gen_bool(0.3) {
            let at = s.later(created, 3);
            s.add(
                "EmailMessage",
                at,
                vec![
                    ("ParentId", Value::String(case_id.clone())),
                    ("Subject", Value::from(format!("Re: case {i}"))),
                    ("FromAddress", Value::from("customer@example.com")),
                    ("ToAddress", Value::from("support@fake-org.example")),
                    (
                        "TextBody",
                        Value::from("Hello,\nthe problem is back.\nRegards"),
                    ),
                    ("Incoming", Value::Bool(true)),
                    ("MessageDate", Value::String(format_datetime(at))),
                    ("Status", Value::from("0")),
                ],
            );
        }
    }
}

fn seed_custom_objects(s: &mut Seeder, n: usize) {
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

/// Small real files: text, CSV and Markdown, linked to accounts, cases and custom records.
fn seed_files(s: &mut Seeder, n: usize) {
    let documents = (n / 10).max(6);
    for i in 0..documents {
        let (title, extension, bytes) = match i % 3 {
            0 => (
                format!("Meeting notes {i}"),
                "txt",
                format!("Meeting notes #{i}\nAttendees: Chloé, 佐藤, O'Brien\nNext step: send the quote.\n")
                    .into_bytes(),
            ),
            1 => (
                format!("Price list {i}"),
                "csv",
                format!("sku,description,price\nA-{i},\"Widget, large\",19.99\nB-{i},Gadget «pro»,5.00\n")
                    .into_bytes(),
            ),
            _ => (
                format!("Runbook {i}"),
                "md",
                format!("# Runbook {i}\n\n- Restart the service\n- Check `/var/log/app.log`\n\n> Ne pas oublier 🚀\n")
                    .into_bytes(),
            ),
        };
        let created = s.created();
        let document = s.add(
            "ContentDocument",
            created,
            vec![("Title", Value::from(title.clone()))],
        );
        // Every fifth document has an older first version.
        let versions = if i % 5 == 0 { 2 } else { 1 };
        let mut latest = String::new();
        for v in 1..=versions {
            let content = if v < versions {
                format!("(draft)\n{}", String::from_utf8_lossy(&bytes)).into_bytes()
            } else {
                bytes.clone()
            };
            let at = s.later(created, 10);
            let version = s.add(
                "ContentVersion",
                at,
                vec![
                    ("ContentDocumentId", Value::String(document.clone())),
                    ("Title", Value::from(title.clone())),
                    ("PathOnClient", Value::from(format!("{title}.{extension}"))),
                    ("VersionNumber", Value::from(v.to_string())),
                    ("FileExtension", Value::from(extension)),
                    ("FileType", Value::from(file_type(extension))),
                    ("ContentSize", Value::from(content.len())),
                    ("IsLatest", Value::Bool(v == versions)),
                ],
            );
            let &(table, row) = s.store.by_id.get(&version).expect("just stored");
            let url = blob_url(
                DEFAULT_API_VERSION,
                "ContentVersion",
                &version,
                "VersionData",
            );
            s.store.put(
                usize::from(table),
                row as usize,
                "VersionData",
                Value::String(url),
            );
            s.store
                .blobs
                .insert(version.clone(), (content, mime_type(extension).to_string()));
            latest = version;
        }
        let &(table, row) = s.store.by_id.get(&document).expect("just stored");
        let size = s.store.blobs[&latest].0.len();
        let table = usize::from(table);
        let row = row as usize;
        s.store.set_field(
            table,
            row,
            "LatestPublishedVersionId",
            Value::String(latest),
        );
        s.store
            .put(table, row, "FileExtension", Value::from(extension));
        s.store
            .put(table, row, "FileType", Value::from(file_type(extension)));
        s.store.put(table, row, "ContentSize", Value::from(size));

        // `--records 0` gives an org without cases or accounts: files then stay unlinked.
        let case = |k: usize| s.cases.get(k % s.cases.len().max(1)).map(|c| c.0.clone());
        let account = |k: usize| s.accounts.get(k % s.accounts.len().max(1)).cloned();
        let mut targets: Vec<String> = Vec::new();
        match i % 4 {
            0 => targets.extend(case(i)),
            1 => targets.extend(account(i)),
            2 => {
                targets.extend(s.projects.get(i % s.projects.len().max(1)).cloned());
                targets.extend(s.invoices.get(i % s.invoices.len().max(1)).cloned());
            }
            _ => {
                targets.extend(case(i * 7));
                targets.extend(account(i * 3));
            }
        }
        if i == 0 {
            // The first Case always has a file, so a test can rely on one.
            targets.extend(case(0));
            targets.dedup();
        }
        for target in targets {
            s.add(
                "ContentDocumentLink",
                created,
                vec![
                    ("LinkedEntityId", Value::String(target)),
                    ("ContentDocumentId", Value::String(document.clone())),
                    ("ShareType", Value::from("V")),
                    ("Visibility", Value::from("AllUsers")),
                ],
            );
        }
    }
}

/// Salesforce's FileType token for a lower-case extension.
pub(super) fn file_type(extension: &str) -> &'static str {
    match extension {
        "txt" => "TEXT",
        "csv" => "CSV",
        "md" => "MARKDOWN",
        "pdf" => "PDF",
        "png" => "PNG",
        "json" => "JSON",
        _ => "UNKNOWN",
    }
}

/// The MIME type served with a file's bytes.
pub(super) fn mime_type(extension: &str) -> &'static str {
    match extension {
        "txt" => "text/plain",
        "csv" => "text/csv",
        "md" => "text/markdown",
        "pdf" => "application/pdf",
        "png" => "image/png",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}
