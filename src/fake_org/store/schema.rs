//! The fake org's schema: standard objects with the fields real describes show (reference
//! §9.1, trimmed to what sfmount and its tests use), three custom objects, and the rules for
//! which fields a create or update may write.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::rows::Rows;
use super::{GlobalOnlyEntry, ObjectMeta, Storage, Table};
use crate::fake_org::model::{ChildRelationshipDef, FieldDef, FieldType, ObjectDef, Record};

mod activities;
mod attachments;
pub(in crate::fake_org) use activities::ARCHIVING_OBJECTS;

/// Number of custom text fields on `Wide_Object__c`: with names of 25 characters, a SELECT of
/// all of them is over 20,000 bytes, past the 16,384-byte URI limit of a GET.
pub const WIDE_FIELD_COUNT: usize = 800;

/// The API name of the n-th (1-based) wide field.
pub fn wide_field_name(n: usize) -> String {
    format!("Wide_Field_Number_{n:04}__c")
}

/// Formula of `Invoice__c.Days_Open__c`, as describe's `calculatedFormula` shows it.
pub const DAYS_OPEN_FORMULA: &str = "TODAY() - DATEVALUE(CreatedDate)";

/// Fields no client may write: the platform sets them.
const SYSTEM_FIELDS: &[&str] = &[
    "Id",
    "IsDeleted",
    "CreatedDate",
    "CreatedById",
    "LastModifiedDate",
    "LastModifiedById",
    "SystemModstamp",
    "CaseNumber",
    "IsClosed",
    "CommentCount",
    "InsertedById",
    "LatestPublishedVersionId",
    "FileExtension",
    "FileType",
    "ContentSize",
    "IsLatest",
    "IsWon",
    "IsConverted",
    "ClosedDate",
    // Set by the platform's archiving of old activities; clients cannot change it.
    "IsArchived",
];

/// A plain field of `field_type` with the length, nillability and flags Salesforce gives
/// that type by default.
pub(super) fn field(name: &str, label: &str, field_type: FieldType) -> FieldDef {
    let length = match field_type {
        FieldType::Id | FieldType::Reference => 18,
        FieldType::String | FieldType::Url => 255,
        FieldType::TextArea => 255,
        FieldType::Email => 80,
        FieldType::Phone | FieldType::Picklist => 40,
        FieldType::MultiPicklist => 4099,
        FieldType::Combobox => 255,
        _ => 0,
    };
    let orderable = !matches!(field_type, FieldType::Address | FieldType::Base64);
    FieldDef {
        name: name.to_string(),
        label: label.to_string(),
        field_type,
        length,
        reference_to: Vec::new(),
        relationship_name: None,
        nillable: !matches!(field_type, FieldType::Boolean | FieldType::Id),
        custom: name.ends_with("__c"),
        calculated: false,
        filterable: orderable,
        sortable: orderable,
        compound_field_name: None,
        name_field: false,
        hidden: false,
        picklist_values: Vec::new(),
    }
}

/// Builder-style tweaks on a [`FieldDef`].
trait FieldExt: Sized {
    fn len(self, length: u32) -> Self;
    fn required(self) -> Self;
    fn refs(self, targets: &[&str], relationship: &str) -> Self;
    fn name_field(self) -> Self;
    fn compound(self, of: &str) -> Self;
    fn picklist(self, values: &[&str]) -> Self;
    /// Long text area (32,000): neither filterable nor sortable, as on real orgs.
    fn long_text(self, length: u32) -> Self;
    fn formula(self) -> Self;
}

impl FieldExt for FieldDef {
    fn len(mut self, length: u32) -> Self {
        self.length = length;
        self
    }
    fn required(mut self) -> Self {
        self.nillable = false;
        self
    }
    fn refs(mut self, targets: &[&str], relationship: &str) -> Self {
        self.reference_to = targets.iter().map(|t| t.to_string()).collect();
        self.relationship_name = Some(relationship.to_string());
        self
    }
    fn name_field(mut self) -> Self {
        self.name_field = true;
        self
    }
    fn compound(mut self, of: &str) -> Self {
        self.compound_field_name = Some(of.to_string());
        self
    }
    fn picklist(mut self, values: &[&str]) -> Self {
        self.picklist_values = values.iter().map(|v| v.to_string()).collect();
        self
    }
    fn long_text(mut self, length: u32) -> Self {
        self.length = length;
        self.filterable = false;
        self.sortable = false;
        self
    }
    fn formula(mut self) -> Self {
        self.calculated = true;
        self.nillable = true;
        self
    }
}

fn id_field(object_label: &str) -> FieldDef {
    field("Id", &format!("{object_label} ID"), FieldType::Id).required()
}

fn is_deleted() -> FieldDef {
    field("IsDeleted", "Deleted", FieldType::Boolean)
}

fn owner(targets: &[&str]) -> FieldDef {
    field("OwnerId", "Owner ID", FieldType::Reference)
        .refs(targets, "Owner")
        .required()
}

/// CreatedDate, CreatedById, LastModifiedDate, LastModifiedById, SystemModstamp.
fn audit_fields() -> Vec<FieldDef> {
    vec![
        field("CreatedDate", "Created Date", FieldType::DateTime).required(),
        field("CreatedById", "Created By ID", FieldType::Reference)
            .refs(&["User"], "CreatedBy")
            .required(),
        field(
            "LastModifiedDate",
            "Last Modified Date",
            FieldType::DateTime,
        )
        .required(),
        field(
            "LastModifiedById",
            "Last Modified By ID",
            FieldType::Reference,
        )
        .refs(&["User"], "LastModifiedBy")
        .required(),
        field("SystemModstamp", "System Modstamp", FieldType::DateTime).required(),
    ]
}

