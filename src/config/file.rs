//! The settings file: TOML with the connector's keys and sfmount's own, read into a
//! [`Layer`]. Unknown keys are errors, so a misspelt key is not silently ignored.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{ConfigError, DurationValue, Layer, SizeValue};
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
# memory_cache_size = "64MiB"          # rendered records kept in memory; the rest is read from the local store
# cache_dir = "/srv/sfmount-cache"  # local store of bodies [default: $XDG_CACHE_HOME/sfmount, else ~/.cache/sfmount]; "" for memory only
# max_cache_size = "1GiB"            # bound on record bodies in the local store [default: unlimited]; the least recently used go first
# store = "postgres://sfmount@db.internal:5432/sfmount?sslmode=require"  # a store shared by a fleet of mounts [default: the local store]
# allow_other = true                 # let every user in (the modes still apply); as a user, needs user_allow_other in /etc/fuse.conf
# allow_root = true                  # let root in besides the mounting user (not with allow_other)
# uid = 1000                         # owner shown on every file and folder [default: the mounting user]
# gid = 1000                         # group shown on every file and folder [default: the mounting user's group]
# file_mode = "0444"                 # mode of files [default: 0444]; write bits are refused
# dir_mode = "0555"                  # mode of folders [default: 0555]
# umask = "0022"                     # bits taken off both modes [default: 0]
# auto_unmount = true                # unmount even if the process is killed (through fusermount3)
# metrics_addr = "127.0.0.1:9187"    # serve Prometheus metrics at http://ADDR/metrics [default: off]
# attr_timeout = "1m"                 # how long the kernel trusts a file's or folder's attributes
# dir_cache_time = "5m"               # how long the kernel trusts names and folder listings (a refresh tells it at once)
"#;

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
    cache_dir: Option<PathBuf>,
    memory_cache_size: Option<SizeValue>,
    max_cache_size: Option<SizeValue>,
    store: Option<String>,
    allow_other: Option<bool>,
    allow_root: Option<bool>,
    uid: Option<u32>,
    gid: Option<u32>,
    file_mode: Option<String>,
    dir_mode: Option<String>,
    umask: Option<String>,
    auto_unmount: Option<bool>,
    metrics_addr: Option<String>,
    attr_timeout: Option<DurationValue>,
    dir_cache_time: Option<DurationValue>,
}

impl FileSettings {
    fn into_layer(self) -> Layer {
        Layer {
            domain: self.domain,
            login_url: self.login_url,
            client_id: self.client_id,
            client_secret: self.client_secret.map(Secret::new),
            client_secret_file: None,
            interval: self.interval,
            request_timeout: self.request_timeout,
            standard_objects: self.standard_objects_to_sync.map(NameList::into_vec),
            sync_custom_objects: self.sync_custom_objects,
            custom_objects: self.custom_objects_to_sync.map(NameList::into_vec),
            format: self.format,
            refresh_stop_at_api_percent: self.refresh_stop_at_api_percent,
            formula_refresh_interval: self.formula_refresh_interval,
            cache_dir: self.cache_dir,
            memory_cache_size: self.memory_cache_size,
            max_cache_size: self.max_cache_size,
            store: self.store,
            allow_other: self.allow_other,
            allow_root: self.allow_root,
            uid: self.uid,
            gid: self.gid,
            file_mode: self.file_mode,
            dir_mode: self.dir_mode,
            umask: self.umask,
            auto_unmount: self.auto_unmount,
            metrics_addr: self.metrics_addr,
            attr_timeout: self.attr_timeout,
            dir_cache_time: self.dir_cache_time,
        }
    }
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

/// The file's settings. One file naming both a domain and a login URL is an error: which
/// one was meant cannot be told (across sources the later one simply wins).
pub(super) fn read_settings_layer(path: &Path) -> Result<Layer, ConfigError> {
    let file = read_settings_file(path)?;
    if file.domain.is_some() && file.login_url.is_some() {
        return Err(ConfigError::DomainAndLoginUrl {
            path: path.to_path_buf(),
        });
    }
    Ok(file.into_layer())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::layer::tests::{no_env, settings_file};
    use crate::config::Settings;

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
        let err = Settings::resolve(Some(file.path()), &Layer::default(), &no_env).unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(matches!(err, ConfigError::ParseFile { .. }), "{text}");
        assert!(!text.contains("s3cr3t-value"), "{text}");
        assert!(text.contains("line 2"), "{text}");
    }

    #[test]
    fn configuration_guide_shows_the_example_verbatim() {
        let guide = include_str!("../../docs/configuration.md");
        assert!(
            guide.contains(EXAMPLE_SETTINGS),
            "docs/configuration.md is out of date"
        );
    }
}
