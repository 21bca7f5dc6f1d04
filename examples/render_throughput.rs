//! Rendering throughput: how much slower the JSON and text views and file names are than a
//! plain compact `serde_json::to_vec` of the same records, measured in the same run.
//! Run: `cargo run --release --example render_throughput [RECORDS]` (default 20,000 Cases).

use std::hint::black_box;
use std::time::Instant;

use serde_json::{json, Map, Value};
use sfmount::catalog::{file_name, record_title};
use sfmount::render::{render_json, render_text, TextContext};

fn case(i: usize) -> Map<String, Value> {
    let feeds: Vec<Value> = (0..3)
        .map(|f| {
            json!({"Id": format!("0D5Hs{i:08}{f:05}"), "Type": "TextPost",
                   "Body": format!("Customer update {f} for case {i}.\nSecond line."),
                   "Title": null, "LinkUrl": null, "CreatedDate": "2024-03-01T10:00:00.000+0000",
                   "CreatedBy": {"Name": "Bob Agent"},
                   "FeedComments": [{"Id": "0D7Hs000000001AAA", "CommentBody": "Looking into it",
                                      "CreatedDate": "2024-03-01T11:00:00.000+0000",
                                      "CreatedBy": {"Name": "Carol Tech"}}]})
        })
        .collect();
    json!({
        "attributes": {"type": "Case", "url": format!("/services/data/v62.0/sobjects/Case/500Hs{i:013}")},
        "Id": format!("500Hs{i:013}"), "CaseNumber": format!("{i:08}"),
        "Subject": format!("Engine failure number {i}"),
        "Description": "Engine stops at 3000 rpm after the last service; customer wants a call back.",
        "Status": "Escalated", "IsClosed": false,
        "Owner": {"attributes": {"type": "User", "url": "/u"}, "Name": "Jane Doe", "Email": "jane@acme.example"},
        "CreatedDate": "2024-03-01T09:00:00.000+0000", "LastModifiedDate": "2024-03-02T09:00:00.000+0000",
        "ContentDocumentLinks": [{"ContentDocumentId": "069Hs000000AbCdIAA",
            "ContentDocument": {"Title": "Photo", "FileExtension": "jpg", "ContentSize": 123456, "LatestPublishedVersionId": "068Hs000000AbCdIAA"}}],
        "Feeds": feeds
    })
    .as_object()
    .cloned()
    .unwrap_or_default()
}

fn time<F: FnMut(&Map<String, Value>) -> usize>(
    records: &[Map<String, Value>],
    mut f: F,
) -> (f64, usize) {
    let start = Instant::now();
    let bytes: usize = records.iter().map(|r| black_box(f(r))).sum();
    (start.elapsed().as_secs_f64(), bytes)
}

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let records: Vec<_> = (0..count).map(case).collect();
    let (base, base_bytes) = time(&records, |r| {
        serde_json::to_vec(r).map(|v| v.len()).unwrap_or(0)
    });
    let (json_s, json_bytes) = time(&records, |r| render_json(r).len());
    let (text_s, text_bytes) = time(&records, |r| {
        let title = record_title("Case", r, Some("CaseNumber"));
        let ctx = TextContext {
            instance_url: "https://acme.my.salesforce.com",
            title: &title,
            name_field: Some("CaseNumber"),
        };
        render_text("Case", r, &ctx).len()
    });
    let (name_s, _) = time(&records, |r| {
        let title = record_title("Case", r, Some("CaseNumber"));
        let id = r.get("Id").and_then(Value::as_str).unwrap_or_default();
        file_name(&title, id, "json").len()
    });
    println!("{count} Case records, 3 feed items each");
    println!(
        "baseline serde_json::to_vec : {:>8.1} ms ({base_bytes} bytes)",
        base * 1e3
    );
    println!(
        "render_json                 : {:>8.1} ms ({json_bytes} bytes)  ratio {:.2}x",
        json_s * 1e3,
        json_s / base
    );
    println!(
        "render_text                 : {:>8.1} ms ({text_bytes} bytes)  ratio {:.2}x",
        text_s * 1e3,
        text_s / base
    );
    println!(
        "record_title + file_name    : {:>8.1} ms  ratio {:.2}x",
        name_s * 1e3,
        name_s / base
    );
    println!(
        "render_text per record      : {:>8.2} us",
        text_s * 1e6 / count as f64
    );
}