/// The schema of an object listed in describeGlobal that holds no rows here.
fn row_less_object(name: &str, label: &str, queryable: bool, fields: Vec<FieldDef>) -> ObjectDef {
    ObjectDef {
        name: name.to_string(),
        label: label.to_string(),
        label_plural: label.to_string(),
        key_prefix: String::new(),
        custom: name.contains("__"),
        queryable,
        fields,
        child_relationships: Vec::new(),
        required_filter_fields: Vec::new(),
    }
}

/// A change event's fields: its replay position and who made the change. Real ones also
/// carry a `ChangeEventHeader` compound and the changed object's fields; no fake type
/// models the header, and nothing here subscribes to events.
fn change_event_fields(label: &str) -> Vec<FieldDef> {
    vec![
        id_field(label),
        field("ReplayId", "Replay ID", FieldType::String),
        field("CreatedDate", "Created Date", FieldType::DateTime).required(),
        field("CreatedById", "Created By ID", FieldType::Reference)
            .refs(&["User"], "CreatedBy")
            .required(),
    ]
}

/// A platform event's system fields (events have no `Id`), then its own fields.
fn platform_event_fields(custom: Vec<FieldDef>) -> Vec<FieldDef> {
    let mut fields = vec![
        field("ReplayId", "Replay ID", FieldType::String),
        field("CreatedDate", "Created Date", FieldType::DateTime).required(),
        field("CreatedById", "Created By ID", FieldType::Reference)
            .refs(&["User"], "CreatedBy")
            .required(),
        // A UUID's 36 characters.
        field("EventUuid", "Event UUID", FieldType::String).len(36),
    ];
    fields.extend(custom);
    fields
}

/// A custom metadata type's standard fields, then its own fields.
fn custom_metadata_fields(label: &str, custom: Vec<FieldDef>) -> Vec<FieldDef> {
    let mut fields = vec![
        id_field(label),
        field(
            "DeveloperName",
            "Custom Metadata Record Name",
            FieldType::String,
        )
        .len(40)
        .required(),
        field("MasterLabel", "Label", FieldType::String)
            .len(40)
            .required()
            .name_field(),
        field("Language", "Master Language", FieldType::Picklist),
        field("NamespacePrefix", "Namespace Prefix", FieldType::String).len(15),
        field("Label", "Label", FieldType::String).len(40),
        field("QualifiedApiName", "Qualified API Name", FieldType::String).len(70),
    ];
    fields.extend(custom);
    fields
}

const GEOCODE_ACCURACY: &[&str] = &[
    "Address",
    "NearAddress",
    "Block",
    "Street",
    "ExtendedZip",
    "Zip",
    "Neighborhood",
    "City",
    "County",
    "State",
    "Unknown",
];

/// The parts of a compound address, then the compound itself (`prefix` = "Billing", "" ...).
fn address_fields(prefix: &str, label_prefix: &str) -> Vec<FieldDef> {
    let compound = format!("{prefix}Address");
    let label = |part: &str| {
        if label_prefix.is_empty() {
            part.to_string()
        } else {
            format!("{label_prefix} {part}")
        }
    };
    vec![
        field(
            &format!("{prefix}Street"),
            &label("Street"),
            FieldType::TextArea,
        )
        .compound(&compound),
        field(&format!("{prefix}City"), &label("City"), FieldType::String)
            .len(40)
            .compound(&compound),
        field(
            &format!("{prefix}State"),
            &label("State/Province"),
            FieldType::String,
        )
        .len(80)
        .compound(&compound),
        field(
            &format!("{prefix}PostalCode"),
            &label("Zip/Postal Code"),
            FieldType::String,
        )
        .len(20)
        .compound(&compound),
        field(
            &format!("{prefix}Country"),
            &label("Country"),
            FieldType::String,
        )
        .len(80)
        .compound(&compound),
        field(
            &format!("{prefix}Latitude"),
            &label("Latitude"),
            FieldType::Double,
        )
        .compound(&compound),
        field(
            &format!("{prefix}Longitude"),
            &label("Longitude"),
            FieldType::Double,
        )
        .compound(&compound),
        field(
            &format!("{prefix}GeocodeAccuracy"),
            &label("Geocode Accuracy"),
            FieldType::Picklist,
        )
        .picklist(GEOCODE_ACCURACY)
        .compound(&compound),
        {
            let mut address = field(
                &compound,
                &if label_prefix.is_empty() {
                    "Address".to_string()
                } else {
                    format!("{label_prefix} Address")
                },
                FieldType::Address,
            );
            // Real orgs let a query filter on an address (distance) but not sort by it.
            address.filterable = true;
            address
        },
    ]
}

/// FirstName, LastName, Salutation and the compound Name of a person (Contact, Lead, User).
fn person_name_fields(with_salutation: bool) -> Vec<FieldDef> {
    let mut fields = vec![
        field("LastName", "Last Name", FieldType::String)
            .len(80)
            .required()
            .compound("Name"),
        field("FirstName", "First Name", FieldType::String)
            .len(40)
            .compound("Name"),
    ];
    if with_salutation {
        fields.push(
            field("Salutation", "Salutation", FieldType::Picklist)
                .picklist(&["Mr.", "Ms.", "Mrs.", "Dr.", "Prof."])
                .compound("Name"),
        );
    }
    fields.push(
        field("Name", "Full Name", FieldType::String)
            .len(121)
            .required()
            .name_field(),
    );
    fields
}

fn description() -> FieldDef {
    field("Description", "Description", FieldType::TextArea).long_text(32000)
}

