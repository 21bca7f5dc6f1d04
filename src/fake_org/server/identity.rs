//! Who the token runs as: the identity URL the token response names (`id`,
//! `https://host/id/ORGID/USERID`) and the OpenID Connect `GET /services/oauth2/userinfo`.
//! Both answer for the run-as user with the keys a real org sends, so clients that read
//! either (jsforce's `identity()`, the Salesforce CLI's login) work unchanged.
//!
//! Neither counts against the daily API limit: a real org counts REST API requests, and
//! these are OAuth endpoints. Both are counted in `/_fake/stats` as `identity`.

use serde_json::{json, Map, Value};

use super::dispatch::Incoming;
use super::query::read_store;
use super::reply::{ApiError, Reply};
use super::state::{RequestKind, Shared};
use crate::fake_org::store::DEFAULT_API_VERSION;

/// The run-as user's time zone: the org's default (its seeded `TimeZoneSidKey`).
const TIME_ZONE: &str = "America/Los_Angeles";
/// Real orgs report the time zone's standard-time offset from UTC in milliseconds (UTC-8
/// for Los Angeles), whatever the season.
const LOS_ANGELES_UTC_OFFSET_MS: i64 = -8 * 60 * 60 * 1000;

/// The run-as user as both endpoints describe it.
struct RunAsUser {
    org_id: String,
    user_id: String,
    record: Map<String, Value>,
}

impl RunAsUser {
    fn text(&self, field: &str) -> Value {
        self.record.get(field).cloned().unwrap_or(Value::Null)
    }
}

/// The User fields both endpoints show.
const USER_FIELDS: &[&str] = &[
    "Username",
    "Name",
    "Email",
    "FirstName",
    "LastName",
    "LastModifiedDate",
];

/// Checks the method and the token, then reads the run-as user.
fn authorised_user(shared: &Shared, req: &Incoming) -> Result<RunAsUser, ApiError> {
    shared.count(RequestKind::Identity);
    if req.method != "GET" && req.method != "POST" {
        return Err(ApiError::method_not_allowed(&req.method, &["GET", "POST"]));
    }
    if !req.bearer_token().is_some_and(|t| shared.token_is_valid(t)) {
        return Err(ApiError::invalid_session());
    }
    let store = read_store(shared);
    let fields: Vec<String> = USER_FIELDS.iter().map(|f| f.to_string()).collect();
    let user_id = store.integration_user_id().to_string();
    let record = match store.get_record("User", &user_id, Some(&fields), DEFAULT_API_VERSION) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    Ok(RunAsUser {
        org_id: store.org_id().to_string(),
        user_id,
        record,
    })
}

/// The `urls` block both answers carry; `{version}` is left for the client to fill, as a
/// real org does.
fn urls(base: &str, org: &str, user: &str) -> Value {
    let data = format!("{base}/services/data/v{{version}}");
    json!({
        "enterprise": format!("{base}/services/Soap/c/{{version}}/{org}"),
        "metadata": format!("{base}/services/Soap/m/{{version}}/{org}"),
        "partner": format!("{base}/services/Soap/u/{{version}}/{org}"),
        "rest": format!("{data}/"),
        "sobjects": format!("{data}/sobjects/"),
        "search": format!("{data}/search/"),
        "query": format!("{data}/query/"),
        "recent": format!("{data}/recent/"),
        "tooling_soap": format!("{base}/services/Soap/T/{{version}}/{org}"),
        "tooling_rest": format!("{data}/tooling/"),
        "profile": format!("{base}/{user}"),
        "feeds": format!("{data}/chatter/feeds"),
        "groups": format!("{data}/chatter/groups"),
        "users": format!("{data}/chatter/users"),
        "feed_items": format!("{data}/chatter/feed-items"),
        "feed_elements": format!("{data}/chatter/feed-elements"),
        "custom_domain": base,
    })
}

/// Appends the keys both answers end with, in the same order: links, the account's kind
/// and locale, when the user last changed (under each answer's own key), the app flag.
fn with_account_settings(
    mut body: Value,
    base: &str,
    org: &str,
    user: &str,
    (modified_key, modified): (&str, Value),
) -> Value {
    if let Some(map) = body.as_object_mut() {
        map.insert("urls".into(), urls(base, org, user));
        map.insert("active".into(), true.into());
        map.insert("user_type".into(), "STANDARD".into());
        map.insert("language".into(), "en_US".into());
        map.insert("locale".into(), "en_US".into());
        map.insert("utcOffset".into(), LOS_ANGELES_UTC_OFFSET_MS.into());
        map.insert(modified_key.into(), modified);
        map.insert("is_app_installed".into(), true.into());
    }
    body
}

fn photos(base: &str) -> Value {
    json!({
        "picture": format!("{base}/img/userprofile/default_profile_200_v2.png"),
        "thumbnail": format!("{base}/img/userprofile/default_profile_45_v2.png"),
    })
}

/// `GET /id/{org}/{user}`: the identity URL from the token response.
pub(super) fn identity(shared: &Shared, req: &Incoming, org: &str, user: &str) -> Reply {
    let run_as = match authorised_user(shared, req) {
        Ok(run_as) => run_as,
        Err(err) => return err.into_reply(),
    };
    if org != run_as.org_id || user != run_as.user_id {
        return ApiError::not_found().into_reply();
    }
    let base = &shared.base_url;
    let body = json!({
        "id": format!("{base}/id/{org}/{user}"),
        "asserted_user": true,
        "user_id": user,
        "organization_id": org,
        "username": run_as.text("Username"),
        "nick_name": run_as.text("Username"),
        "display_name": run_as.text("Name"),
        "email": run_as.text("Email"),
        "email_verified": true,
        "first_name": run_as.text("FirstName"),
        "last_name": run_as.text("LastName"),
        "timezone": TIME_ZONE,
        "photos": photos(base),
        "addr_street": null,
        "addr_city": null,
        "addr_state": null,
        "addr_country": null,
        "addr_zip": null,
        "mobile_phone": null,
        "mobile_phone_verified": false,
        "is_lightning_login_user": false,
        "status": {"created_date": null, "body": null},
    });
    let modified = ("last_modified_date", run_as.text("LastModifiedDate"));
    Reply::ok(with_account_settings(body, base, org, user, modified))
}

/// `GET /services/oauth2/userinfo`: the OpenID Connect claims for the token's user.
pub(super) fn userinfo(shared: &Shared, req: &Incoming) -> Reply {
    let run_as = match authorised_user(shared, req) {
        Ok(run_as) => run_as,
        Err(err) => return err.into_reply(),
    };
    let base = &shared.base_url;
    let (org, user) = (&run_as.org_id, &run_as.user_id);
    let photos = photos(base);
    let body = json!({
        "sub": format!("{base}/id/{org}/{user}"),
        "user_id": user,
        "organization_id": org,
        "preferred_username": run_as.text("Username"),
        "nickname": run_as.text("Username"),
        "name": run_as.text("Name"),
        "email": run_as.text("Email"),
        "email_verified": true,
        "given_name": run_as.text("FirstName"),
        "family_name": run_as.text("LastName"),
        "zoneinfo": TIME_ZONE,
        "photos": photos,
        "profile": format!("{base}/{user}"),
        "picture": photos["picture"],
        "address": {},
        "is_salesforce_integration_user": false,
    });
    let modified = ("updated_at", run_as.text("LastModifiedDate"));
    Reply::ok(with_account_settings(body, base, org, user, modified))
}
