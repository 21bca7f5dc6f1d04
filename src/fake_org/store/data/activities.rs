//! The rest of each seeded Case's story: more emails (HTML-only ones, and ones with both
//! bodies), tasks and events, some of them archived. Seeded after everything else, so the
//! records seeded before keep the values they always had for a seed.

use super::*;

/// Activities dated before this are archived, as a real org archives closed tasks and past
/// events once they are a year old (the seeded range ends at the end of 2025).
fn archive_before() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .expect("valid date")
}

const TASK_SUBJECTS: &[&str] = &[
    "Call back the customer",
    "Send replacement part / pièce de rechange",
    "Check warranty \"Gold\" status",
    "Follow up: O'Neil & Sons <urgent>",
    "返信する 📧",
];
const TASK_STATUSES: &[&str] = &["Not Started", "In Progress", "Completed", "Deferred"];
const EVENT_SUBJECTS: &[&str] = &[
    "On-site visit",
    "Remote session — screen share",
    "Review with \"Tier 2\"",
    "Réunion de suivi 🗓",
];
const LOCATIONS: &[&str] = &["Paris, 3rd floor", "Zoom", "Building 7/B", "Café «Le Coin»"];

/// HTML the way mail clients send it: a head with styles, entities, block and inline tags.
fn html_body(i: usize, with_style: bool) -> String {
    let head = if with_style {
        "<head><style>p { color: #333; }</style><title>ignored title</title></head>"
    } else {
        ""
    };
    format!(
        "<html>{head}<body><div dir=\"ltr\"><p>Bonjour&nbsp;l&#39;&eacute;quipe,</p>\n\
         <p>The printer on case {i} shows <b>E-42</b> &amp; stops &lt;again&gt;.<br>\
         Merci &#8212; ありがとう</p><!-- a comment the reader never sees --></div></body></html>"
    )
}

impl Seeder<'_> {
    /// A contact the activity is with, for about half of them.
    fn someone(&mut self) -> Option<String> {
        if self.contacts.is_empty() || self.rng.gen_bool(0.5) {
            return None;
        }
        let index = self.rng.gen_range(0..self.contacts.len());
        Some(self.contacts[index].0.clone())
    }
}

pub(super) fn seed_activities(s: &mut Seeder) {
    let cases = s.cases.clone();
    for (i, (case_id, created)) in cases.into_iter().enumerate() {
        for e in 0..s.rng.gen_range(0..=2usize) {
            let at = s.later(created, 15);
            let html_only = (i + e) % 2 == 0;
            let mut fields: Fields = vec![
                ("ParentId", Value::String(case_id.clone())),
                (
                    "Subject",
                    Value::from(format!("RE: [case {i}] «E-42» & the <printer>")),
                ),
                ("FromName", Value::from("Zoë O'Connor")),
                ("FromAddress", Value::from("zoe.oconnor@example.com")),
                ("ToAddress", Value::from("support@fake-org.example")),
                ("CcAddress", Value::from("team+cases@fake-org.example")),
                ("HtmlBody", Value::from(html_body(i, html_only))),
                ("Incoming", Value::Bool(e == 0)),
                ("MessageDate", Value::String(format_datetime(at))),
                ("Status", Value::from(if e == 0 { "0" } else { "3" })),
            ];
            if !html_only {
                fields.push((
                    "TextBody",
                    Value::from(format!(
                        "Bonjour l'équipe,\r\nThe printer on case {i} shows E-42 & stops.\r\nMerci"
                    )),
                ));
            }
            s.add("EmailMessage", at, fields);
        }
        for t in 0..s.rng.gen_range(0..=3usize) {
            let at = s.later(created, 30);
            let status = s.pick(TASK_STATUSES);
            let closed = status == "Completed";
            let due = s.later(at, 14);
            let subject = s.pick(TASK_SUBJECTS).to_string();
            let mut fields: Fields = vec![
                ("WhatId", Value::String(case_id.clone())),
                ("Subject", Value::from(subject)),
                ("Status", Value::from(status)),
                ("Priority", Value::from(s.pick(&["High", "Normal", "Low"]))),
                ("IsClosed", Value::Bool(closed)),
                (
                    "ActivityDate",
                    Value::from(due.format("%Y-%m-%d").to_string()),
                ),
                (
                    "TaskSubtype",
                    Value::from(s.pick(&["Task", "Call", "Email"])),
                ),
                (
                    "Description",
                    Value::from(format!(
                        "Step {t}:\n- ask for the serial\n- note it\tin the log"
                    )),
                ),
                ("IsArchived", Value::Bool(closed && due < archive_before())),
            ];
            if closed {
                fields.push(("CompletedDateTime", Value::String(format_datetime(due))));
            }
            if let Some(who) = s.someone() {
                fields.push(("WhoId", Value::String(who)));
            }
            s.add("Task", at, fields);
        }
        for _ in 0..s.rng.gen_range(0..=2usize) {
            let at = s.later(created, 30);
            let start = s.later(at, 21);
            let minutes = [30i64, 60, 90][s.rng.gen_range(0..3)];
            let end = start + Duration::minutes(minutes);
            let subject = s.pick(EVENT_SUBJECTS).to_string();
            let location = s.pick(LOCATIONS).to_string();
            let who = s.someone().map_or(Value::Null, Value::String);
            s.add(
                "Event",
                at,
                vec![
                    ("WhoId", who),
                    ("WhatId", Value::String(case_id.clone())),
                    ("Subject", Value::from(subject)),
                    ("Location", Value::from(location)),
                    ("StartDateTime", Value::String(format_datetime(start))),
                    ("ActivityDateTime", Value::String(format_datetime(start))),
                    (
                        "ActivityDate",
                        Value::from(start.format("%Y-%m-%d").to_string()),
                    ),
                    ("EndDateTime", Value::String(format_datetime(end))),
                    ("DurationInMinutes", Value::from(minutes)),
                    ("Description", Value::from("Bring the spare drum unit.")),
                    ("IsArchived", Value::Bool(start < archive_before())),
                ],
            );
        }
    }
}
