//! The `store` setting: where the durable store lives. Unset or empty, it is the local
//! SQLite store under `cache_dir`; a `postgres://` (or `postgresql://`) URL puts it on a
//! PostgreSQL server that a fleet of mounts shares. The URL may carry a password, so the
//! value is kept in a type that never prints it.

use std::fmt;

use super::ConfigError;
use crate::index::store::redact_url;

/// The environment variable of the `store` setting.
pub const ENV_STORE: &str = "SFMOUNT_STORE";

/// Without a `store` setting the store is local: SQLite under `cache_dir`.
pub const DEFAULT_STORE: Option<StoreUrl> = None;

/// A PostgreSQL URL as the user gave it. `Debug` and `Display` show
/// `postgres://user@host:port/db` only; [`StoreUrl::expose`] gives the whole URL, for the
/// connection alone.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreUrl(String);

impl StoreUrl {
    /// `text` as a store URL: `None` for an empty value (the local store), an error for
    /// anything that is not a postgres:// or postgresql:// URL with a host or socket.
    pub fn parse(text: &str) -> Result<Option<StoreUrl>, ConfigError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let bad = |reason: &str| ConfigError::BadStore {
            shown: redact_url(text),
            reason: reason.to_string(),
        };
        let url = url::Url::parse(text).map_err(|_| {
            bad("not a URL (expected postgres://USER@HOST:PORT/DB?sslmode=require)")
        })?;
        if !matches!(url.scheme(), "postgres" | "postgresql") {
            return Err(bad("only postgres:// and postgresql:// URLs are stores"));
        }
        let socket = url.query_pairs().any(|(key, _)| key == "host");
        if url.host_str().is_none_or(str::is_empty) && !socket {
            return Err(bad(
                "no host: name one (postgres://USER@HOST/DB) or a socket folder (?host=/run/postgresql)",
            ));
        }
        if url.path().trim_start_matches('/').is_empty() {
            return Err(bad("no database name (postgres://USER@HOST/DB)"));
        }
        Ok(Some(StoreUrl(text.to_string())))
    }

    /// The whole URL, password included: for connecting, never for showing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "postgres://{}", redact_url(&self.0))
    }
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_store_is_the_local_one() {
        assert_eq!(StoreUrl::parse("").unwrap(), None);
        assert_eq!(StoreUrl::parse("  ").unwrap(), None);
        assert_eq!(DEFAULT_STORE, None);
    }

    #[test]
    fn postgres_urls_are_taken_and_never_show_their_password() {
        let url = "postgres://fleet:hunter2@db.internal:6432/sfmount?sslmode=require";
        let store = StoreUrl::parse(url).unwrap().unwrap();
        assert_eq!(store.expose(), url);
        for shown in [store.to_string(), format!("{store:?}")] {
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains("fleet@db.internal:6432/sfmount"), "{shown}");
        }
        assert!(StoreUrl::parse("postgresql:///db?host=/run/postgresql&user=u").is_ok());
    }

    #[test]
    fn other_values_are_refused_without_echoing_a_password() {
        for bad in [
            "mysql://u:hunter2@h/db",
            "/var/cache/sfmount",
            "postgres://u:hunter2@h",
            "postgres:///db",
        ] {
            let error = StoreUrl::parse(bad).unwrap_err().to_string();
            assert!(!error.contains("hunter2"), "{error}");
        }
    }
}
