//! Settings: TOML file, then environment, then flags; validated before mounting.
//!
//! The file uses the keys of the connector this project follows (`domain`, `client_id`,
//! `client_secret`, `interval`, `standard_objects_to_sync`, `sync_custom_objects`,
//! `custom_objects_to_sync`), plus sfmount's own `login_url`, `format` and
//! `request_timeout`. Later sources win key by key: file < environment < flags.
//!
//! Choices where the connector's behaviour was unclear or a bug:
//! - An explicit empty `standard_objects_to_sync` means "no standard objects" (the connector
//!   read it as "all", which makes it impossible to mount custom objects alone).
//! - `"*"` is only meaningful for custom objects; in the standard list it is an error rather
//!   than silently matching nothing.
//! - `--custom-objects` on the command line turns custom-object syncing on unless
//!   `--sync-custom-objects false` is also given: naming objects on the command line is intent.
//! - Unknown keys in the file are errors, so a misspelt key is not silently ignored.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::cli::{ConnectionArgs, FormatArg, MountArgs};
use crate::secret::Secret;

/// A commented settings file showing every key, for README and `--help` texts.
pub const EXAMPLE_SETTINGS: &str = r#"# sfmount settings (TOML). Environment variables and flags override these keys.
domain = "mycompany"                 # My Domain: mycompany, mycompany.my.salesforce.com, mycompany--dev.sandbox
# login_url = "http://127.0.0.1:8080"  # instead of domain: a login host URL (e.g. a fake org)
client_id = "3MVG9...consumer-key"   # the Connected App's Consumer Key
client_secret = "consumer-secret"    # or SFMOUNT_CLIENT_SECRET / --client-secret-file
interval = "30s"                     # refresh interval: 30s, 5m, 1h30m, or seconds as a number
standard_objects_to_sync = ["Account", "Opportunity", "Contact", "Lead", "Campaign", "Case"]
sync_custom_objects = true
custom_objects_to_sync = "*"         # or a list: ["Invoice__c", "Project__c"]
format = "json"                      # json, text or both
request_timeout = "30s"              # deadline of each API request
refresh_stop_at_api_percent = 80     # background refresh stops once this % of the daily API limit is used
formula_refresh_interval = "24h"     # objects with formula fields are re-read whole this often
"#;

/// The connector's default standard objects, in the order the connector processes them.
pub const DEFAULT_STANDARD_OBJECTS: [&str; 6] = [
    "Account",
    "Opportunity",
    "Contact",
    "Lead",
    "Campaign",
    "Case",
];

/// The connector's documented default refresh interval.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);

/// Shortest refresh interval accepted. Every refresh costs API calls from the org's daily
/// allowance shared with other integrations; polling faster than this buys little freshness
/// and can exhaust the allowance within hours.
pub const MIN_INTERVAL: Duration = Duration::from_secs(5);

/// Background refresh stops once this share of the org's daily API limit is used, leaving
/// the rest to the org's other integrations.
pub const DEFAULT_REFRESH_STOP_AT_API_PERCENT: u8 = 80;

/// Formula values change without moving SystemModstamp, so objects with formula fields are
/// re-read whole on this slower schedule (a full listing's calls, once a day).
pub const DEFAULT_FORMULA_REFRESH_INTERVAL: Duration = Duration::from_secs(24 * 60 * 60);

/// Per-request deadline when none is configured: the connector's own 30 s, long enough for a
/// 2,000-row query page of a wide object on a slow org.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Environment variable names (read through the `env` function given to `resolve`).
pub const ENV_DOMAIN: &str = "SFMOUNT_DOMAIN";
pub const ENV_CLIENT_ID: &str = "SFMOUNT_CLIENT_ID";
pub const ENV_CLIENT_SECRET: &str = "SFMOUNT_CLIENT_SECRET";

/// What each record file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// The record as Salesforce returns it, pretty-printed (`.json`).
    #[default]
    Json,
    /// The content-extraction view for people and grep (`.txt`).
    Text,
    /// Both files for every record.
    Both,
}

impl Format {
    /// The file extensions (without the dot) one record produces, JSON first.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Format::Json => &["json"],
            Format::Text => &["txt"],
            Format::Both => &["json", "txt"],
        }
    }

    fn parse(text: &str) -> Result<Format, ConfigError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(Format::Json),
            "text" | "txt" => Ok(Format::Text),
            "both" => Ok(Format::Both),
            _ => Err(ConfigError::BadFormat(text.to_string())),
        }
    }
}

impl From<FormatArg> for Format {
    fn from(arg: FormatArg) -> Self {
        match arg {
            FormatArg::Json => Format::Json,
            FormatArg::Text => Format::Text,
            FormatArg::Both => Format::Both,
        }
    }
}

/// Which custom objects to mount (when `sync_custom_objects` is on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomObjects {
    /// `"*"`: every queryable object whose name ends in `__c`.
    All,
    /// Exactly these (validated against the org by `catalog::select_objects`).
    Names(Vec<String>),
}

impl Default for CustomObjects {
    fn default() -> Self {
        CustomObjects::Names(Vec::new())
    }
}

impl CustomObjects {
    /// A list containing `*` means every custom object, whatever else it names.
    fn from_list(names: Vec<String>) -> CustomObjects {
        let names: Vec<String> = names
            .into_iter()
            .map(|name| name.trim().to_string())
            .filter(|name| !name.is_empty())
            .collect();
        if names.iter().any(|name| name == "*") {
            CustomObjects::All
        } else {
            CustomObjects::Names(names)
        }
    }
}