fn table(
    name: &str,
    label: &str,
    label_plural: &str,
    key_prefix: &str,
    fields: Vec<FieldDef>,
) -> Table {
    let custom = name.ends_with("__c");
    let noun = label_plural.to_lowercase();
    let mut fields = fields;
    if matches!(name, "Lead" | "Opportunity") {
        // Newer orgs (the v59 Lead and the Opportunity captures) describe picklists as 255 long.
        for field in fields.iter_mut().filter(|f| {
            f.field_type == FieldType::Picklist
                && f.name != "Salutation"
                && !f.name.ends_with("GeocodeAccuracy")
        }) {
            field.length = 255;
        }
    }
    Table {
        def: ObjectDef {
            name: name.to_string(),
            label: label.to_string(),
            label_plural: label_plural.to_string(),
            key_prefix: key_prefix.to_string(),
            custom,
            queryable: true,
            fields,
            child_relationships: Vec::new(),
            required_filter_fields: Vec::new(),
        },
        meta: ObjectMeta {
            createable: true,
            updateable: true,
            deletable: true,
            feed_enabled: !custom,
            feed_of: None,
            scopes: vec![
                ("everything", format!("All {noun}")),
                ("mine", format!("My {noun}")),
            ],
        },
        storage: Storage::Own(Rows::new(std::iter::empty())),
    }
}

fn with(mut fields: Vec<FieldDef>, more: Vec<FieldDef>) -> Vec<FieldDef> {
    fields.extend(more);
    fields
}

/// Objects that can own a file link or a feed item (LinkedEntityId / FeedItem.ParentId targets).
const LINKABLE: &[&str] = &[
    "Account",
    "Campaign",
    "Case",
    "Contact",
    "Invoice__c",
    "Lead",
    "Opportunity",
    "Project__c",
    "User",
    "Wide_Object__c",
];

