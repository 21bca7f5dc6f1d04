//! One source of settings as plain values, and the merge of several into [`Settings`].
//!
//! The file, the environment and the command line each become a [`Layer`]; the highest
//! layer that gives a key wins, key by key, and only the winning value is checked (a bad
//! value that a later source overrides is no error).

use super::{
    ConfigError, DurationValue, Login, Settings, SizeValue, DEFAULT_FORMAT, DEFAULT_INTERVAL,
    DEFAULT_REQUEST_TIMEOUT, ENV_CLIENT_ID, ENV_CLIENT_SECRET, ENV_DOMAIN,
};
use super::{StoreUrl, DEFAULT_STORE, ENV_STORE};
use crate::catalog::{CustomObjects, ObjectChoice};
use crate::fs::timing::CacheTiming;
use crate::index::{ApiFloor, IndexConfig};
use crate::render::parse_format_setting;
use crate::salesforce::{validate_domain, validate_login_url, LoginProblem};
use crate::secret::Secret;
use std::path::{Path, PathBuf};

/// What one source says; `None` where it says nothing, so a lower source's value stands.
/// Values are as the user wrote them. `Debug` never shows the secret.
#[derive(Debug, Clone, Default)]
pub struct Layer {
    pub domain: Option<String>,
    /// Wins over `domain` of the same layer.
    pub login_url: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    /// A file holding the secret, read only when this layer's secret is the one used; it
    /// wins over `client_secret` of the same layer.
    pub client_secret_file: Option<PathBuf>,
    pub interval: Option<DurationValue>,
    pub request_timeout: Option<DurationValue>,
    pub standard_objects: Option<Vec<String>>,
    pub sync_custom_objects: Option<bool>,
    /// Custom object names, or `*` for every custom object.
    pub custom_objects: Option<Vec<String>>,
    /// `json`, `text` or `both`.
    pub format: Option<String>,
    pub refresh_stop_at_api_percent: Option<i64>,
    pub formula_refresh_interval: Option<DurationValue>,
    /// Folder of the local stores; an empty path means none (memory only).
    pub cache_dir: Option<PathBuf>,
    /// Budget of the in-memory body cache.
    pub memory_cache_size: Option<SizeValue>,
    /// Bound on the bytes of bodies in the local store.
    pub max_cache_size: Option<SizeValue>,
    /// A PostgreSQL URL for the store, as written; empty means the local store.
    pub store: Option<String>,
    pub allow_other: Option<bool>,
    pub allow_root: Option<bool>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// Octal, as written (`0444`).
    pub file_mode: Option<String>,
    pub dir_mode: Option<String>,
    pub umask: Option<String>,
    pub auto_unmount: Option<bool>,
    /// `ADDRESS:PORT`, as written.
    pub metrics_addr: Option<String>,
    /// How long the kernel may trust attributes (`attr_timeout`).
    pub attr_timeout: Option<DurationValue>,
    /// How long the kernel may trust names and listings (`dir_cache_time`).
    pub dir_cache_time: Option<DurationValue>,
}

impl Layer {
    /// SFMOUNT_DOMAIN, SFMOUNT_CLIENT_ID, SFMOUNT_CLIENT_SECRET and SFMOUNT_STORE (which
    /// may carry a database password, so it is an environment variable too), read through `env` so
    /// tests need not touch the process environment. A blank variable counts as unset.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Layer {
        Layer {
            domain: non_empty(env(ENV_DOMAIN)),
            client_id: env(ENV_CLIENT_ID),
            client_secret: env(ENV_CLIENT_SECRET).map(Secret::new),
            store: env(ENV_STORE),
            ..Layer::default()
        }
    }

    /// The defaults that depend on the environment, as the lowest layer: the cache folder
    /// is `$XDG_CACHE_HOME/sfmount`, else `$HOME/.cache/sfmount` (the XDG base directory
    /// rule, which also says a relative XDG_CACHE_HOME is to be ignored).
    pub fn environment_defaults(env: &dyn Fn(&str) -> Option<String>) -> Layer {
        let xdg = env("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .filter(|path| path.is_absolute());
        let home = || {
            env("HOME")
                .filter(|home| !home.is_empty())
                .map(|home| PathBuf::from(home).join(".cache"))
        };
        Layer {
            cache_dir: xdg.or_else(home).map(|cache| cache.join("sfmount")),
            ..Layer::default()
        }
    }
}

