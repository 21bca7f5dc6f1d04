//! How to reach the database: the URL read once (`sslmode` as libpq users expect), the
//! settings every session starts with (deadlines, keepalives), and the one form of the
//! target that may be shown (`user@host:port/db`: never the password, never the query).

use std::str::FromStr;
use std::time::Duration;

use postgres::config::SslMode;
use postgres::{Client, Config, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::tls;
use crate::index::store::StoreError;

/// TCP keepalives, so a session whose server vanished (a dead host, a cut network) fails
/// within about idle + interval × retries = 20 s instead of waiting forever for a reply
/// that will not come; the statement deadline covers a live but slow server.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(10);
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(2);
const KEEPALIVE_RETRIES: u32 = 5;

/// A session idle inside a transaction (a stuck mount) is ended by the server after this,
/// so it cannot hold row locks that other mounts wait on.
const IDLE_IN_TRANSACTION: Duration = Duration::from_secs(60);

/// The parsed target and how every session connects to it.
pub(super) struct Link {
    config: Config,
    tls: Option<MakeRustlsConnect>,
    shown: String,
}

impl Link {
    /// Reads `url`; `deadline` bounds each connection attempt and each statement.
    pub(super) fn parse(url: &str, deadline: Duration) -> Result<Link, StoreError> {
        let shown = redact_url(url);
        let unusable = |reason: String| StoreError::PostgresUnusable {
            target: shown.clone(),
            reason,
        };
        let mut parsed = url::Url::parse(url).map_err(|_| {
            unusable("not a URL (expected postgres://USER@HOST:PORT/DB?sslmode=...)".into())
        })?;
        if !matches!(parsed.scheme(), "postgres" | "postgresql") {
            return Err(unusable(format!(
                "the scheme is {:?}; expected postgres:// or postgresql://",
                parsed.scheme()
            )));
        }
        // sslmode and sslrootcert are read here (the driver knows fewer modes); every other
        // parameter (host=/socket/dir, application_name, ...) is the driver's.
        let mut mode = String::from("prefer");
        let mut root_file = None;
        let mut rest = Vec::new();
        for (key, value) in parsed.query_pairs() {
            match &*key {
                "sslmode" => mode = value.into_owned(),
                "sslrootcert" => root_file = Some(value.into_owned()),
                _ => rest.push((key.into_owned(), value.into_owned())),
            }
        }
        if rest.is_empty() {
            parsed.set_query(None);
        } else {
            parsed.query_pairs_mut().clear().extend_pairs(rest);
        }
        let mut config = Config::from_str(parsed.as_str()).map_err(|error| {
            unusable(format!(
                "the URL is not a PostgreSQL connection URL ({error})"
            ))
        })?;
        let verify = match mode.as_str() {
            "disable" => None,
            // libpq's `allow` tries plain first, then TLS; the driver only knows the other
            // order, which is never less safe.
            "allow" | "prefer" => Some(tls::Verify::Nothing),
            "require" => Some(tls::Verify::Nothing),
            // Both check the chain; verify-ca also checks the host name here (stricter
            // than libpq, which skips the name in verify-ca).
            "verify-ca" | "verify-full" => Some(tls::Verify::Chain { root_file }),
            other => {
                return Err(unusable(format!(
                    "sslmode={other:?}: expected disable, allow, prefer, require, verify-ca or verify-full"
                )))
            }
        };
        config.ssl_mode(match mode.as_str() {
            "disable" => SslMode::Disable,
            "allow" | "prefer" => SslMode::Prefer,
            _ => SslMode::Require,
        });
        let tls = match verify {
            None => None,
            Some(verify) => Some(tls::connector(verify).map_err(unusable)?),
        };
        if config.get_application_name().is_none() {
            config.application_name("sfmount");
        }
        let millis = deadline.as_millis().max(1);
        config
            .connect_timeout(deadline)
            .keepalives(true)
            .keepalives_idle(KEEPALIVE_IDLE)
            .keepalives_interval(KEEPALIVE_INTERVAL)
            .keepalives_retries(KEEPALIVE_RETRIES)
            .options(&format!(
                "-c statement_timeout={millis} -c lock_timeout={millis} \
                 -c idle_in_transaction_session_timeout={}",
                IDLE_IN_TRANSACTION.as_millis()
            ));
        Ok(Link { config, tls, shown })
    }

    /// A new session (statement and lock deadlines set at its start, no extra round trip).
    pub(super) fn open(&self) -> Result<Client, postgres::Error> {
        match &self.tls {
            None => self.config.connect(NoTls),
            Some(tls) => self.config.connect(tls.clone()),
        }
    }

    pub(super) fn shown(&self) -> &str {
        &self.shown
    }

    pub(super) fn error(&self, what: &'static str, source: postgres::Error) -> StoreError {
        StoreError::Postgres {
            target: self.shown.clone(),
            what,
            source,
        }
    }
}

/// What may be shown of a store URL: `user@host:port/db` (or the URL's first word when it
/// is not one). The password and the query (which may hold one too) are left out.
pub fn redact_url(url: &str) -> String {
    let Ok(parsed) = url::Url::parse(url) else {
        // Not a URL: show only up to the first character that could start a secret.
        let head: String = url
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            .collect();
        return format!("{head}:(unreadable URL)");
    };
    let query_user = parsed
        .query_pairs()
        .find(|(key, _)| key == "user")
        .map(|(_, value)| value.into_owned());
    let user = match (parsed.username(), query_user) {
        ("", None) => String::new(),
        ("", Some(user)) => format!("{user}@"),
        (user, _) => format!(
            "{}@",
            percent_encoding::percent_decode_str(user).decode_utf8_lossy()
        ),
    };
    // A unix socket is named in the query (`?host=/run/postgresql`): a path, no secret.
    let socket = parsed
        .query_pairs()
        .find(|(key, _)| key == "host")
        .map(|(_, value)| value.into_owned());
    let host = match (parsed.host_str(), socket) {
        (Some(host), _) if !host.is_empty() => host.to_string(),
        (_, Some(socket)) => socket,
        _ => "localhost".to_string(),
    };
    let port = parsed.port().unwrap_or(5432);
    let db = parsed.path().trim_start_matches('/');
    format!("{user}{host}:{port}/{db}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shown_url_has_user_host_port_and_database_but_no_password() {
        assert_eq!(
            redact_url("postgres://fleet:s3cret@db.example.com:6432/sf?sslmode=require"),
            "fleet@db.example.com:6432/sf"
        );
        assert_eq!(redact_url("postgresql://db/sf"), "db:5432/sf");
        assert_eq!(
            redact_url("postgres:///sf?host=/run/postgresql&user=u&password=p"),
            "u@/run/postgresql:5432/sf"
        );
        let odd = redact_url("postgres//u:hunter2@h");
        assert!(!odd.contains("hunter2"), "{odd}");
    }

    #[test]
    fn only_postgres_urls_with_known_ssl_modes_are_taken() {
        let deadline = Duration::from_secs(1);
        for good in [
            "postgres://u@127.0.0.1:5432/db",
            "postgresql://u:pw@h/db?sslmode=disable",
            "postgres://u@h/db?sslmode=require&application_name=x",
            "postgres://u@h/db?sslmode=verify-full",
        ] {
            assert!(Link::parse(good, deadline).is_ok(), "{good}");
        }
        for bad in [
            "mysql://u@h/db",
            "postgres://u:pw@h/db?sslmode=sometimes",
            "not a url",
        ] {
            let error = Link::parse(bad, deadline).err().expect(bad).to_string();
            assert!(!error.contains("pw@"), "{error}");
        }
    }
}