/// Where to authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    /// My Domain: `mycompany`, `mycompany.my.salesforce.com` or `mycompany--dev.sandbox`.
    Domain(String),
    /// Base URL of the login host (e.g. a fake org on loopback): `http(s)://host[:port]`.
    Url(String),
}

/// Everything sfmount needs to know before connecting. `Debug` never shows the secret.
#[derive(Debug, Clone)]
pub struct Settings {
    pub login: Login,
    pub client_id: String,
    pub client_secret: Secret,
    /// Background refresh interval.
    pub interval: Duration,
    /// Standard objects to mount, as written by the user (validated by the catalog).
    pub standard_objects: Vec<String>,
    pub sync_custom_objects: bool,
    pub custom_objects: CustomObjects,
    pub format: Format,
    /// Deadline for each API request.
    pub request_timeout: Duration,
    /// Background refresh stops once this percentage of the daily API limit is used.
    pub refresh_stop_at_api_percent: u8,
    /// How often objects with formula fields are re-read whole.
    pub formula_refresh_interval: Duration,
}

/// A settings problem, worded for the person who has to fix it. Never holds a secret.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read settings file {}: {source}", path.display())]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("settings file {}: {message}", path.display())]
    ParseFile { path: PathBuf, message: String },
    #[error("no Salesforce login: set `domain` in the settings file, SFMOUNT_DOMAIN, --domain or --login-url")]
    MissingLogin,
    #[error("settings file {}: set either `domain` or `login_url`, not both", path.display())]
    DomainAndLoginUrl { path: PathBuf },
    #[error("bad domain {domain:?}: {reason} (expected e.g. `mycompany`, `mycompany.my.salesforce.com` or `mycompany--dev.sandbox`)")]
    BadDomain { domain: String, reason: String },
    #[error("bad login URL {url:?}: {reason} (expected e.g. `https://login.example.com` or `http://127.0.0.1:8080`)")]
    BadLoginUrl { url: String, reason: String },
    #[error("no client id: set `client_id` in the settings file, SFMOUNT_CLIENT_ID or --client-id (the Connected App's Consumer Key)")]
    MissingClientId,
    #[error("no client secret: set `client_secret` in the settings file, SFMOUNT_CLIENT_SECRET or --client-secret-file (the Connected App's Consumer Secret)")]
    MissingSecret,
    #[error("cannot read client secret file {}: {source}", path.display())]
    ReadSecretFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("client secret file {} is empty: write the Connected App's Consumer Secret in it", path.display())]
    EmptySecretFile { path: PathBuf },
    #[error("bad duration {text:?}: {reason} (expected e.g. `30s`, `5m`, `1h30m` or a number of seconds)")]
    BadDuration { text: String, reason: String },
    #[error("interval {text:?} is too short: the minimum is {}s, because each refresh spends API calls from the org's daily limit", MIN_INTERVAL.as_secs())]
    IntervalTooShort { text: String },
    #[error("refresh_stop_at_api_percent = {0}: expected a whole percentage from 1 to 100 (80 leaves a fifth of the daily API limit to other integrations)")]
    BadApiPercent(i64),
    #[error("request timeout must be more than zero seconds")]
    ZeroRequestTimeout,
    #[error("bad format {0:?}: expected `json`, `text` or `both`")]
    BadFormat(String),
    #[error("`*` is not allowed in the standard object list; it means \"every custom object\" and belongs in custom_objects_to_sync / --custom-objects")]
    WildcardInStandardObjects,
}

/// The settings file as written by the user; every key optional so that the environment and
/// flags can supply the rest.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    domain: Option<String>,
    login_url: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    interval: Option<DurationValue>,
    standard_objects_to_sync: Option<NameList>,
    sync_custom_objects: Option<bool>,
    custom_objects_to_sync: Option<NameList>,
    format: Option<String>,
    request_timeout: Option<DurationValue>,
    refresh_stop_at_api_percent: Option<i64>,
    formula_refresh_interval: Option<DurationValue>,
}

/// `interval = "30s"` or `interval = 30` (seconds).
#[derive(Debug, Deserialize)]
#[serde(try_from = "toml::Value")]
enum DurationValue {
    Seconds(i64),
    Text(String),
}

impl TryFrom<toml::Value> for DurationValue {
    type Error = String;

    fn try_from(value: toml::Value) -> Result<Self, String> {
        match value {
            toml::Value::Integer(secs) => Ok(DurationValue::Seconds(secs)),
            toml::Value::String(text) => Ok(DurationValue::Text(text)),
            other => Err(format!(
                "a duration is a string such as \"30s\" or \"5m\", or a whole number of seconds, not a {}",
                other.type_str()
            )),
        }
    }
}

impl DurationValue {
    fn to_duration(&self) -> Result<Duration, ConfigError> {
        match self {
            DurationValue::Seconds(secs) => {
                u64::try_from(*secs).map(Duration::from_secs).map_err(|_| {
                    ConfigError::BadDuration {
                        text: secs.to_string(),
                        reason: "a duration cannot be negative".into(),
                    }
                })
            }
            DurationValue::Text(text) => parse_duration(text),
        }
    }

    fn text(&self) -> String {
        match self {
            DurationValue::Seconds(secs) => secs.to_string(),
            DurationValue::Text(text) => text.clone(),
        }
    }
}

/// An object list: `["Invoice__c", ...]`, or one string: `"*"` or comma-separated names
/// (`"Account, Case"`, as the command-line flags take them).
#[derive(Debug, Deserialize)]
#[serde(try_from = "toml::Value")]
enum NameList {
    One(String),
    Many(Vec<String>),
}