/// The whole schema, and the describeGlobal-only entries.
pub(super) fn build() -> (Vec<Table>, Vec<GlobalOnlyEntry>) {
    use FieldType as T;
    let mut tables = Vec::new();

    let mut organization = table(
        "Organization",
        "Organization",
        "Organizations",
        "00D",
        with(
            vec![
                id_field("Organization"),
                field("Name", "Name", T::String)
                    .len(80)
                    .required()
                    .name_field(),
                field("Division", "Division", T::String).len(80),
            ],
            with(
                address_fields("", ""),
                with(
                    vec![
                        field("Phone", "Phone", T::Phone),
                        field("OrganizationType", "Edition", T::Picklist)
                            .picklist(&["Developer Edition", "Enterprise Edition"]),
                        field("InstanceName", "Instance Name", T::String).len(5),
                        field("IsSandbox", "Is Sandbox", T::Boolean),
                        // The Salesforce CLI selects these two, with the three above, when
                        // it logs in (`SELECT ... FROM Organization`).
                        field("TrialExpirationDate", "Trial Expiration Date", T::DateTime),
                        field("NamespacePrefix", "Namespace Prefix", T::String).len(15),
                        field("TimeZoneSidKey", "Default Time Zone", T::Picklist),
                        field("LanguageLocaleKey", "Language", T::Picklist),
                    ],
                    audit_fields(),
                ),
            ),
        ),
    );
    organization.meta = ObjectMeta {
        createable: false,
        updateable: false,
        deletable: false,
        feed_enabled: false,
        ..organization.meta
    };
    tables.push(organization);

    let mut user = table(
        "User",
        "User",
        "Users",
        "005",
        with(
            vec![
                id_field("User"),
                field("Username", "Username", T::String).len(80).required(),
            ],
            with(
                person_name_fields(false),
                with(
                    vec![
                        field("CompanyName", "Company Name", T::String).len(80),
                        field("Department", "Department", T::String).len(80),
                        field("Title", "Title", T::String).len(80),
                        field("Email", "Email", T::Email).len(128).required(),
                        field("Alias", "Alias", T::String).len(8).required(),
                        field("IsActive", "Active", T::Boolean),
                        field("UserType", "User Type", T::Picklist)
                            .picklist(&["Standard", "AutomatedProcess"]),
                        field("Phone", "Phone", T::Phone),
                    ],
                    audit_fields(),
                ),
            ),
        ),
    );
    user.meta.deletable = false;
    tables.push(user);

    let mut group = table(
        "Group",
        "Group",
        "Groups",
        "00G",
        with(
            vec![
                id_field("Group"),
                field("Name", "Name", T::String)
                    .len(40)
                    .required()
                    .name_field(),
                field("DeveloperName", "Developer Name", T::String).len(80),
                field("Type", "Type", T::Picklist)
                    .picklist(&["Queue", "Regular"])
                    .required(),
                field("Email", "Email", T::Email),
                owner(&["Organization", "User"]),
            ],
            audit_fields(),
        ),
    );
    group.meta.feed_enabled = false;
    tables.push(group);

    tables.push(table(
        "Account",
        "Account",
        "Accounts",
        "001",
        with(
            vec![
                id_field("Account"),
                is_deleted(),
                field("Name", "Account Name", T::String)
                    .required()
                    .name_field()
                    .compound("Name"),
                field("Type", "Account Type", T::Picklist).picklist(&[
                    "Prospect",
                    "Customer - Direct",
                    "Customer - Channel",
                    "Channel Partner / Reseller",
                    "Installation Partner",
                    "Technology Partner",
                    "Other",
                ]),
                field("ParentId", "Parent Account ID", T::Reference).refs(&["Account"], "Parent"),
            ],
            with(
                address_fields("Billing", "Billing"),
                with(
                    address_fields("Shipping", "Shipping"),
                    with(
                        vec![
                            field("Phone", "Account Phone", T::Phone),
                            field("AccountNumber", "Account Number", T::String).len(40),
                            field("Website", "Website", T::Url),
                            field("Industry", "Industry", T::Picklist).picklist(INDUSTRIES),
                            field("AnnualRevenue", "Annual Revenue", T::Currency),
                            field("NumberOfEmployees", "Employees", T::Int),
                            description(),
                            owner(&["User"]),
                        ],
                        audit_fields(),
                    ),
                ),
            ),
        ),
    ));

    let mut contact_fields = vec![
        id_field("Contact"),
        is_deleted(),
        field("AccountId", "Account ID", T::Reference).refs(&["Account"], "Account"),
    ];
    contact_fields.extend(person_name_fields(true));
    contact_fields.extend(address_fields("Mailing", "Mailing"));
    contact_fields.extend(vec![
        field("Phone", "Business Phone", T::Phone),
        field("MobilePhone", "Mobile Phone", T::Phone),
        field("Email", "Email", T::Email),
        field("Title", "Title", T::String).len(128),
        field("Department", "Department", T::String).len(80),
        field("Birthdate", "Birthdate", T::Date),
        description(),
        owner(&["User"]),
    ]);
    contact_fields.extend(audit_fields());
    tables.push(table(
        "Contact",
        "Contact",
        "Contacts",
        "003",
        contact_fields,
    ));

    let mut lead_fields = vec![id_field("Lead"), is_deleted()];
    lead_fields.extend(person_name_fields(true));
    lead_fields.extend(vec![
        field("Title", "Title", T::String).len(128),
        field("Company", "Company", T::String).required(),
    ]);
    lead_fields.extend(address_fields("", ""));
    lead_fields.extend(vec![
        field("Phone", "Phone", T::Phone),
        field("Email", "Email", T::Email),
        field("Website", "Website", T::Url),
        description(),
        field("LeadSource", "Lead Source", T::Picklist).picklist(&[
            "Web",
            "Phone Inquiry",
            "Partner Referral",
            "Purchased List",
            "Other",
        ]),
        field("Status", "Status", T::Picklist)
            .picklist(LEAD_STATUSES)
            .required(),
        field("Industry", "Industry", T::Picklist).picklist(INDUSTRIES),
        field("AnnualRevenue", "Annual Revenue", T::Currency),
        owner(&["Group", "User"]),
        field("IsConverted", "Converted", T::Boolean),
    ]);
    lead_fields.extend(audit_fields());
    tables.push(table("Lead", "Lead", "Leads", "00Q", lead_fields));

    tables.push(table(
        "Opportunity",
        "Opportunity",
        "Opportunities",
        "006",
        with(
            vec![
                id_field("Opportunity"),
                is_deleted(),
                field("AccountId", "Account ID", T::Reference).refs(&["Account"], "Account"),
                field("Name", "Name", T::String)
                    .len(120)
                    .required()
                    .name_field(),
                description(),
                field("StageName", "Stage", T::Picklist)
                    .picklist(OPPORTUNITY_STAGES)
                    .required(),
                field("Amount", "Amount", T::Currency),
                field("Probability", "Probability (%)", T::Percent),
                field("CloseDate", "Close Date", T::Date).required(),
                field("Type", "Opportunity Type", T::Picklist)
                    .picklist(&["Existing Customer - Upgrade", "New Customer"]),
                field("IsClosed", "Closed", T::Boolean),
                field("IsWon", "Won", T::Boolean),
                owner(&["User"]),
            ],
            audit_fields(),
        ),
    ));

    tables.push(table(
        "Campaign",
        "Campaign",
        "Campaigns",
        "701",
        with(
            vec![
                id_field("Campaign"),
                is_deleted(),
                field("Name", "Name", T::String)
                    .len(80)
                    .required()
                    .name_field(),
                field("Type", "Type", T::Picklist).picklist(&[
                    "Conference",
                    "Webinar",
                    "Trade Show",
                    "Email",
                    "Advertisement",
                    "Other",
                ]),
                field("Status", "Status", T::Picklist).picklist(&[
                    "Planned",
                    "In Progress",
                    "Completed",
                    "Aborted",
                ]),
                field("StartDate", "Start Date", T::Date),
                field("EndDate", "End Date", T::Date),
                field("IsActive", "Active", T::Boolean),
                description(),
                owner(&["User"]),
            ],
            audit_fields(),
        ),
    ));

    tables.push(table(
        "Case",
        "Case",
        "Cases",
        "500",
        with(
            vec![
                id_field("Case"),
                is_deleted(),
                field("CaseNumber", "Case Number", T::String)
                    .len(30)
                    .required()
                    .name_field(),
                field("ContactId", "Contact ID", T::Reference).refs(&["Contact"], "Contact"),
                field("AccountId", "Account ID", T::Reference).refs(&["Account"], "Account"),
                field("SuppliedEmail", "Web Email", T::Email),
                field("Type", "Case Type", T::Picklist).picklist(&[
                    "Mechanical",
                    "Electrical",
                    "Electronic",
                    "Structural",
                    "Other",
                ]),
                field("Status", "Status", T::Picklist).picklist(CASE_STATUSES),
                field("Reason", "Case Reason", T::Picklist).picklist(&[
                    "Installation",
                    "Equipment Complexity",
                    "Performance",
                    "Breakdown",
                    "Equipment Design",
                    "Feedback",
                    "Other",
                ]),
                field("Origin", "Case Origin", T::Picklist).picklist(&["Phone", "Email", "Web"]),
                field("Subject", "Subject", T::String),
                field("Priority", "Priority", T::Picklist).picklist(&["High", "Medium", "Low"]),
                description(),
                field("IsClosed", "Closed", T::Boolean),
                field("ClosedDate", "Closed Date", T::DateTime),
                field("IsEscalated", "Escalated", T::Boolean),
                owner(&["Group", "User"]),
            ],
            audit_fields(),
        ),
    ));

    let mut feed_item = table(
        "FeedItem",
        "Feed Item",
        "Feed Items",
        "0D5",
        feed_item_fields(LINKABLE),
    );
    feed_item.meta.updateable = true;
    feed_item.meta.feed_enabled = false;
    let feed_item_position = tables.len();
    tables.push(feed_item);

    let mut case_feed = table(
        "CaseFeed",
        "Case Feed",
        "Case Feed",
        "0D5",
        feed_item_fields(&["Case"]),
    );
    case_feed.meta = ObjectMeta {
        createable: false,
        updateable: false,
        deletable: true,
        feed_enabled: false,
        feed_of: Some("Case"),
        scopes: Vec::new(),
    };
    case_feed.storage = Storage::View {
        base: feed_item_position,
        parent_field: "ParentId",
        parent_prefix: "500",
    };
    tables.push(case_feed);

    let mut feed_comment = table(
        "FeedComment",
        "Feed Comment",
        "Feed Comments",
        "0D7",
        vec![
            id_field("Feed Comment"),
            field("FeedItemId", "Feed Item ID", T::Reference)
                .refs(&["FeedItem"], "FeedItem")
                .required(),
            field("ParentId", "Parent ID", T::Reference)
                .refs(LINKABLE, "Parent")
                .required(),
            field("CreatedById", "Created By ID", T::Reference)
                .refs(&["User"], "CreatedBy")
                .required(),
            field("CreatedDate", "Created Date", T::DateTime).required(),
            field("SystemModstamp", "System Modstamp", T::DateTime).required(),
            field("CommentBody", "Comment Body", T::TextArea)
                .long_text(10000)
                .required(),
            is_deleted(),
            field("InsertedById", "InsertedBy ID", T::Reference)
                .refs(&["User"], "InsertedBy")
                .required(),
            field("CommentType", "Comment Type", T::Picklist)
                .picklist(&["TextComment", "ContentComment"]),
            field("IsRichText", "Is Rich Text", T::Boolean),
        ],
    );
    feed_comment.meta.feed_enabled = false;
    tables.push(feed_comment);

    let mut case_comment = table(
        "CaseComment",
        "Case Comment",
        "Case Comments",
        "00a",
        with(
            vec![
                id_field("Case Comment"),
                field("ParentId", "Parent Case ID", T::Reference)
                    .refs(&["Case"], "Parent")
                    .required(),
                field("IsPublished", "Published", T::Boolean),
                field("CommentBody", "Body", T::TextArea).long_text(4000),
            ],
            with(audit_fields(), vec![is_deleted()]),
        ),
    );
    case_comment.meta.feed_enabled = false;
    tables.push(case_comment);

    tables.push(table(
        "EmailMessage",
        "Email Message",
        "Email Messages",
        "02s",
        with(
            vec![
                id_field("Email Message"),
                field("ParentId", "Case ID", T::Reference).refs(&["Case"], "Parent"),
                field("Subject", "Subject", T::String).len(3000),
                field("FromName", "From Name", T::String).len(1000),
                field("FromAddress", "From Address", T::Email),
                field("ToAddress", "To Address", T::String).len(4000),
                field("CcAddress", "CC Address", T::String).len(4000),
                field("BccAddress", "BCC Address", T::String).len(4000),
                field("TextBody", "Text Body", T::TextArea).long_text(131072),
                field("HtmlBody", "HTML Body", T::TextArea).long_text(131072),
                field("Incoming", "Is Incoming", T::Boolean),
                field("MessageDate", "Message Date", T::DateTime),
                field("Status", "Status", T::Picklist)
                    .picklist(&["0", "1", "2", "3", "4", "5"])
                    .required(),
                is_deleted(),
            ],
            audit_fields(),
        ),
    ));

    let mut content_document = table(
        "ContentDocument",
        "Content Document",
        "Content Documents",
        "069",
        with(
            vec![
                id_field("ContentDocument"),
                is_deleted(),
                owner(&["User"]),
                field("Title", "Title", T::String).required().name_field(),
                field(
                    "LatestPublishedVersionId",
                    "Latest Published Version ID",
                    T::Reference,
                )
                .refs(&["ContentVersion"], "LatestPublishedVersion"),
                field("ContentSize", "Size", T::Int),
                field("FileType", "File Type", T::String).len(20),
                field("FileExtension", "File Extension", T::String).len(40),
                field("Description", "Description", T::TextArea).long_text(1000),
            ],
            audit_fields(),
        ),
    );
    // Documents come into being through a ContentVersion insert, as on real orgs.
    content_document.meta.createable = false;
    tables.push(content_document);

    tables.push(table(
        "ContentVersion",
        "Content Version",
        "Content Versions",
        "068",
        with(
            vec![
                id_field("ContentVersion"),
                field("ContentDocumentId", "ContentDocument ID", T::Reference)
                    .refs(&["ContentDocument"], "ContentDocument"),
                field("IsLatest", "Is Latest", T::Boolean),
                field("Title", "Title", T::String).required().name_field(),
                field("Description", "Description", T::TextArea).long_text(1000),
                field("PathOnClient", "Path On Client", T::String).len(500),
                field("VersionNumber", "Version Number", T::String).len(20),
                is_deleted(),
                owner(&["User"]),
                field("FileType", "File Type", T::String).len(20),
                field("VersionData", "Version Data", T::Base64),
                field("ContentSize", "Size", T::Int),
                field("FileExtension", "File Extension", T::String).len(40),
                field(
                    "FirstPublishLocationId",
                    "First Publish Location ID",
                    T::Reference,
                )
                .refs(LINKABLE, "FirstPublishLocation"),
            ],
            audit_fields(),
        ),
    ));

    let mut link = table(
        "ContentDocumentLink",
        "Content Document Link",
        "Content Document Link",
        "06A",
        vec![
            id_field("ContentDocumentLink"),
            field("LinkedEntityId", "Linked Entity ID", T::Reference)
                .refs(LINKABLE, "LinkedEntity")
                .required(),
            field("ContentDocumentId", "ContentDocument ID", T::Reference)
                .refs(&["ContentDocument"], "ContentDocument")
                .required(),
            is_deleted(),
            field("SystemModstamp", "System Modstamp", T::DateTime).required(),
            field("ShareType", "Share Type", T::Picklist)
                .picklist(&["V", "C", "I"])
                .required(),
            field("Visibility", "Visibility", T::Picklist).picklist(&[
                "AllUsers",
                "InternalUsers",
                "SharedUsers",
            ]),
        ],
    );
    link.def.required_filter_fields = vec![
        "LinkedEntityId".into(),
        "ContentDocumentId".into(),
        "Id".into(),
    ];
    link.meta.feed_enabled = false;
    tables.push(link);

    tables.push(table(
        "Project__c",
        "Project",
        "Projects",
        "a01",
        with(
            vec![
                id_field("Record"),
                is_deleted(),
                field("Name", "Project Name", T::String)
                    .len(80)
                    .name_field(),
                owner(&["Group", "User"]),
            ],
            with(
                audit_fields(),
                vec![
                    field("Account__c", "Account", T::Reference).refs(&["Account"], "Account__r"),
                    field("Status__c", "Status", T::Picklist)
                        .picklist(&["Proposed", "Active", "On Hold", "Done"]),
                    field("Budget__c", "Budget", T::Currency),
                    field("Start_Date__c", "Start Date", T::Date),
                    field("Summary__c", "Summary", T::TextArea).long_text(32768),
                ],
            ),
        ),
    ));

    tables.push(table(
        "Invoice__c",
        "Invoice",
        "Invoices",
        "a00",
        with(
            vec![
                id_field("Record"),
                is_deleted(),
                field("Name", "Invoice Number", T::String)
                    .len(80)
                    .name_field(),
                owner(&["Group", "User"]),
            ],
            with(
                audit_fields(),
                vec![
                    field("Project__c", "Project", T::Reference)
                        .refs(&["Project__c"], "Project__r"),
                    field("Amount__c", "Amount", T::Currency),
                    field("Status__c", "Status", T::Picklist)
                        .picklist(&["Draft", "Sent", "Paid", "Overdue"]),
                    field("Due_Date__c", "Due Date", T::Date),
                    field("Paid__c", "Paid", T::Boolean),
                    field("Notes__c", "Notes", T::TextArea).long_text(32768),
                    field("Days_Open__c", "Days Open", T::Double).formula(),
                ],
            ),
        ),
    ));

    let mut wide_fields = vec![
        id_field("Record"),
        is_deleted(),
        field("Name", "Wide Object Name", T::String)
            .len(80)
            .name_field(),
        owner(&["Group", "User"]),
    ];
    wide_fields.extend(audit_fields());
    wide_fields.extend((1..=WIDE_FIELD_COUNT).map(|n| {
        field(
            &wide_field_name(n),
            &format!("Wide Field Number {n:04}"),
            T::String,
        )
        .len(40)
    }));
    tables.push(table(
        "Wide_Object__c",
        "Wide Object",
        "Wide Objects",
        "a02",
        wide_fields,
    ));

    tables.extend(activities::activity_tables());
    tables.push(attachments::attachment_table());
    add_child_relationships(&mut tables);

    let global_only = vec![
        GlobalOnlyEntry {
            def: row_less_object(
                "AccountChangeEvent",
                "Account Change Event",
                false,
                change_event_fields("Account Change Event"),
            ),
            associate: Some(("ChangeEvent", "Account")),
        },
        GlobalOnlyEntry {
            def: row_less_object(
                "CaseChangeEvent",
                "Case Change Event",
                false,
                change_event_fields("Case Change Event"),
            ),
            associate: Some(("ChangeEvent", "Case")),
        },
        GlobalOnlyEntry {
            def: row_less_object(
                "Invoice_Paid__e",
                "Invoice Paid",
                false,
                platform_event_fields(vec![
                    field("Invoice_Number__c", "Invoice Number", FieldType::String).len(80),
                    field("Amount__c", "Amount", FieldType::Currency),
                ]),
            ),
            associate: None,
        },
        GlobalOnlyEntry {
            def: row_less_object(
                "Region_Setting__mdt",
                "Region Setting",
                true,
                custom_metadata_fields(
                    "Region Setting",
                    vec![field("Region_Code__c", "Region Code", FieldType::String).len(10)],
                ),
            ),
            associate: None,
        },
    ];
    (tables, global_only)
}

