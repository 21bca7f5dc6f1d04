//! Seeded data: deterministic for a seed, realistic and awkward on purpose (Unicode, long
//! texts, names with `/`, quotes, emoji, duplicates, `.` and `..`).

use std::collections::HashMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value};

use crate::fake_org::model::FieldType;

mod activities;
mod attachments;
mod cases;
mod files;
mod objects;
mod words;

use activities::seed_activities;
use attachments::seed_attachments;
use cases::seed_cases;
pub(super) use files::{file_type, mime_type};
use files::{seed_files, seed_large_files};
use objects::{
    seed_accounts, seed_campaigns, seed_contacts, seed_custom_objects, seed_leads,
    seed_opportunities, seed_org_and_users,
};
use words::*;

use super::schema::{self, CASE_STATUSES, LEAD_STATUSES, OPPORTUNITY_STAGES};
use super::{
    blob_url, format_datetime, Blob, GenerateOptions, Store, DEFAULT_API_VERSION,
    FEED_COMMENT_MARKER,
};

/// Number of seeded users; the first is the integration (run-as) user.
const USER_COUNT: usize = 20;
/// Records of the wide custom object: enough to list, few enough that 800 fields stay cheap.
const WIDE_RECORD_COUNT: usize = 20;
/// One Account in this many gets a description of several kilobytes.
const LONG_DESCRIPTION_EVERY: usize = 25;

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
    seed_activities(&mut s);
    // Last, so the records seeded before keep the Ids and values they always had.
    seed_large_files(&mut s, n);
    seed_attachments(&mut s);
}
