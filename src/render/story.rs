//! The text view of a Case's emails, tasks and events (record keys `EmailMessages`, `Tasks`,
//! `Events`, each already in time order). Layout:
//! ```text
//! Emails:
//! - <Subject>
//!   From: <FromName> <FromAddress>
//!   To: <ToAddress>
//!   Cc: <CcAddress>
//!   Date: 2024-01-15 10:30:00 UTC (received | sent)
//!   <text body, or the HTML body as text, indented by two>
//!
//! Tasks:
//! - <Subject> (<Status>[, archived])
//!   Due: 2024-01-20
//!   Priority: High
//!   With: <Who.Name>
//!   Owner: <Owner.Name>
//!   <description>
//!
//! Events:
//! - <Subject>[ (archived)]
//!   When: 2024-01-15 10:00:00 UTC to 2024-01-15 11:00:00 UTC
//!   Location: <Location>
//!   With: / Owner: as for tasks
//!   <description>
//! ```

use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::html::html_to_text;
use super::text::{
    bool_field, child_records, clean, format_time, nested_string, one_line, push_block,
    push_field_indented, string_field,
};

type Row = Map<String, Value>;

/// The `Emails:` section, empty when the record has none.
pub(super) fn push_emails(out: &mut String, record: &Row) {
    let emails = child_records(record.get("EmailMessages"));
    if emails.is_empty() {
        return;
    }
    out.push_str("Emails:\n");
    for email in emails {
        let subject = string_field(email, "Subject").map(|s| one_line(&s));
        let _ = writeln!(out, "- {}", subject.as_deref().unwrap_or("(no subject)"));
        let from = match (
            string_field(email, "FromName").map(|n| one_line(&n)),
            string_field(email, "FromAddress").map(|a| one_line(&a)),
        ) {
            (Some(name), Some(address)) => Some(format!("{name} <{address}>")),
            (name, address) => name.or(address),
        };
        if let Some(from) = from {
            push_field_indented(out, "  ", "From", &from);
        }
        for (field, label) in [
            ("ToAddress", "To"),
            ("CcAddress", "Cc"),
            ("BccAddress", "Bcc"),
        ] {
            if let Some(to) = string_field(email, field) {
                push_field_indented(out, "  ", label, &one_line(&to));
            }
        }
        let date =
            string_field(email, "MessageDate").or_else(|| string_field(email, "CreatedDate"));
        let direction = bool_field(email, "Incoming").map(|i| if i { "received" } else { "sent" });
        match (date, direction) {
            (Some(date), Some(direction)) => push_field_indented(
                out,
                "  ",
                "Date",
                &format!("{} ({direction})", format_time(&date)),
            ),
            (Some(date), None) => push_field_indented(out, "  ", "Date", &format_time(&date)),
            (None, Some(direction)) => push_field_indented(out, "  ", "Direction", direction),
            (None, None) => {}
        }
        if let Some(body) = email_body(email) {
            push_block(out, "  ", &body);
        }
    }
}

/// The text body; when there is none, the HTML body as text (emails sent from HTML-only
/// clients carry nothing else).
fn email_body(email: &Row) -> Option<String> {
    let text = string_field(email, "TextBody").filter(|t| !t.trim().is_empty());
    let body = match text {
        Some(text) => text,
        None => match email.get("HtmlBody") {
            Some(Value::String(html)) => clean(&html_to_text(html)),
            _ => return None,
        },
    };
    (!body.trim().is_empty()).then_some(body)
}

/// The `Tasks:` and `Events:` sections, each left out when empty.
pub(super) fn push_activities(out: &mut String, record: &Row) {
    let tasks = child_records(record.get("Tasks"));
    let events = child_records(record.get("Events"));
    if !tasks.is_empty() {
        out.push_str("Tasks:\n");
        for task in &tasks {
            let mut state: Vec<String> = string_field(task, "Status")
                .map(|s| one_line(&s))
                .into_iter()
                .collect();
            if bool_field(task, "IsArchived") == Some(true) {
                state.push("archived".into());
            }
            push_title(out, task, &state);
            if let Some(due) = string_field(task, "ActivityDate") {
                push_field_indented(out, "  ", "Due", &format_time(&due));
            }
            if let Some(priority) = string_field(task, "Priority") {
                push_field_indented(out, "  ", "Priority", &one_line(&priority));
            }
            push_people_and_description(out, task);
        }
    }
    if !events.is_empty() {
        if !tasks.is_empty() {
            out.push('\n');
        }
        out.push_str("Events:\n");
        for event in events {
            let archived = bool_field(event, "IsArchived") == Some(true);
            let state: Vec<String> = if archived {
                vec!["archived".into()]
            } else {
                Vec::new()
            };
            push_title(out, event, &state);
            if let Some(when) = event_time(event) {
                push_field_indented(out, "  ", "When", &when);
            }
            if let Some(location) = string_field(event, "Location") {
                push_field_indented(out, "  ", "Location", &one_line(&location));
            }
            push_people_and_description(out, event);
        }
    }
}

/// `- <Subject> (<state, ...>)`.
fn push_title(out: &mut String, row: &Row, state: &[String]) {
    let subject = string_field(row, "Subject").map(|s| one_line(&s));
    let _ = write!(out, "- {}", subject.as_deref().unwrap_or("(no subject)"));
    if !state.is_empty() {
        let _ = write!(out, " ({})", state.join(", "));
    }
    out.push('\n');
}