impl TryFrom<toml::Value> for NameList {
    type Error = String;

    fn try_from(value: toml::Value) -> Result<Self, String> {
        let expected = "expected a list of object names such as [\"Account\", \"Case\"], \
                        names separated by commas in one string, or \"*\" (custom objects only)";
        match value {
            toml::Value::String(name) => Ok(NameList::One(name)),
            toml::Value::Array(items) => items
                .into_iter()
                .map(|item| match item {
                    toml::Value::String(name) => Ok(name),
                    other => Err(format!(
                        "{expected}, found a {} in the list",
                        other.type_str()
                    )),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(NameList::Many),
            other => Err(format!("{expected}, not a {}", other.type_str())),
        }
    }
}

impl NameList {
    fn into_vec(self) -> Vec<String> {
        match self {
            NameList::One(names) => names.split(',').map(str::to_string).collect(),
            NameList::Many(names) => names,
        }
    }
}

impl Settings {
    /// Settings with every default, for a login and credentials (used by `demo` and tests).
    pub fn new(login: Login, client_id: impl Into<String>, client_secret: Secret) -> Settings {
        Settings {
            login,
            client_id: client_id.into(),
            client_secret,
            interval: DEFAULT_INTERVAL,
            standard_objects: DEFAULT_STANDARD_OBJECTS
                .iter()
                .map(|name| name.to_string())
                .collect(),
            sync_custom_objects: false,
            custom_objects: CustomObjects::default(),
            format: Format::Json,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            refresh_stop_at_api_percent: DEFAULT_REFRESH_STOP_AT_API_PERCENT,
            formula_refresh_interval: DEFAULT_FORMULA_REFRESH_INTERVAL,
        }
    }

    /// File (TOML, the connector's keys: domain, client_id, client_secret, interval ("30s",
    /// "5m", or seconds as a number), standard_objects_to_sync, sync_custom_objects,
    /// custom_objects_to_sync (names or "*")), then environment (SFMOUNT_DOMAIN,
    /// SFMOUNT_CLIENT_ID, SFMOUNT_CLIENT_SECRET, read through `env` so tests need not touch
    /// the process environment), then flags. Everything is validated here, before mounting.
    pub fn resolve(
        connection: &ConnectionArgs,
        mount: Option<&MountArgs>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Settings, ConfigError> {
        let file = match &connection.config {
            Some(path) => read_settings_file(path)?,
            None => FileSettings::default(),
        };

        // Login: each layer replaces the previous one entirely.
        let mut login = match (&file.domain, &file.login_url) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::DomainAndLoginUrl {
                    path: connection.config.clone().unwrap_or_default(),
                })
            }
            (Some(domain), None) => Some(Login::Domain(domain.clone())),
            (None, Some(url)) => Some(Login::Url(url.clone())),
            (None, None) => None,
        };
        if let Some(domain) = non_empty(env(ENV_DOMAIN)) {
            login = Some(Login::Domain(domain));
        }
        if let Some(domain) = &connection.domain {
            login = Some(Login::Domain(domain.clone()));
        }
        if let Some(url) = &connection.login_url {
            login = Some(Login::Url(url.clone()));
        }
        let login = match login {
            Some(Login::Domain(domain)) => Login::Domain(validate_domain(&domain)?),
            Some(Login::Url(url)) => Login::Url(validate_login_url(&url)?),
            None => return Err(ConfigError::MissingLogin),
        };

        let client_id = non_empty(connection.client_id.clone())
            .or_else(|| non_empty(env(ENV_CLIENT_ID)))
            .or_else(|| non_empty(file.client_id.clone()))
            .ok_or(ConfigError::MissingClientId)?;

        let client_secret = match &connection.client_secret_file {
            Some(path) => Some(read_secret_file(path)?),
            None => None,
        }
        .or_else(|| non_empty(env(ENV_CLIENT_SECRET)))
        .or_else(|| non_empty(file.client_secret.clone()))
        .map(Secret::new)
        .ok_or(ConfigError::MissingSecret)?;

        let interval_value = match mount.and_then(|m| m.interval.as_ref()) {
            Some(text) => Some(DurationValue::Text(text.clone())),
            None => file.interval,
        };
        let interval = match interval_value {
            Some(value) => check_interval(value.to_duration()?, &value.text())?,
            None => DEFAULT_INTERVAL,
        };

        let request_timeout = match connection.request_timeout {
            Some(secs) => Duration::from_secs(secs),
            None => match &file.request_timeout {
                Some(value) => value.to_duration()?,
                None => DEFAULT_REQUEST_TIMEOUT,
            },
        };
        if request_timeout.is_zero() {
            return Err(ConfigError::ZeroRequestTimeout);
        }

        let standard_objects = match mount.and_then(|m| m.standard_objects.clone()) {
            Some(names) => names,
            None => match file.standard_objects_to_sync {
                Some(names) => names.into_vec(),
                None => DEFAULT_STANDARD_OBJECTS
                    .iter()
                    .map(|name| name.to_string())
                    .collect(),
            },
        };
        let standard_objects: Vec<String> = standard_objects
            .into_iter()
            .map(|name| name.trim().to_string())
            .filter(|name| !name.is_empty())
            .collect();
        if standard_objects.iter().any(|name| name == "*") {
            return Err(ConfigError::WildcardInStandardObjects);
        }

        let flag_custom = mount.and_then(|m| m.custom_objects.clone());
        let flag_sync = mount.and_then(|m| m.sync_custom_objects);
        let sync_custom_objects = match (flag_sync, &flag_custom) {
            (Some(sync), _) => sync,
            (None, Some(_)) => true,
            (None, None) => file.sync_custom_objects.unwrap_or(false),
        };
        let custom_objects = match flag_custom {
            Some(names) => CustomObjects::from_list(names),
            None => file
                .custom_objects_to_sync
                .map(|list| CustomObjects::from_list(list.into_vec()))
                .unwrap_or_default(),
        };

        let format = match mount.and_then(|m| m.format) {
            Some(arg) => arg.into(),
            None => match &file.format {
                Some(text) => Format::parse(text)?,
                None => Format::Json,
            },
        };

        let refresh_stop_at_api_percent = match file.refresh_stop_at_api_percent {
            None => DEFAULT_REFRESH_STOP_AT_API_PERCENT,
            Some(percent) => u8::try_from(percent)
                .ok()
                .filter(|p| (1..=100).contains(p))
                .ok_or(ConfigError::BadApiPercent(percent))?,
        };
        let formula_refresh_interval = match &file.formula_refresh_interval {
            Some(value) => {
                let interval = value.to_duration()?;
                if interval < MIN_INTERVAL {
                    return Err(ConfigError::IntervalTooShort { text: value.text() });
                }
                interval
            }
            None => DEFAULT_FORMULA_REFRESH_INTERVAL,
        };

        Ok(Settings {
            login,
            client_id,
            client_secret,
            interval,
            standard_objects,
            sync_custom_objects,
            custom_objects,
            format,
            request_timeout,
            refresh_stop_at_api_percent,
            formula_refresh_interval,
        })
    }
}

