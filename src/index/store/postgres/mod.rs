//! The store on a PostgreSQL server, shared by every mount of a fleet: the same listings,
//! bodies, journal and describes as the SQLite engine, plus the [`Fleet`] coordination
//! (`fleet.rs`). One database may hold several orgs and users: every row carries the
//! store key (`<orgId>-<userId>`) and every query filters by it.
//!
//! Split by concern: `link.rs` (the URL, TLS, the settings every session gets, and what
//! may be shown of it), `session.rs` (connections that reconnect once on loss),
//! `schema.rs` (tables, created and migrated under a lock), `rows.rs` (the [`LocalStore`]
//! and [`DescribeStore`] queries), `fleet.rs` (lead, listing locks, published changes).
//!
//! The `postgres` crate is synchronous and runs a small runtime of its own inside each
//! connection: its calls block the calling thread, which is what the store traits expect,
//! and must not be made from inside an async task (a runtime within a runtime panics).
//!
//! [`LocalStore`]: super::LocalStore
//! [`DescribeStore`]: crate::salesforce::DescribeStore

mod documents;
mod fleet;
mod link;
mod rows;
mod schema;
mod session;
mod tls;

use std::sync::Mutex;
use std::time::Duration;

use postgres::Client;
use xxhash_rust::xxh3::xxh3_64;

use super::StoreError;
use link::Link;
use session::Sessions;

pub use link::redact_url;

/// A store kept in PostgreSQL for one store key.
pub struct PostgresStore {
    link: Link,
    store_key: String,
    /// Reads and writes of listings, bodies, the journal and published changes.
    main: Sessions,
    /// The session that holds the lead, if this mount holds or tried for it.
    lead: Mutex<fleet::LeadState>,
    /// The session that listens for published changes (opened on the first wait).
    listen: Mutex<Option<Client>>,
    /// This mount's name in the fleet.
    member: String,
    /// How many changes this store published; the old ones are pruned every
    /// [`fleet::PRUNE_EVERY`] publications.
    published: std::sync::atomic::AtomicU64,
}

impl PostgresStore {
    /// Connects to the database at `url` (a `postgres://` URL, `sslmode` as libpq reads
    /// it) for the store `store_key`, creating or migrating the schema on first use.
    /// `deadline` bounds the connection and every statement of every session.
    pub fn connect(
        url: &str,
        store_key: &str,
        deadline: Duration,
    ) -> Result<PostgresStore, StoreError> {
        session::off_runtime(|| PostgresStore::connect_here(url, store_key, deadline))
    }

    fn connect_here(
        url: &str,
        store_key: &str,
        deadline: Duration,
    ) -> Result<PostgresStore, StoreError> {
        let link = Link::parse(url, deadline)?;
        let main = Sessions::default();
        main.with(&link, "preparing the schema", schema::migrate)?;
        match main.with(&link, "reading the schema version", schema::version)? {
            Some(schema::SCHEMA_VERSION) => {}
            other => {
                return Err(StoreError::PostgresUnusable {
                    target: link.shown().to_string(),
                    reason: format!(
                        "the sfmount tables are at schema version {}; this sfmount reads {}",
                        other.unwrap_or(0),
                        schema::SCHEMA_VERSION
                    ),
                })
            }
        }
        let store = PostgresStore {
            link,
            store_key: store_key.to_string(),
            main,
            lead: Mutex::new(fleet::LeadState::default()),
            listen: Mutex::new(None),
            member: fleet::new_member_id(),
            published: std::sync::atomic::AtomicU64::new(0),
        };
        tracing::debug!(
            target_db = %store.link.shown(),
            member = %store.member,
            "connected to the PostgreSQL store"
        );
        Ok(store)
    }

    /// Where the store is, as it may be shown: `user@host:port/db`, never the password.
    pub fn shown(&self) -> &str {
        self.link.shown()
    }

    /// The store key every row of this store carries.
    pub fn store_key(&self) -> &str {
        &self.store_key
    }

    /// Bodies on the server are not bounded by this mount: the database is shared, and
    /// its size is its operator's to manage (each mount still bounds its memory cache).
    /// The bound is accepted so a mount can pass its setting, and said once in the log.
    pub fn set_body_limit(&self, limit: Option<u64>) -> Result<(), StoreError> {
        if let Some(bytes) = limit {
            tracing::info!(
                bytes,
                "max_cache_size does not bound a PostgreSQL store's bodies; the database keeps all of them"
            );
        }
        Ok(())
    }

    /// Runs `work` on the main session (reconnecting once if the connection was lost).
    fn with<T>(
        &self,
        what: &'static str,
        work: impl FnMut(&mut session::Conn) -> Result<T, postgres::Error> + Send,
    ) -> Result<T, StoreError>
    where
        T: Send,
    {
        self.main.with(&self.link, what, work)
    }

    fn error(&self, what: &'static str, source: postgres::Error) -> StoreError {
        self.link.error(what, source)
    }
}

impl Drop for PostgresStore {
    /// Closing a session blocks on the driver's runtime too: done off any async runtime.
    fn drop(&mut self) {
        let lead = std::mem::take(self.lead.get_mut().unwrap_or_else(|p| p.into_inner()));
        let listen = self
            .listen
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let main = std::mem::take(&mut self.main);
        session::off_runtime(move || drop((lead, listen, main)));
    }
}

/// An advisory lock's 64-bit key for `what` (e.g. "lead", "listing") of `store_key`,
/// from a stable hash so every build and process derives the same number. A collision
/// with another application's lock in the same database would only make them wait on
/// each other.
fn lock_key(what: &str, store_key: &str, object: &str) -> i64 {
    let text = format!("sfmount {what} {store_key}\0{object}");
    // The hash's bits, as PostgreSQL's signed bigint.
    xxh3_64(text.as_bytes()) as i64
}

/// The NOTIFY channel of one store key: a plain identifier (hex), so it needs no quoting
/// and stays under PostgreSQL's 63-byte limit whatever the key.
fn channel_name(store_key: &str) -> String {
    format!(
        "sfmount_{:016x}",
        xxh3_64(format!("sfmount changes {store_key}").as_bytes())
    )
}

/// A PostgreSQL error's text with its causes (the crate's own text is only the kind,
/// e.g. "db error"). Server messages name users and objects, never a password.
pub(crate) fn error_chain(error: &postgres::Error) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_differ_by_purpose_key_and_object_and_never_change() {
        let lead = lock_key("lead", "00D-005", "");
        assert_eq!(lead, lock_key("lead", "00D-005", ""));
        assert_ne!(lead, lock_key("lead", "00D-006", ""));
        assert_ne!(lead, lock_key("listing", "00D-005", ""));
        assert_ne!(
            lock_key("listing", "00D-005", "Account"),
            lock_key("listing", "00D-005", "Contact")
        );
        // The key is part of the protocol between builds: a changed hash would let two
        // builds of one fleet both lead.
        assert_eq!(
            lock_key("lead", "k", ""),
            xxh3_64(b"sfmount lead k\0") as i64
        );
    }

    #[test]
    fn channel_names_are_short_plain_identifiers() {
        let name = channel_name(&"x".repeat(500));
        assert!(name.len() <= 63);
        assert!(name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
        assert_ne!(channel_name("a"), channel_name("b"));
    }
}