fn feed_item_fields(parents: &[&str]) -> Vec<FieldDef> {
    use FieldType as T;
    vec![
        id_field("Feed Item"),
        field("ParentId", "Parent ID", T::Reference)
            .refs(parents, "Parent")
            .required(),
        field("Type", "Feed Item Type", T::Picklist).picklist(&[
            "TextPost",
            "ContentPost",
            "LinkPost",
            "TrackedChange",
            "CaseCommentPost",
            "EmailMessageEvent",
        ]),
        field("CreatedById", "Created By ID", T::Reference)
            .refs(&["User"], "CreatedBy")
            .required(),
        field("CreatedDate", "Created Date", T::DateTime).required(),
        is_deleted(),
        field("LastModifiedDate", "Last Modified Date", T::DateTime).required(),
        field("SystemModstamp", "System Modstamp", T::DateTime).required(),
        field("CommentCount", "Comment Count", T::Int),
        field("LikeCount", "Like Count", T::Int),
        field("Title", "Title", T::String),
        field("Body", "Body", T::TextArea).long_text(10000),
        field("LinkUrl", "Link Url", T::Url).len(1000),
        field("IsRichText", "Is Rich Text", T::Boolean),
        field("RelatedRecordId", "Related Record ID", T::Reference)
            .refs(&["ContentVersion"], "RelatedRecord"),
        field("InsertedById", "InsertedBy ID", T::Reference)
            .refs(&["User"], "InsertedBy")
            .required(),
    ]
}