impl Settings {
    /// What the REST client needs from these settings (other client knobs at their defaults).
    pub fn client_settings(&self) -> crate::salesforce::ClientSettings {
        let login = match &self.login {
            Login::Domain(domain) => crate::salesforce::LoginTarget::Domain(domain.clone()),
            Login::Url(url) => crate::salesforce::LoginTarget::Url(url.clone()),
        };
        let mut client = crate::salesforce::ClientSettings::new(
            login,
            &self.client_id,
            self.client_secret.clone(),
        );
        client.request_timeout = self.request_timeout;
        client
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn read_settings_file(path: &Path) -> Result<FileSettings, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadFile {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|error| ConfigError::ParseFile {
        path: path.to_path_buf(),
        message: describe_toml_error(&text, &error),
    })
}

/// toml's own Display quotes the offending source line, which may be the `client_secret`
/// line; report only the message and the line number so a secret never reaches a terminal.
fn describe_toml_error(text: &str, error: &toml::de::Error) -> String {
    let message = error.message().trim().to_string();
    match error.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}: {message}")
        }
        None => message,
    }
}

/// The secret is the file's content without the trailing newline editors add. An empty file
/// is an error of its own: the user did name a secret, so "no client secret" would mislead.
fn read_secret_file(path: &Path) -> Result<String, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadSecretFile {
        path: path.to_path_buf(),
        source,
    })?;
    non_empty(Some(text)).ok_or_else(|| ConfigError::EmptySecretFile {
        path: path.to_path_buf(),
    })
}

/// Accepts the My Domain forms the client understands; a pasted `https://` prefix or trailing
/// slash is forgiven because browsers show the domain that way.
fn validate_domain(domain: &str) -> Result<String, ConfigError> {
    let bad = |reason: &str| ConfigError::BadDomain {
        domain: domain.to_string(),
        reason: reason.to_string(),
    };
    let trimmed = domain.trim();
    let trimmed = trimmed
        .strip_prefix("https://")
        .unwrap_or(trimmed)
        .trim_end_matches('/');
    if trimmed.is_empty() {
        return Err(bad("it is empty"));
    }
    if trimmed.starts_with("http://") {
        return Err(bad(
            "Salesforce domains are HTTPS only; use --login-url for a plain-HTTP test server",
        ));
    }
    if let Some(c) = trimmed
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '.'))
    {
        return Err(bad(&format!(
            "it contains {c:?}; only letters, digits, '-' and '.' are allowed"
        )));
    }
    if trimmed.starts_with('.') || trimmed.ends_with('.') || trimmed.contains("..") {
        return Err(bad("it has an empty label between dots"));
    }
    Ok(trimmed.to_string())
}