/// The first value any layer gives, highest layer first.
fn first<T>(layers: &[&Layer], pick: impl Fn(&Layer) -> Option<T>) -> Option<T> {
    layers.iter().find_map(|layer| pick(layer))
}

impl Settings {
    /// The settings file (if any), then the environment, then `flags`. Everything is
    /// validated here, before mounting.
    pub fn resolve(
        config_file: Option<&Path>,
        flags: &Layer,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Settings, ConfigError> {
        let file = match config_file {
            Some(path) => super::file::read_settings_layer(path)?,
            None => Layer::default(),
        };
        let defaults = Layer::environment_defaults(env);
        Settings::from_layers(&[flags, &Layer::from_env(env), &file, &defaults])
    }

    /// Only the cache folder, from the same sources as [`Settings::resolve`] but without
    /// requiring a login or credentials: `sfmount cache` looks at stores, it never connects.
    /// `None` when the settings say memory only (`cache_dir = ""`).
    pub fn resolve_cache_dir(
        config_file: Option<&Path>,
        flags: &Layer,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<PathBuf>, ConfigError> {
        let file = match config_file {
            Some(path) => super::file::read_settings_layer(path)?,
            None => Layer::default(),
        };
        let defaults = Layer::environment_defaults(env);
        Ok(cache_dir(&[flags, &Layer::from_env(env), &file, &defaults]))
    }

    /// Merges `layers`, highest first, and checks every value used.
    pub fn from_layers(layers: &[&Layer]) -> Result<Settings, ConfigError> {
        let login = first(layers, |layer| match (&layer.login_url, &layer.domain) {
            (Some(url), _) => Some(Login::Url(url.clone())),
            (None, Some(domain)) => Some(Login::Domain(domain.clone())),
            (None, None) => None,
        });
        let login = match login {
            Some(Login::Domain(domain)) => Login::Domain(
                validate_domain(&domain).map_err(|problem| bad_domain(&domain, problem))?,
            ),
            Some(Login::Url(url)) => Login::Url(validate_login_url(&url).map_err(|problem| {
                ConfigError::BadLoginUrl {
                    url: url.clone(),
                    reason: problem.to_string(),
                }
            })?),
            None => return Err(ConfigError::MissingLogin),
        };

        let client_id = first(layers, |layer| non_empty(layer.client_id.clone()))
            .ok_or(ConfigError::MissingClientId)?;
        let client_secret = client_secret(layers)?;

        let interval = match first(layers, |layer| layer.interval.clone()) {
            Some(value) => value.to_interval()?,
            None => DEFAULT_INTERVAL,
        };
        let request_timeout = match first(layers, |layer| layer.request_timeout.clone()) {
            Some(value) => value.to_duration()?,
            None => DEFAULT_REQUEST_TIMEOUT,
        };
        if request_timeout.is_zero() {
            return Err(ConfigError::ZeroRequestTimeout);
        }
        let objects = object_choice(layers)?;

        let format = match first(layers, |layer| layer.format.clone()) {
            Some(text) => parse_format_setting(&text).ok_or(ConfigError::BadFormat(text))?,
            None => DEFAULT_FORMAT,
        };
        let api_floor = match first(layers, |layer| layer.refresh_stop_at_api_percent) {
            None => ApiFloor::DEFAULT,
            Some(percent) => u8::try_from(percent)
                .ok()
                .and_then(ApiFloor::new)
                .ok_or(ConfigError::BadApiPercent(percent))?,
        };
        let formula_refresh_interval =
            match first(layers, |layer| layer.formula_refresh_interval.clone()) {
                Some(value) => value.to_interval()?,
                None => super::DEFAULT_FORMULA_REFRESH_INTERVAL,
            };

        let cache_dir = cache_dir(layers);
        let memory_cache_bytes = match first(layers, |layer| layer.memory_cache_size.clone()) {
            Some(size) => size.to_bytes()?,
            None => IndexConfig::DEFAULT_BODY_CACHE_BYTES,
        };
        let max_cache_bytes = match first(layers, |layer| layer.max_cache_size.clone()) {
            Some(size) => match size.to_bytes()? {
                0 => return Err(ConfigError::ZeroMaxCacheSize),
                bytes => Some(bytes as u64),
            },
            None => super::DEFAULT_MAX_CACHE_BYTES,
        };
        let store = match first(layers, |layer| layer.store.clone()) {
            Some(text) => StoreUrl::parse(&text)?,
            None => DEFAULT_STORE,
        };
        // Zero is allowed for both: the kernel then asks every time (slow, never stale).
        let attr_timeout = match first(layers, |layer| layer.attr_timeout.clone()) {
            Some(value) => value.to_duration()?,
            None => CacheTiming::DEFAULT_ATTR_TIMEOUT,
        };
        let dir_cache_time = match first(layers, |layer| layer.dir_cache_time.clone()) {
            Some(value) => value.to_duration()?,
            None => CacheTiming::DEFAULT_DIR_CACHE_TIME,
        };

        Ok(Settings {
            login,
            client_id,
            client_secret,
            interval,
            objects,
            format,
            request_timeout,
            api_floor,
            formula_refresh_interval,
            cache_dir,
            memory_cache_bytes,
            max_cache_bytes,
            store,
            access: super::access::mount_access(layers)?,
            auto_unmount: super::access::auto_unmount(layers),
            metrics_addr: super::access::metrics_addr(layers)?,
            cache_timing: CacheTiming {
                attr_timeout,
                dir_cache_time,
            },
        })
    }
}

/// The cache folder of the highest layer that names one; an empty path means none.
fn cache_dir(layers: &[&Layer]) -> Option<PathBuf> {
    first(layers, |layer| layer.cache_dir.clone()).filter(|dir| !dir.as_os_str().is_empty())
}

/// The login layer's words plus, for a plain-HTTP domain, the flag that does take one.
fn bad_domain(domain: &str, problem: LoginProblem) -> ConfigError {
    let reason = match problem {
        LoginProblem::PlainHttpDomain => {
            format!("{problem}; use --login-url for a plain-HTTP test server")
        }
        _ => problem.to_string(),
    };
    ConfigError::BadDomain {
        domain: domain.to_string(),
        reason,
    }
}

/// A layer's secret file, when it names one, is read even if empty (an empty file is its own
/// error: the user did name a secret, so "no client secret" would mislead).
fn client_secret(layers: &[&Layer]) -> Result<Secret, ConfigError> {
    for layer in layers {
        if let Some(path) = &layer.client_secret_file {
            return read_secret_file(path).map(Secret::new);
        }
        let secret = layer.client_secret.as_ref().map(|s| s.expose().to_string());
        if let Some(secret) = non_empty(secret) {
            return Ok(Secret::new(secret));
        }
    }
    Err(ConfigError::MissingSecret)
}

/// Which objects to mount. An explicit empty standard list means none; `*` there is an
/// error, since it only means "every custom object".
fn object_choice(layers: &[&Layer]) -> Result<ObjectChoice, ConfigError> {
    let defaults = ObjectChoice::default();
    let standard_objects: Vec<String> = first(layers, |layer| layer.standard_objects.clone())
        .unwrap_or(defaults.standard_objects)
        .into_iter()
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .collect();
    if standard_objects.iter().any(|name| name == "*") {
        return Err(ConfigError::WildcardInStandardObjects);
    }
    Ok(ObjectChoice {
        standard_objects,
        sync_custom_objects: first(layers, |layer| layer.sync_custom_objects)
            .unwrap_or(defaults.sync_custom_objects),
        custom_objects: first(layers, |layer| layer.custom_objects.clone())
            .map(CustomObjects::from_names)
            .unwrap_or(defaults.custom_objects),
    })
}

fn non_empty(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The secret is the file's content without the trailing newline editors add.
fn read_secret_file(path: &Path) -> Result<String, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadSecretFile {
        path: path.to_path_buf(),
        source,
    })?;
    non_empty(Some(text)).ok_or_else(|| ConfigError::EmptySecretFile {
        path: path.to_path_buf(),
    })
}

#[cfg(test)]
pub(crate) mod tests;