/// Every parent's child relationships, sorted by child object as real describes are.
fn add_child_relationships(tables: &mut [Table]) {
    let rel = |child: &str, field: &str, name: Option<&str>, cascade: bool| ChildRelationshipDef {
        relationship_name: name.map(str::to_string),
        child_object: child.to_string(),
        field: field.to_string(),
        cascade_delete: cascade,
    };
    for table in tables.iter_mut() {
        let name = table.def.name.clone();
        let mut children = Vec::new();
        if LINKABLE.contains(&name.as_str()) {
            children.push(rel("Attachment", "ParentId", Some("Attachments"), true));
            children.push(rel(
                "ContentDocumentLink",
                "LinkedEntityId",
                Some("ContentDocumentLinks"),
                true,
            ));
            children.push(rel("FeedItem", "ParentId", None, true));
            children.push(rel("ContentVersion", "FirstPublishLocationId", None, false));
        }
        if activities::WHAT_TARGETS.contains(&name.as_str()) {
            children.push(rel("Event", "WhatId", Some("Events"), true));
            children.push(rel("Task", "WhatId", Some("Tasks"), true));
        }
        if activities::WHO_TARGETS.contains(&name.as_str()) {
            children.push(rel("Event", "WhoId", Some("Events"), true));
            children.push(rel("Task", "WhoId", Some("Tasks"), true));
        }
        match name.as_str() {
            "Account" => {
                children.push(rel("Account", "ParentId", Some("ChildAccounts"), false));
                children.push(rel("AccountChangeEvent", "ParentId", None, false));
                children.push(rel("Case", "AccountId", Some("Cases"), false));
                children.push(rel("Contact", "AccountId", Some("Contacts"), true));
                children.push(rel("Opportunity", "AccountId", Some("Opportunities"), true));
                children.push(rel("Project__c", "Account__c", Some("Projects__r"), false));
            }
            "Contact" => children.push(rel("Case", "ContactId", Some("Cases"), false)),
            "Case" => {
                children.push(rel("CaseChangeEvent", "CaseId", None, false));
                children.push(rel("CaseComment", "ParentId", Some("CaseComments"), true));
                children.push(rel("CaseFeed", "ParentId", Some("Feeds"), true));
                children.push(rel("EmailMessage", "ParentId", Some("EmailMessages"), true));
            }
            "FeedItem" | "CaseFeed" => {
                children.push(rel("FeedComment", "FeedItemId", Some("FeedComments"), true));
            }
            "ContentDocument" => {
                children.push(rel(
                    "ContentDocumentLink",
                    "ContentDocumentId",
                    Some("ContentDocumentLinks"),
                    true,
                ));
                children.push(rel(
                    "ContentVersion",
                    "ContentDocumentId",
                    Some("ContentVersions"),
                    true,
                ));
            }
            "Project__c" => {
                children.push(rel("Invoice__c", "Project__c", Some("Invoices__r"), false))
            }
            "User" => {
                children.push(rel("Case", "OwnerId", None, false));
                children.push(rel("Account", "OwnerId", None, false));
            }
            _ => {}
        }
        children.sort_by(|a, b| {
            a.child_object
                .cmp(&b.child_object)
                .then(a.field.cmp(&b.field))
        });
        table.def.child_relationships = children;
    }
}