fn validate_login_url(text: &str) -> Result<String, ConfigError> {
    let bad = |reason: String| ConfigError::BadLoginUrl {
        url: text.to_string(),
        reason,
    };
    let trimmed = text.trim();
    let url = url::Url::parse(trimmed).map_err(|e| bad(e.to_string()))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(bad(format!(
            "scheme {:?} is not http or https",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("it has no host".into()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("credentials do not belong in the URL".into()));
    }
    Ok(trimmed.trim_end_matches('/').to_string())
}

/// A refresh interval as written by the user (`30s`, `5m`, or seconds), at least
/// [`MIN_INTERVAL`]: what `--interval` of `mount` and `demo` accept.
pub fn parse_interval(text: &str) -> Result<Duration, ConfigError> {
    check_interval(parse_duration(text)?, text)
}

fn check_interval(interval: Duration, text: &str) -> Result<Duration, ConfigError> {
    if interval < MIN_INTERVAL {
        return Err(ConfigError::IntervalTooShort {
            text: text.to_string(),
        });
    }
    Ok(interval)
}

/// Parses `30s`, `5m`, `1h30m`, `500ms`, `2d`, or a bare number of seconds (`45`).
/// Units: ms, s, m, h, d. Whole numbers only, so `1.5m` is rejected (write `90s`).
pub fn parse_duration(text: &str) -> Result<Duration, ConfigError> {
    let bad = |reason: &str| ConfigError::BadDuration {
        text: text.to_string(),
        reason: reason.to_string(),
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(bad("it is empty"));
    }
    if trimmed.starts_with('-') {
        return Err(bad("a duration cannot be negative"));
    }
    if trimmed.bytes().all(|b| b.is_ascii_digit()) {
        let secs: u64 = trimmed
            .parse()
            .map_err(|_| bad("the number is too large"))?;
        return Ok(Duration::from_secs(secs));
    }

    let mut total = Duration::ZERO;
    let mut rest = trimmed;
    while !rest.is_empty() {
        let digits_end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits_end == 0 {
            return Err(bad("each part must start with a whole number, e.g. `30s`"));
        }
        let number: u64 = rest[..digits_end]
            .parse()
            .map_err(|_| bad("the number is too large"))?;
        rest = &rest[digits_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = rest[..unit_end].trim();
        rest = &rest[unit_end..];
        let millis_per_unit: u64 = match unit {
            "ms" => 1,
            "s" | "sec" | "secs" => 1_000,
            "m" | "min" | "mins" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "" => {
                return Err(bad(
                    "a number inside a duration needs a unit (ms, s, m, h, d)",
                ))
            }
            _ => return Err(bad("unknown unit; use ms, s, m, h or d")),
        };
        let part = number
            .checked_mul(millis_per_unit)
            .ok_or_else(|| bad("it is too long"))?;
        total = total
            .checked_add(Duration::from_millis(part))
            .ok_or_else(|| bad("it is too long"))?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::io::Write;

    fn mount_args() -> MountArgs {
        MountArgs {
            mountpoint: PathBuf::from("/mnt/sf"),
            connection: ConnectionArgs::default(),
            interval: None,
            standard_objects: None,
            sync_custom_objects: None,
            custom_objects: None,
            format: None,
        }
    }

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |key| map.get(key).cloned()
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn settings_file(text: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        file
    }

    fn with_file(file: &tempfile::NamedTempFile) -> ConnectionArgs {
        ConnectionArgs {
            config: Some(file.path().to_path_buf()),
            ..ConnectionArgs::default()
        }
    }

    const FULL_FILE: &str = r#"
domain = "filecorp"
client_id = "file-id"
client_secret = "file-secret"
interval = "5m"
standard_objects_to_sync = ["Account", "Case"]
sync_custom_objects = true
custom_objects_to_sync = ["Invoice__c"]
format = "text"
request_timeout = 10
"#;

    #[test]
    fn file_alone_gives_every_key() {
        let file = settings_file(FULL_FILE);
        let s = Settings::resolve(&with_file(&file), None, &no_env).unwrap();
        assert_eq!(s.login, Login::Domain("filecorp".into()));
        assert_eq!(s.client_id, "file-id");
        assert_eq!(s.client_secret.expose(), "file-secret");
        assert_eq!(s.interval, Duration::from_secs(300));
        assert_eq!(s.standard_objects, vec!["Account", "Case"]);
        assert!(s.sync_custom_objects);
        assert_eq!(
            s.custom_objects,
            CustomObjects::Names(vec!["Invoice__c".into()])
        );
        assert_eq!(s.format, Format::Text);
        assert_eq!(s.request_timeout, Duration::from_secs(10));
    }

    #[test]
    fn environment_overrides_file_and_flags_override_environment() {
        let file = settings_file(FULL_FILE);
        let env = env_of(&[
            (ENV_DOMAIN, "envcorp"),
            (ENV_CLIENT_ID, "env-id"),
            (ENV_CLIENT_SECRET, "env-secret"),
        ]);
        let s = Settings::resolve(&with_file(&file), None, &env).unwrap();
        assert_eq!(s.login, Login::Domain("envcorp".into()));
        assert_eq!(s.client_id, "env-id");
        assert_eq!(s.client_secret.expose(), "env-secret");

        let mut secret_file = tempfile::NamedTempFile::new().unwrap();
        secret_file.write_all(b"flag-secret\n").unwrap();
        let mut mount = mount_args();
        mount.connection = ConnectionArgs {
            config: Some(file.path().to_path_buf()),
            domain: Some("flagcorp.my.salesforce.com".into()),
            login_url: None,
            client_id: Some("flag-id".into()),
            client_secret_file: Some(secret_file.path().to_path_buf()),
            request_timeout: Some(7),
        };
        mount.interval = Some("45s".into());
        mount.standard_objects = Some(vec!["Lead".into()]);
        mount.custom_objects = Some(vec!["*".into()]);
        mount.format = Some(FormatArg::Both);
        let s = Settings::resolve(&mount.connection, Some(&mount), &env).unwrap();
        assert_eq!(s.login, Login::Domain("flagcorp.my.salesforce.com".into()));
        assert_eq!(s.client_id, "flag-id");
        assert_eq!(
            s.client_secret.expose(),
            "flag-secret",
            "trailing newline dropped"
        );
        assert_eq!(s.interval, Duration::from_secs(45));
        assert_eq!(s.standard_objects, vec!["Lead"]);
        assert_eq!(s.custom_objects, CustomObjects::All);
        assert_eq!(s.format, Format::Both);
        assert_eq!(s.request_timeout, Duration::from_secs(7));
    }

    #[test]
    fn login_url_flag_replaces_a_domain_from_any_layer() {
        let file = settings_file(FULL_FILE);
        let mut connection = with_file(&file);
        connection.login_url = Some("http://127.0.0.1:8080/".into());
        let env = env_of(&[(ENV_DOMAIN, "envcorp")]);
        let s = Settings::resolve(&connection, None, &env).unwrap();
        assert_eq!(s.login, Login::Url("http://127.0.0.1:8080".into()));
    }

    #[test]
    fn defaults_when_only_credentials_are_given() {
        let env = env_of(&[
            (ENV_DOMAIN, "acme"),
            (ENV_CLIENT_ID, "id"),
            (ENV_CLIENT_SECRET, "secret"),
        ]);
        let s = Settings::resolve(&ConnectionArgs::default(), Some(&mount_args()), &env).unwrap();
        assert_eq!(s.interval, DEFAULT_INTERVAL);
        assert_eq!(s.standard_objects, DEFAULT_STANDARD_OBJECTS.to_vec());
        assert!(!s.sync_custom_objects);
        assert_eq!(s.custom_objects, CustomObjects::Names(vec![]));
        assert_eq!(s.format, Format::Json);
        assert_eq!(s.request_timeout, DEFAULT_REQUEST_TIMEOUT);
    }

    #[test]
    fn custom_objects_flag_turns_syncing_on_unless_told_otherwise() {
        let env = env_of(&[
            (ENV_DOMAIN, "acme"),
            (ENV_CLIENT_ID, "id"),
            (ENV_CLIENT_SECRET, "secret"),
        ]);
        let mut mount = mount_args();
        mount.custom_objects = Some(vec!["Invoice__c".into()]);
        let s = Settings::resolve(&mount.connection, Some(&mount), &env).unwrap();
        assert!(s.sync_custom_objects);
        mount.sync_custom_objects = Some(false);
        let s = Settings::resolve(&mount.connection, Some(&mount), &env).unwrap();
        assert!(!s.sync_custom_objects);
    }

    #[test]
    fn star_as_a_string_or_in_a_list_means_every_custom_object() {
        for value in [r#""*""#, r#"["*"]"#, r#"["Invoice__c", "*"]"#] {
            let file = settings_file(&format!(
                "domain = \"a\"\nclient_id = \"i\"\nclient_secret = \"s\"\ncustom_objects_to_sync = {value}\n"
            ));
            let s = Settings::resolve(&with_file(&file), None, &no_env).unwrap();
            assert_eq!(s.custom_objects, CustomObjects::All, "{value}");
        }
    }

    #[test]
    fn object_lists_may_be_one_comma_separated_string() {
        let file = settings_file(
            "domain = \"a\"\nclient_id = \"i\"\nclient_secret = \"s\"\n\
             standard_objects_to_sync = \"Account, Case\"\n\
             custom_objects_to_sync = \"Invoice__c,Project__c\"\n",
        );
        let s = Settings::resolve(&with_file(&file), None, &no_env).unwrap();
        assert_eq!(s.standard_objects, vec!["Account", "Case"]);
        assert_eq!(
            s.custom_objects,
            CustomObjects::Names(vec!["Invoice__c".into(), "Project__c".into()])
        );
        let file = settings_file(
            "domain = \"a\"\nclient_id = \"i\"\nclient_secret = \"s\"\nstandard_objects_to_sync = \"\"\n",
        );
        let s = Settings::resolve(&with_file(&file), None, &no_env).unwrap();
        assert!(
            s.standard_objects.is_empty(),
            "an empty string is no object"
        );
    }

    #[test]
    fn empty_standard_list_means_none_and_star_there_is_an_error() {
        let file = settings_file(
            "domain = \"a\"\nclient_id = \"i\"\nclient_secret = \"s\"\nstandard_objects_to_sync = []\n",
        );
        let s = Settings::resolve(&with_file(&file), None, &no_env).unwrap();
        assert!(s.standard_objects.is_empty());

        let file = settings_file(
            "domain = \"a\"\nclient_id = \"i\"\nclient_secret = \"s\"\nstandard_objects_to_sync = [\"*\"]\n",
        );
        let err = Settings::resolve(&with_file(&file), None, &no_env).unwrap_err();
        assert!(
            matches!(err, ConfigError::WildcardInStandardObjects),
            "{err}"
        );
    }

    #[test]
    fn missing_pieces_each_have_their_own_error() {
        let err = Settings::resolve(&ConnectionArgs::default(), None, &no_env).unwrap_err();
        assert!(matches!(err, ConfigError::MissingLogin));
        assert!(err.to_string().contains("SFMOUNT_DOMAIN"));

        let env = env_of(&[(ENV_DOMAIN, "acme")]);
        let err = Settings::resolve(&ConnectionArgs::default(), None, &env).unwrap_err();
        assert!(matches!(err, ConfigError::MissingClientId));

        let env = env_of(&[
            (ENV_DOMAIN, "acme"),
            (ENV_CLIENT_ID, "id"),
            (ENV_CLIENT_SECRET, "  "),
        ]);
        let err = Settings::resolve(&ConnectionArgs::default(), None, &env).unwrap_err();
        assert!(
            matches!(err, ConfigError::MissingSecret),
            "blank secret counts as missing"
        );
        assert!(err.to_string().contains("SFMOUNT_CLIENT_SECRET"));
    }

    #[test]
    fn unreadable_secret_file_is_named_in_the_error() {
        let env = env_of(&[(ENV_DOMAIN, "acme"), (ENV_CLIENT_ID, "id")]);
        let connection = ConnectionArgs {
            client_secret_file: Some(PathBuf::from("/nonexistent/secret.txt")),
            ..ConnectionArgs::default()
        };
        let err = Settings::resolve(&connection, None, &env).unwrap_err();
        assert!(matches!(err, ConfigError::ReadSecretFile { .. }));
        assert!(err.to_string().contains("/nonexistent/secret.txt"));
    }

    #[test]
    fn an_empty_secret_file_is_named_in_the_error() {
        let env = env_of(&[
            (ENV_DOMAIN, "acme"),
            (ENV_CLIENT_ID, "id"),
            (ENV_CLIENT_SECRET, "from-env"),
        ]);
        let file = settings_file(" \n");
        let connection = ConnectionArgs {
            client_secret_file: Some(file.path().to_path_buf()),
            ..ConnectionArgs::default()
        };
        let err = Settings::resolve(&connection, None, &env).unwrap_err();
        assert!(matches!(err, ConfigError::EmptySecretFile { .. }), "{err}");
        assert!(
            err.to_string().contains(&file.path().display().to_string()),
            "{err}"
        );
    }

    #[test]
    fn bad_file_errors_never_quote_the_secret() {
        // A type error on the secret's line: toml's Display would quote that line.
        let text = "domain = \"a\"\nclient_secret = [\"s3cr3t-value\"]\n";
        let raw = toml::from_str::<FileSettings>(text)
            .unwrap_err()
            .to_string();
        assert!(
            raw.contains("s3cr3t-value"),
            "premise: toml quotes the line: {raw}"
        );
        let file = settings_file(text);
        let err = Settings::resolve(&with_file(&file), None, &no_env).unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(matches!(err, ConfigError::ParseFile { .. }), "{text}");
        assert!(!text.contains("s3cr3t-value"), "{text}");
        assert!(text.contains("line 2"), "{text}");
    }

    #[test]
    fn unknown_keys_and_both_logins_are_rejected() {
        let file = settings_file("domian = \"a\"\n");
        let err = Settings::resolve(&with_file(&file), None, &no_env).unwrap_err();
        assert!(err.to_string().contains("domian"), "{err}");

        let file = settings_file("domain = \"a\"\nlogin_url = \"http://127.0.0.1:1\"\n");
        let err = Settings::resolve(&with_file(&file), None, &no_env).unwrap_err();
        assert!(
            matches!(err, ConfigError::DomainAndLoginUrl { .. }),
            "{err}"
        );

        let err = Settings::resolve(
            &ConnectionArgs {
                config: Some(PathBuf::from("/nonexistent/sfmount.toml")),
                ..ConnectionArgs::default()
            },
            None,
            &no_env,
        )
        .unwrap_err();
        assert!(matches!(err, ConfigError::ReadFile { .. }), "{err}");
    }

    #[test]
    fn domains_and_login_urls_are_validated() {
        assert_eq!(validate_domain("acme").unwrap(), "acme");
        assert_eq!(
            validate_domain("acme--dev.sandbox").unwrap(),
            "acme--dev.sandbox"
        );
        assert_eq!(
            validate_domain("https://acme.my.salesforce.com/").unwrap(),
            "acme.my.salesforce.com"
        );
        for bad in [
            "",
            "acme corp",
            "acme/x",
            "http://acme.my.salesforce.com",
            "acme..x",
            ".acme",
        ] {
            assert!(validate_domain(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            validate_login_url("https://login.example.com/").unwrap(),
            "https://login.example.com"
        );
        for bad in [
            "127.0.0.1:8080",
            "ftp://host",
            "http://",
            "https://user:pw@host",
            "not a url",
        ] {
            assert!(validate_login_url(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn interval_values_and_limits() {
        let env = env_of(&[
            (ENV_DOMAIN, "acme"),
            (ENV_CLIENT_ID, "id"),
            (ENV_CLIENT_SECRET, "s"),
        ]);
        let mut mount = mount_args();
        mount.interval = Some("1s".into());
        let err = Settings::resolve(&mount.connection, Some(&mount), &env).unwrap_err();
        assert!(matches!(err, ConfigError::IntervalTooShort { .. }), "{err}");
        mount.interval = Some("soon".into());
        let err = Settings::resolve(&mount.connection, Some(&mount), &env).unwrap_err();
        assert!(matches!(err, ConfigError::BadDuration { .. }), "{err}");
        assert!(err.to_string().contains("soon"));

        for (text, secs) in [
            ("interval = 60", 60),
            ("interval = \"2m\"", 120),
            ("interval = \"90\"", 90),
        ] {
            let file = settings_file(&format!(
                "domain = \"a\"\nclient_id = \"i\"\nclient_secret = \"s\"\n{text}\n"
            ));
            let s = Settings::resolve(&with_file(&file), None, &no_env).unwrap();
            assert_eq!(s.interval, Duration::from_secs(secs), "{text}");
        }
        let file = settings_file(
            "domain = \"a\"\nclient_id = \"i\"\nclient_secret = \"s\"\ninterval = -5\n",
        );
        let err = Settings::resolve(&with_file(&file), None, &no_env).unwrap_err();
        assert!(matches!(err, ConfigError::BadDuration { .. }), "{err}");
    }

    #[test]
    fn wrongly_typed_values_get_a_message_that_says_what_is_expected() {
        for (line, expected) in [
            ("interval = 1.5", "whole number of seconds"),
            ("request_timeout = true", "whole number of seconds"),
            ("custom_objects_to_sync = 5", "list of object names"),
            ("standard_objects_to_sync = true", "list of object names"),
            (
                "custom_objects_to_sync = [\"A__c\", 3]",
                "list of object names",
            ),
        ] {
            let file = settings_file(&format!("domain = \"a\"\n{line}\n"));
            let err = Settings::resolve(&with_file(&file), None, &no_env).unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains(expected) && text.contains("line 2"),
                "{line}: {text}"
            );
        }
    }

    #[test]
    fn zero_request_timeout_and_bad_format_are_rejected() {
        let env = env_of(&[
            (ENV_DOMAIN, "acme"),
            (ENV_CLIENT_ID, "id"),
            (ENV_CLIENT_SECRET, "s"),
        ]);
        let connection = ConnectionArgs {
            request_timeout: Some(0),
            ..ConnectionArgs::default()
        };
        let err = Settings::resolve(&connection, None, &env).unwrap_err();
        assert!(matches!(err, ConfigError::ZeroRequestTimeout));

        let file = settings_file(
            "domain = \"a\"\nclient_id = \"i\"\nclient_secret = \"s\"\nformat = \"yaml\"\n",
        );
        let err = Settings::resolve(&with_file(&file), None, &no_env).unwrap_err();
        assert!(matches!(err, ConfigError::BadFormat(_)), "{err}");
    }

    #[test]
    fn parse_interval_applies_the_minimum() {
        assert_eq!(parse_interval("30s").unwrap(), DEFAULT_INTERVAL);
        assert_eq!(parse_interval("5").unwrap(), MIN_INTERVAL);
        for short in ["4s", "0", "500ms"] {
            let err = parse_interval(short).unwrap_err();
            assert!(
                matches!(&err, ConfigError::IntervalTooShort { text } if text == short),
                "{short}: {err}"
            );
        }
        assert!(matches!(
            parse_interval("soon"),
            Err(ConfigError::BadDuration { .. })
        ));
    }

    #[test]
    fn parse_duration_accepts_the_documented_forms() {
        let cases = [
            ("30s", 30_000),
            ("5m", 300_000),
            ("1h30m", 5_400_000),
            ("500ms", 500),
            ("2d", 172_800_000),
            ("45", 45_000),
            (" 10s ", 10_000),
            ("1m 30s", 90_000),
            ("0", 0),
        ];
        for (text, millis) in cases {
            assert_eq!(
                parse_duration(text).unwrap(),
                Duration::from_millis(millis),
                "{text}"
            );
        }
    }

    #[test]
    fn parse_duration_rejects_bad_values() {
        for text in [
            "",
            "  ",
            "-5s",
            "5x",
            "s",
            "1.5m",
            "10 20",
            "99999999999999999999",
            "18446744073709551615d",
            "m5",
        ] {
            let err = parse_duration(text).unwrap_err();
            assert!(
                matches!(err, ConfigError::BadDuration { .. }),
                "{text}: {err}"
            );
        }
    }

    #[test]
    fn configuration_guide_shows_the_example_verbatim() {
        let guide = include_str!("../docs/configuration.md");
        assert!(
            guide.contains(EXAMPLE_SETTINGS),
            "docs/configuration.md is out of date"
        );
    }

    #[test]
    fn example_settings_file_parses_with_every_key() {
        let file = settings_file(EXAMPLE_SETTINGS);
        let s = Settings::resolve(&with_file(&file), None, &no_env).unwrap();
        assert_eq!(s.login, Login::Domain("mycompany".into()));
        assert_eq!(s.custom_objects, CustomObjects::All);
        assert!(s.sync_custom_objects);
        assert_eq!(s.interval, DEFAULT_INTERVAL);
        assert_eq!(s.refresh_stop_at_api_percent, 80);
        assert_eq!(s.formula_refresh_interval, DEFAULT_FORMULA_REFRESH_INTERVAL);
    }

    #[test]
    fn refresh_floor_and_formula_interval_are_read_and_checked() {
        let base = "domain = \"a\"\nclient_id = \"i\"\nclient_secret = \"s\"\n";
        let file = settings_file(&format!(
            "{base}refresh_stop_at_api_percent = 50\nformula_refresh_interval = \"6h\"\n"
        ));
        let s = Settings::resolve(&with_file(&file), None, &no_env).unwrap();
        assert_eq!(s.refresh_stop_at_api_percent, 50);
        assert_eq!(s.formula_refresh_interval, Duration::from_secs(6 * 3600));
        for bad in [0, 101, -3] {
            let file = settings_file(&format!("{base}refresh_stop_at_api_percent = {bad}\n"));
            let err = Settings::resolve(&with_file(&file), None, &no_env).unwrap_err();
            assert!(
                matches!(err, ConfigError::BadApiPercent(n) if n == bad),
                "{err}"
            );
            assert!(err.to_string().contains("1 to 100"), "{err}");
        }
        let file = settings_file(&format!("{base}formula_refresh_interval = \"1s\"\n"));
        let err = Settings::resolve(&with_file(&file), None, &no_env).unwrap_err();
        assert!(matches!(err, ConfigError::IntervalTooShort { .. }), "{err}");
    }

    #[test]
    fn client_settings_carry_login_credentials_and_deadline() {
        let mut s = Settings::new(
            Login::Url("http://127.0.0.1:9".into()),
            "id",
            Secret::new("pw"),
        );
        s.request_timeout = Duration::from_secs(3);
        let client = s.client_settings();
        assert_eq!(
            client.login,
            crate::salesforce::LoginTarget::Url("http://127.0.0.1:9".into())
        );
        assert_eq!(client.client_id, "id");
        assert_eq!(client.client_secret.expose(), "pw");
        assert_eq!(client.request_timeout, Duration::from_secs(3));
        s.login = Login::Domain("acme".into());
        assert_eq!(
            s.client_settings().login,
            crate::salesforce::LoginTarget::Domain("acme".into())
        );
    }

    #[test]
    fn settings_debug_hides_the_secret() {
        let s = Settings::new(Login::Domain("acme".into()), "id", Secret::new("hunter2"));
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
