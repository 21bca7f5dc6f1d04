//! Per-object content rules: what the text view of a record shows, in order. The renderer
//! follows these rules; the query planner can read `content_fields` to be sure it selects
//! what the text view needs.

/// One block of a record's text view, after the common header (title, link, object, owner,
/// times) and before the attached files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentRule {
    /// A text field, shown as `Label: value` (a multi-line value as an indented block).
    Text {
        field: &'static str,
        label: &'static str,
    },
    /// A boolean shown in words: `Label: when_true` or `Label: when_false`.
    Flag {
        field: &'static str,
        label: &'static str,
        when_true: &'static str,
        when_false: &'static str,
    },
    /// A postal address from the compound field (e.g. `BillingAddress`) or, part by part
    /// where that is absent or empty, from the flat fields: street, city, state, postal code,
    /// country in that order (`BillingStreet`, `BillingCity`, ...).
    Address {
        compound: &'static str,
        parts: [&'static str; 5],
        label: &'static str,
    },
    /// A Case's feed items (record key `Feeds`), each with its comments.
    Feeds,
    /// A Case's emails (record key `EmailMessages`): subject, from, to, date, body; an email
    /// with only an HTML body shows that body as text.
    Emails,
    /// A record's tasks and events (record keys `Tasks`, `Events`), archived ones included.
    Activities,
    /// Every other string-valued field that is not an Id or a system field (custom objects).
    OtherText,
}

const DESCRIPTION: ContentRule = ContentRule::Text {
    field: "Description",
    label: "Description",
};

const fn text(field: &'static str, label: &'static str) -> ContentRule {
    ContentRule::Text { field, label }
}

const ACCOUNT: &[ContentRule] = &[
    DESCRIPTION,
    text("Website", "Website"),
    text("Type", "Type"),
    ContentRule::Address {
        compound: "BillingAddress",
        parts: [
            "BillingStreet",
            "BillingCity",
            "BillingState",
            "BillingPostalCode",
            "BillingCountry",
        ],
        label: "Billing Address",
    },
];
const OPPORTUNITY: &[ContentRule] = &[DESCRIPTION, text("StageName", "Stage")];
const CONTACT: &[ContentRule] = &[
    DESCRIPTION,
    text("Email", "Email"),
    text("Phone", "Phone"),
    text("Title", "Title"),
];
const LEAD: &[ContentRule] = &[
    DESCRIPTION,
    text("Company", "Company"),
    text("Email", "Email"),
    text("Phone", "Phone"),
    text("Status", "Status"),
];
const CAMPAIGN: &[ContentRule] = &[
    DESCRIPTION,
    text("Type", "Type"),
    text("Status", "Status"),
    ContentRule::Flag {
        field: "IsActive",
        label: "Active",
        when_true: "yes",
        when_false: "no",
    },
];
const CASE: &[ContentRule] = &[
    DESCRIPTION,
    text("CaseNumber", "Case Number"),
    text("Status", "Status"),
    ContentRule::Flag {
        field: "IsClosed",
        label: "State",
        when_true: "Closed",
        when_false: "Open",
    },
    ContentRule::Feeds,
    ContentRule::Emails,
    ContentRule::Activities,
];
const OTHER: &[ContentRule] = &[DESCRIPTION, ContentRule::OtherText];

/// The content rules of an object type (API name, matched case-insensitively); objects other
/// than the six standard ones get Description and every other text field.
pub fn content_rules(object: &str) -> &'static [ContentRule] {
    match object.to_ascii_lowercase().as_str() {
        "account" => ACCOUNT,
        "opportunity" => OPPORTUNITY,
        "contact" => CONTACT,
        "lead" => LEAD,
        "campaign" => CAMPAIGN,
        "case" => CASE,
        _ => OTHER,
    }
}

/// Fields (relationship fields dotted) that every record's text header reads.
const HEADER_FIELDS: [&str; 5] = [
    "Id",
    "Owner.Name",
    "CreatedBy.Name",
    "CreatedDate",
    "LastModifiedDate",
];

/// Keys of a compound address value, in the order of `ContentRule::Address::parts`.
pub const ADDRESS_KEYS: [&str; 5] = ["street", "city", "state", "postalCode", "country"];

/// Fields of a CaseFeed item the text view shows.
pub const CASE_FEED_FIELDS: [&str; 7] = [
    "Id",
    "Type",
    "Body",
    "Title",
    "LinkUrl",
    "CreatedDate",
    "CreatedBy.Name",
];

/// Fields of a FeedComment the text view shows.
pub const FEED_COMMENT_FIELDS: [&str; 4] = ["Id", "CommentBody", "CreatedDate", "CreatedBy.Name"];