const INDUSTRIES: &[&str] = &[
    "Agriculture",
    "Apparel",
    "Banking",
    "Biotechnology",
    "Chemicals",
    "Communications",
    "Construction",
    "Consulting",
    "Education",
    "Electronics",
    "Energy",
    "Engineering",
    "Entertainment",
    "Finance",
    "Healthcare",
    "Insurance",
    "Manufacturing",
    "Media",
    "Retail",
    "Technology",
    "Telecommunications",
    "Transportation",
    "Utilities",
    "Other",
];

pub(super) const LEAD_STATUSES: &[&str] = &[
    "Open - Not Contacted",
    "Working - Contacted",
    "Closed - Converted",
    "Closed - Not Converted",
];

pub(super) const CASE_STATUSES: &[&str] = &["New", "Working", "Escalated", "Closed"];

pub(super) const OPPORTUNITY_STAGES: &[&str] = &[
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
];

/// Whether a create (or update) body may set this field.
pub(super) fn is_writable(def: &ObjectDef, field: &FieldDef, creating: bool) -> bool {
    if field.calculated || field.field_type == FieldType::Address {
        return false;
    }
    if SYSTEM_FIELDS.contains(&field.name.as_str()) {
        return false;
    }
    // A person's compound Name is built from its parts.
    let is_person_name = field.name == "Name"
        && def
            .fields
            .iter()
            .any(|f| f.compound_field_name.as_deref() == Some("Name") && f.name != "Name");
    if is_person_name {
        return false;
    }
    // Feed posts and comments keep their parent; a version keeps its document; an
    // Attachment keeps its parent (as on real orgs) and, in this fake, its bytes: a changed
    // file is a new Attachment, which is all sfmount's tests need.
    let fixed_after_create = matches!(
        (def.name.as_str(), field.name.as_str()),
        ("FeedItem", "ParentId")
            | ("FeedComment", "FeedItemId")
            | ("FeedComment", "ParentId")
            | ("ContentVersion", "ContentDocumentId")
            | ("ContentVersion", "VersionData")
            | ("Attachment", "Body")
            | ("Attachment", "ParentId")
            | ("ContentDocumentLink", "LinkedEntityId")
            | ("ContentDocumentLink", "ContentDocumentId")
    );
    if fixed_after_create && !creating {
        return false;
    }
    // The platform fills a comment's parent from its feed item.
    !(def.name == "FeedComment" && field.name == "ParentId")
}

