//! Seeded Cases with their feeds: feed items, comments in time order, the one marked
//! comment tests grep for, and the CaseFeed and FeedItem views of them.

use super::*;

/// Cases, each with its feed items and their comments. Long on purpose: one record's recipe
/// reads top to bottom, and its parts share the running timeline of the Case.
pub(super) fn seed_cases(s: &mut Seeder, n: usize) {
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
