//! The fake org's Task, Event and EmailMessage over HTTP: described as a real org describes
//! them, archived activities returned only by queryAll, and written over REST like any record.

mod fake_org_support;

use fake_org_support::*;
use reqwest::Method;
use serde_json::{json, Value};

async fn query_all(api: &Api, soql: &str) -> Resp {
    send(
        api.http
            .get(api.url("queryAll"))
            .query(&[("q", soql)])
            .bearer_auth(&api.token),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_describes_tasks_and_events_and_they_describe_their_polymorphic_what() {
    let org = small_org();
    let api = login(&org).await;
    let case = api.get("sobjects/Case/describe").await;
    let children: Vec<(String, String, String)> = case.body["childRelationships"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| {
            Some((
                c["relationshipName"].as_str()?.to_string(),
                c["childSObject"].as_str()?.to_string(),
                c["field"].as_str()?.to_string(),
            ))
        })
        .collect();
    for (name, child, field) in [
        ("Tasks", "Task", "WhatId"),
        ("Events", "Event", "WhatId"),
        ("EmailMessages", "EmailMessage", "ParentId"),
    ] {
        let want = (name.to_string(), child.to_string(), field.to_string());
        assert!(children.contains(&want), "Case lacks {want:?}");
    }
    for object in ["Task", "Event"] {
        let describe = api.get(&format!("sobjects/{object}/describe")).await;
        assert_eq!(describe.status, 200);
        let field = |name: &str| {
            describe.body["fields"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["name"] == name)
                .cloned()
                .unwrap_or_else(|| panic!("{object}.{name}"))
        };
        assert_eq!(field("WhatId")["polymorphicForeignKey"], json!(true));
        assert_eq!(field("WhatId")["relationshipName"], "What");
        assert_eq!(field("IsArchived")["updateable"], json!(false));
    }
    let email = api.get("sobjects/EmailMessage/describe").await;
    let names: Vec<&str> = email.body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    for name in ["HtmlBody", "TextBody", "FromName", "CcAddress"] {
        assert!(names.contains(&name), "EmailMessage.{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archived_activities_come_through_query_all_only() {
    let org = small_org();
    let api = login(&org).await;
    for object in ["Task", "Event"] {
        let soql = format!("SELECT Id, IsArchived FROM {object} WHERE IsArchived = true");
        let plain = api.query(&soql).await;
        assert_eq!(plain.status, 200, "{:?}", plain.body);
        assert_eq!(plain.body["totalSize"], 0, "{object} under /query");
        let all = query_all(&api, &soql).await;
        assert_eq!(all.status, 200, "{:?}", all.body);
        assert!(
            all.body["totalSize"].as_u64().unwrap() > 0,
            "{object} under /queryAll"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emails_and_activities_are_created_changed_and_deleted_over_rest() {
    let org = small_org();
    let api = login(&org).await;
    let case = api.query("SELECT Id FROM Case LIMIT 1").await.body["records"][0]["Id"]
        .as_str()
        .unwrap()
        .to_string();
    let subject = "Réunion «urgente» & <b>bold</b> \"quoted\" 📞";
    for (object, body) in [
        (
            "Task",
            json!({"WhatId": case, "Subject": subject, "Status": "In Progress"}),
        ),
        (
            "Event",
            json!({"WhatId": case, "Subject": subject,
                   "StartDateTime": "2025-05-01T09:00:00.000+0000",
                   "EndDateTime": "2025-05-01T09:30:00.000+0000"}),
        ),
        (
            "EmailMessage",
            json!({"ParentId": case, "Subject": subject, "HtmlBody": "<p>hi &amp; bye</p>"}),
        ),
    ] {
        let created = api
            .send_json(Method::POST, &format!("sobjects/{object}"), &body)
            .await;
        assert_eq!(created.status, 201, "{object}: {:?}", created.body);
        let id = created.body["id"].as_str().unwrap().to_string();
        let got = api.get(&format!("sobjects/{object}/{id}")).await;
        assert_eq!(got.body["Subject"], subject, "{object}: awkward text kept");

        let patched = api
            .send_json(
                Method::PATCH,
                &format!("sobjects/{object}/{id}"),
                &json!({"Subject": "changed"}),
            )
            .await;
        assert_eq!(patched.status, 204, "{object}: {:?}", patched.body);
        assert_eq!(
            api.get(&format!("sobjects/{object}/{id}")).await.body["Subject"],
            "changed"
        );

        let deleted = api
            .send_json(
                Method::DELETE,
                &format!("sobjects/{object}/{id}"),
                &Value::Null,
            )
            .await;
        assert_eq!(deleted.status, 204, "{object}: {:?}", deleted.body);
        let soql = format!("SELECT Id, IsDeleted FROM {object} WHERE Id = '{id}'");
        assert_eq!(api.query(&soql).await.body["totalSize"], 0);
        let all = query_all(&api, &soql).await;
        assert_eq!(all.body["records"][0]["IsDeleted"], json!(true), "{object}");
    }
    let refused = api
        .send_json(
            Method::POST,
            "sobjects/Task",
            &json!({"WhatId": case, "Subject": "x", "IsArchived": true}),
        )
        .await;
    assert_eq!(
        refused.status, 400,
        "IsArchived is the platform's: {:?}",
        refused.body
    );
}