/// Fields a create must set (and an update may not blank): the non-nillable writable ones
/// that the platform does not default.
pub(super) fn is_required_on_write(def: &ObjectDef, field: &FieldDef) -> bool {
    if field.nillable || field.field_type == FieldType::Boolean || field.hidden {
        return false;
    }
    if !is_writable(def, field, true) {
        return false;
    }
    // Defaulted on create: the owner is the running user, statuses and types have defaults.
    !matches!(
        field.name.as_str(),
        "OwnerId" | "Status" | "ShareType" | "Type" | "Priority"
    )
}

/// The default a real org's describe shows for a field (and fills in on create).
pub(super) fn default_value(object: &str, field: &str) -> Option<&'static str> {
    match (object, field) {
        ("Case", "Status") => Some("New"),
        ("Case", "Priority") => Some("Medium"),
        ("Lead", "Status") => Some("Open - Not Contacted"),
        ("FeedItem" | "CaseFeed", "Type") => Some("TextPost"),
        ("FeedComment", "CommentType") => Some("TextComment"),
        ("ContentDocumentLink", "ShareType") => Some("V"),
        ("ContentDocumentLink", "Visibility") => Some("AllUsers"),
        ("EmailMessage", "Status") => Some("3"),
        ("Task", "Status") => Some("Not Started"),
        ("Task", "Priority") => Some("Normal"),
        _ => None,
    }
}

/// Values a real org fills in on create when the body leaves them out.
pub(super) fn apply_create_defaults(object: &str, record: &mut Record) {
    let fields: Vec<String> = record.keys().cloned().collect();
    let mut default = |field: &str, value: Value| {
        if record.get(field).is_none_or(Value::is_null) && record.contains_key(field) {
            record.insert(field.to_string(), value);
        }
    };
    for field in &fields {
        if let Some(value) = default_value(object, field) {
            default(field, Value::from(value));
        }
    }
    match object {
        "FeedItem" => {
            default("CommentCount", Value::from(0));
            default("LikeCount", Value::from(0));
        }
        "ContentVersion" => default("VersionNumber", Value::from("1")),
        _ => {}
    }
}

/// The compound address object, from its part fields (`BillingStreet` → `street` ...).
/// `get` reads a stored field of the record.
pub(super) fn address_value(get: &dyn Fn(&str) -> Value, parts: &[String]) -> Value {
    let part = |suffix: &str| {
        parts
            .iter()
            .find(|p| p.ends_with(suffix))
            .map_or(Value::Null, |p| get(p))
    };
    // Alphabetical keys, as the Organization capture shows.
    let mut address = Map::with_capacity(8); // the eight keys below: no regrowth
    address.insert("city".into(), part("City"));
    address.insert("country".into(), part("Country"));
    address.insert("geocodeAccuracy".into(), part("GeocodeAccuracy"));
    address.insert("latitude".into(), part("Latitude"));
    address.insert("longitude".into(), part("Longitude"));
    address.insert("postalCode".into(), part("PostalCode"));
    address.insert("state".into(), part("State"));
    address.insert("street".into(), part("Street"));
    Value::Object(address)
}

/// A person's Name: "FirstName LastName" (salutation is not part of the stored Name).
pub(super) fn person_name(record: &Record) -> Value {
    let first = record
        .get("FirstName")
        .and_then(Value::as_str)
        .unwrap_or("");
    let last = record.get("LastName").and_then(Value::as_str).unwrap_or("");
    let name = [first, last]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    if name.is_empty() {
        Value::Null
    } else {
        Value::String(name)
    }
}

/// The value of a formula field computed at `now`.
pub(super) fn evaluate_formula(
    object: &str,
    field: &str,
    get: &dyn Fn(&str) -> Value,
    now: DateTime<Utc>,
) -> Value {
    match (object, field) {
        ("Invoice__c", "Days_Open__c") => {
            let created = get("CreatedDate").as_str().and_then(super::parse_datetime);
            match created {
                // TODAY() - DATEVALUE(CreatedDate): whole days between the two dates (UTC).
                Some(created) => {
                    let days = (now.date_naive() - created.date_naive()).num_days();
                    serde_json::Number::from_f64(days as f64)
                        .map(Value::Number)
                        .unwrap_or(Value::Null)
                }
                None => Value::Null,
            }
        }
        _ => Value::Null,
    }
}
