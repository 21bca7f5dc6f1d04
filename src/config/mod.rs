//! Settings: TOML file, then environment, then flags; validated before mounting.
//!
//! The file uses the keys of the connector this project follows (`domain`, `client_id`,
//! `client_secret`, `interval`, `standard_objects_to_sync`, `sync_custom_objects`,
//! `custom_objects_to_sync`), plus sfmount's own `login_url`, `format` and
//! `request_timeout`. Later sources win key by key: file < environment < flags. Each source
//! arrives as a plain [`Layer`]; this module knows nothing of how flags are parsed.
//!
//! Choices where the connector's behaviour was unclear or a bug:
//! - An explicit empty `standard_objects_to_sync` means "no standard objects" (the connector
//!   read it as "all", which makes it impossible to mount custom objects alone).
//! - `"*"` is only meaningful for custom objects; in the standard list it is an error rather
//!   than silently matching nothing.
//! - `--custom-objects` on the command line turns custom-object syncing on unless
//!   `--sync-custom-objects false` is also given: naming objects on the command line is
//!   intent (the command line's own rule, applied where flags become a layer).
//! - Unknown keys in the file are errors, so a misspelt key is not silently ignored.

mod access;
mod duration;
mod file;
mod layer;
mod size;
mod store;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use access::{AllowUsers, MountAccess, DEFAULT_DIR_MODE, DEFAULT_FILE_MODE, DEFAULT_UMASK};
pub use duration::{parse_duration, parse_interval, DurationValue, MIN_INTERVAL};
pub use file::EXAMPLE_SETTINGS;
pub use layer::Layer;
pub use size::{parse_size, SizeValue};
pub use store::{StoreUrl, DEFAULT_STORE, ENV_STORE};

use crate::catalog::ObjectChoice;
use crate::index::refresh::RefreshConfig;
use crate::index::ApiFloor;
use crate::render::FileFormat;
use crate::secret::Secret;

/// The connector's documented default refresh interval.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);

/// Record files are JSON unless the user asks for text: JSON is what the API returns.
pub const DEFAULT_FORMAT: &[FileFormat] = &[FileFormat::Json];

/// The defaults below belong to the layers that use them; the settings only name them.
pub const DEFAULT_FORMULA_REFRESH_INTERVAL: Duration = RefreshConfig::DEFAULT_FORMULA_INTERVAL;
pub const DEFAULT_REQUEST_TIMEOUT: Duration = crate::salesforce::DEFAULT_REQUEST_TIMEOUT;

/// The local store keeps every body unless told a bound (`max_cache_size`): a store is
/// the size of the org's mounted records, and an evicted body costs a query to get back.
pub const DEFAULT_MAX_CACHE_BYTES: Option<u64> = None;

/// Environment variable names (read through the `env` function given to `resolve`).
pub const ENV_DOMAIN: &str = "SFMOUNT_DOMAIN";
pub const ENV_CLIENT_ID: &str = "SFMOUNT_CLIENT_ID";
pub const ENV_CLIENT_SECRET: &str = "SFMOUNT_CLIENT_SECRET";

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
    /// Which objects to mount, as written by the user (validated by the catalog).
    pub objects: ObjectChoice,
    /// The files each record gets, in order.
    pub format: &'static [FileFormat],
    /// Deadline for each API request.
    pub request_timeout: Duration,
    /// Background refresh stops once this share of the daily API limit is used
    /// (`refresh_stop_at_api_percent`); `sfmount check` reports the same rule.
    pub api_floor: ApiFloor,
    /// How often objects with formula fields are re-read whole.
    pub formula_refresh_interval: Duration,
    /// Where the local stores live (one per org and run-as user); `None`: memory only.
    pub cache_dir: Option<PathBuf>,
    /// Byte budget of the rendered bodies kept in memory (`memory_cache_size`).
    pub memory_cache_bytes: usize,
    /// Bound on the bytes of bodies in the local store (`max_cache_size`); `None`: none.
    pub max_cache_bytes: Option<u64>,
    /// A PostgreSQL store shared by a fleet of mounts (`store`); `None`: the local store
    /// under `cache_dir`.
    pub store: Option<StoreUrl>,
    /// Who may use the mount, and the owner and modes its files show.
    pub access: MountAccess,
    /// Unmount when the process ends, even by SIGKILL (through fusermount3).
    pub auto_unmount: bool,
    /// Where `/metrics` is served; `None`: nowhere.
    pub metrics_addr: Option<SocketAddr>,
    /// How long the kernel may trust attributes and names (`attr_timeout`, `dir_cache_time`).
    pub cache_timing: crate::fs::timing::CacheTiming,
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
    #[error("bad size {text:?}: expected e.g. `64MiB`, `512KiB`, `1GiB` or a number of bytes")]
    BadSize { text: String },
    #[error("max_cache_size must be more than zero bytes: to keep no bodies on disk, use --no-cache (cache_dir = \"\")")]
    ZeroMaxCacheSize,
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
    #[error("set either allow_other or allow_root, not both (allow_other already lets root in)")]
    AllowOtherAndRoot,
    #[error("bad {key} {text:?}: expected octal permission bits such as 0444 or 0555")]
    BadMode { key: &'static str, text: String },
    #[error("{key} {mode:04o} has write bits: the mount is read-only, so write bits would only mislead (use e.g. 0444 for files, 0555 for folders)")]
    WritableMode { key: &'static str, mode: u16 },
    #[error("bad metrics_addr {0:?}: expected an address and port such as 127.0.0.1:9187")]
    BadMetricsAddr(String),
    /// `shown` is the value without its password.
    #[error("bad store {shown:?}: {reason}")]
    BadStore { shown: String, reason: String },
}

impl Settings {
    /// Settings with every default, for a login and credentials (used by `demo` and tests);
    /// no local store, since where it goes depends on the environment (`resolve` knows).
    pub fn new(login: Login, client_id: impl Into<String>, client_secret: Secret) -> Settings {
        Settings {
            login,
            client_id: client_id.into(),
            client_secret,
            interval: DEFAULT_INTERVAL,
            objects: ObjectChoice::default(),
            format: DEFAULT_FORMAT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            api_floor: ApiFloor::DEFAULT,
            formula_refresh_interval: DEFAULT_FORMULA_REFRESH_INTERVAL,
            cache_dir: None,
            memory_cache_bytes: crate::index::IndexConfig::DEFAULT_BODY_CACHE_BYTES,
            max_cache_bytes: DEFAULT_MAX_CACHE_BYTES,
            store: DEFAULT_STORE,
            access: MountAccess::default(),
            auto_unmount: false,
            metrics_addr: None,
            cache_timing: crate::fs::timing::CacheTiming::default(),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

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