/// Fields of an EmailMessage a Case's files carry (those the org has): the text view's
/// subject, addresses, date and bodies, and enough state (direction, status) to read the
/// thread. Both bodies are selected, so an HTML-only email still has a body to show.
pub const EMAIL_MESSAGE_FIELDS: [&str; 15] = [
    "Id",
    "Subject",
    "FromName",
    "FromAddress",
    "ToAddress",
    "CcAddress",
    "BccAddress",
    "MessageDate",
    "Incoming",
    "Status",
    "HasAttachment",
    "TextBody",
    "HtmlBody",
    "CreatedDate",
    "LastModifiedDate",
];

/// Fields of a Task a record's files carry (those the org has), beside `Who.Name` and
/// `Owner.Name`.
pub const TASK_FIELDS: [&str; 14] = [
    "Id",
    "Subject",
    "Status",
    "Priority",
    "ActivityDate",
    "IsClosed",
    "IsArchived",
    "TaskSubtype",
    "CompletedDateTime",
    "Description",
    "WhoId",
    "OwnerId",
    "CreatedDate",
    "LastModifiedDate",
];

/// Fields of an Event a record's files carry (those the org has), beside `Who.Name` and
/// `Owner.Name`.
pub const EVENT_FIELDS: [&str; 15] = [
    "Id",
    "Subject",
    "Location",
    "StartDateTime",
    "EndDateTime",
    "IsAllDayEvent",
    "ActivityDate",
    "DurationInMinutes",
    "IsArchived",
    "Description",
    "WhoId",
    "OwnerId",
    "CreatedDate",
    "LastModifiedDate",
    "ActivityDateTime",
];

/// Time order of each kind of child, first key first (those the org can sort on; `Id` ends
/// every order so ties are stable): an email by when it was sent, an event by when it
/// starts, a task by when it was created (its due date is often empty).
pub const EMAIL_ORDER: [&str; 2] = ["MessageDate", "CreatedDate"];
pub const TASK_ORDER: [&str; 1] = ["CreatedDate"];
pub const EVENT_ORDER: [&str; 2] = ["StartDateTime", "CreatedDate"];

/// The fields the text view of `object` reads, header first, without duplicates. Custom
/// objects' "every other text field" depends on the describe, so it is not listed here.
pub fn content_fields(object: &str) -> Vec<&'static str> {
    let mut fields: Vec<&'static str> = HEADER_FIELDS.to_vec();
    if object.eq_ignore_ascii_case("Case") {
        fields.push("Subject");
    }
    for rule in content_rules(object) {
        match *rule {
            ContentRule::Text { field, .. } | ContentRule::Flag { field, .. } => fields.push(field),
            ContentRule::Address {
                compound, parts, ..
            } => {
                fields.push(compound);
                fields.extend(parts);
            }
            ContentRule::Feeds
            | ContentRule::Emails
            | ContentRule::Activities
            | ContentRule::OtherText => {}
        }
    }
    let mut seen = std::collections::HashSet::new();
    fields.retain(|field| seen.insert(*field));
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_follow_the_connector_order_per_object() {
        let labels = |object: &str| -> Vec<&'static str> {
            content_rules(object)
                .iter()
                .map(|rule| match *rule {
                    ContentRule::Text { label, .. }
                    | ContentRule::Flag { label, .. }
                    | ContentRule::Address { label, .. } => label,
                    ContentRule::Feeds => "<feeds>",
                    ContentRule::Emails => "<emails>",
                    ContentRule::Activities => "<activities>",
                    ContentRule::OtherText => "<other text>",
                })
                .collect()
        };
        assert_eq!(
            labels("Account"),
            ["Description", "Website", "Type", "Billing Address"]
        );
        assert_eq!(labels("opportunity"), ["Description", "Stage"]);
        assert_eq!(
            labels("Contact"),
            ["Description", "Email", "Phone", "Title"]
        );
        assert_eq!(
            labels("Lead"),
            ["Description", "Company", "Email", "Phone", "Status"]
        );
        assert_eq!(
            labels("Campaign"),
            ["Description", "Type", "Status", "Active"]
        );
        assert_eq!(
            labels("CASE"),
            [
                "Description",
                "Case Number",
                "Status",
                "State",
                "<feeds>",
                "<emails>",
                "<activities>"
            ]
        );
        assert_eq!(labels("Invoice__c"), ["Description", "<other text>"]);
        assert_eq!(labels("User"), ["Description", "<other text>"]);
    }

    #[test]
    fn content_fields_cover_header_rules_and_address_parts_once() {
        let account = content_fields("Account");
        for field in [
            "Id",
            "Owner.Name",
            "CreatedDate",
            "Website",
            "BillingAddress",
            "BillingPostalCode",
        ] {
            assert!(account.contains(&field), "{field} missing from {account:?}");
        }
        let case = content_fields("Case");
        for field in ["Subject", "CaseNumber", "IsClosed", "Status"] {
            assert!(case.contains(&field), "{field} missing from {case:?}");
        }
        let mut unique = case.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), case.len(), "no duplicates");
        assert!(!content_fields("Contact").contains(&"Subject"));
    }
}