/// An all-day event's day, or its start and end.
fn event_time(event: &Row) -> Option<String> {
    if bool_field(event, "IsAllDayEvent") == Some(true) {
        if let Some(day) = string_field(event, "ActivityDate") {
            return Some(format!("{} (all day)", one_line(&day)));
        }
    }
    let start = string_field(event, "StartDateTime")
        .or_else(|| string_field(event, "ActivityDateTime"))
        .map(|t| format_time(&t));
    let end = string_field(event, "EndDateTime").map(|t| format_time(&t));
    match (start, end) {
        (Some(start), Some(end)) => Some(format!("{start} to {end}")),
        (start, end) => start.or(end),
    }
}

fn push_people_and_description(out: &mut String, row: &Row) {
    if let Some(who) = nested_string(row, "Who", "Name") {
        push_field_indented(out, "  ", "With", &one_line(&who));
    }
    if let Some(owner) = nested_string(row, "Owner", "Name") {
        push_field_indented(out, "  ", "Owner", &one_line(&owner));
    }
    if let Some(description) = string_field(row, "Description") {
        push_block(out, "  ", &description);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Map, Value};

    use crate::render::{render_json, render_text, TextContext};

    fn case_with_story() -> Map<String, Value> {
        json!({
            "Id": "500Hs00001XyZaBIAV",
            "Subject": "Printer jams",
            "Feeds": [],
            "EmailMessages": [
                {"Subject": "Printer\njams", "FromName": "Zoë O'Connor", "FromAddress": "zoe@example.com",
                 "ToAddress": "support@acme.example", "CcAddress": null, "Incoming": true,
                 "MessageDate": "2024-03-01T09:00:00.000+0000",
                 "TextBody": "It jams.\r\nAgain.", "HtmlBody": "<p>It jams.</p>"},
                {"Subject": "RE: Printer jams", "FromAddress": "support@acme.example",
                 "ToAddress": "zoe@example.com", "Incoming": false,
                 "MessageDate": "2024-03-01T10:00:00.000+0000", "TextBody": null,
                 "HtmlBody": "<html><head><style>p{}</style></head><body><p>Try&nbsp;<b>this</b> &amp; that</p><p>Regards</p></body></html>"}
            ],
            "Tasks": [
                {"Subject": "Call back", "Status": "Completed", "IsArchived": true,
                 "ActivityDate": "2023-05-02", "Priority": "High",
                 "Who": {"attributes": {"type": "Name"}, "Name": "Zoë O'Connor"},
                 "Owner": {"Name": "Ann Agent"}, "Description": "Left a message\tat 9"}
            ],
            "Events": [
                {"Subject": "Visit", "IsArchived": false, "IsAllDayEvent": false,
                 "StartDateTime": "2024-03-04T14:00:00.000+0000",
                 "EndDateTime": "2024-03-04T15:00:00.000+0000", "Location": "Lyon"},
                {"Subject": "Training", "IsAllDayEvent": true, "ActivityDate": "2024-03-05"}
            ]
        })
        .as_object()
        .unwrap()
        .clone()
    }

    fn text(record: &Map<String, Value>) -> String {
        let ctx = TextContext {
            instance_url: "https://acme.my.salesforce.com",
            title: "00001001 Printer jams",
            name_field: None,
        };
        String::from_utf8(render_text("Case", record, &ctx)).unwrap()
    }

    #[test]
    fn a_case_shows_its_emails_tasks_and_events_in_their_order() {
        let out = text(&case_with_story());
        let story = out.split_once("\nEmails:\n").expect("an Emails section").1;
        assert_eq!(
            story,
            "- Printer jams\n\
             \x20 From: Zoë O'Connor <zoe@example.com>\n\
             \x20 To: support@acme.example\n\
             \x20 Date: 2024-03-01 09:00:00 UTC (received)\n\
             \x20 It jams.\n\
             \x20 Again.\n\
             - RE: Printer jams\n\
             \x20 From: support@acme.example\n\
             \x20 To: zoe@example.com\n\
             \x20 Date: 2024-03-01 10:00:00 UTC (sent)\n\
             \x20 Try this & that\n\
             \x20 Regards\n\
             \n\
             Tasks:\n\
             - Call back (Completed, archived)\n\
             \x20 Due: 2023-05-02\n\
             \x20 Priority: High\n\
             \x20 With: Zoë O'Connor\n\
             \x20 Owner: Ann Agent\n\
             \x20 Left a message\tat 9\n\
             \n\
             Events:\n\
             - Visit\n\
             \x20 When: 2024-03-04 14:00:00 UTC to 2024-03-04 15:00:00 UTC\n\
             \x20 Location: Lyon\n\
             - Training\n\
             \x20 When: 2024-03-05 (all day)\n"
        );
    }

    #[test]
    fn empty_children_add_no_section_and_json_keeps_relationship_names() {
        let mut bare = case_with_story();
        for key in ["EmailMessages", "Tasks", "Events"] {
            bare.insert(key.into(), json!([]));
        }
        let out = text(&bare);
        for section in ["Emails:", "Tasks:", "Events:"] {
            assert!(!out.contains(section), "{out}");
        }
        let json = String::from_utf8(render_json(&case_with_story())).unwrap();
        let keys: Vec<&str> = ["\"EmailMessages\"", "\"Tasks\"", "\"Events\""]
            .into_iter()
            .filter(|k| json.contains(k))
            .collect();
        assert_eq!(keys.len(), 3, "{json}");
        assert!(
            json.contains("<b>this</b>"),
            "the JSON keeps the HTML as the org sent it"
        );
    }

    #[test]
    fn only_tasks_or_only_events_still_read_well() {
        let mut only_events = case_with_story();
        only_events.insert("Tasks".into(), json!([]));
        only_events.insert("EmailMessages".into(), json!(null));
        let out = text(&only_events);
        assert!(out.contains("\n\nEvents:\n- Visit\n"), "{out}");
        assert!(!out.contains("Emails:"));
    }
}
