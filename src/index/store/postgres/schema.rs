//! The tables, in their own PostgreSQL schema `sfmount` (so an operator can grant or
//! revoke them as one, and they never meet another application's tables), created and
//! migrated on first use. Several mounts may start at once: the migration runs in one
//! transaction under an advisory lock, so one migrates and the others then find the
//! schema current.
//!
//! Times are nanoseconds since the Unix epoch (as in the SQLite engine), except the
//! `published` column of changes, the server's own clock, used only to prune.
//! Published records are TEXT, not JSONB: JSONB reorders an object's keys, and a
//! follower must render a record's fields in the order the org returned them.

use super::session::Conn;

/// The schema this build writes and reads; raise it with every change below and add the
/// step to [`MIGRATIONS`].
pub(super) const SCHEMA_VERSION: i32 = 1;

/// Version 1. A folder's files are read back in `pos` order, the order they were first
/// written (an upsert keeps its row and so its position): the listing's order.
const SCHEMA_V1: &str = "
CREATE TABLE sfmount.folders (
    store_key    TEXT NOT NULL,
    object       TEXT NOT NULL,
    plan         TEXT NOT NULL,
    presentation TEXT NOT NULL,
    complete     BOOLEAN NOT NULL,
    watermark    BIGINT,
    refreshed_at BIGINT NOT NULL,
    changed_at   BIGINT NOT NULL,
    PRIMARY KEY (store_key, object)
);
CREATE TABLE sfmount.files (
    store_key TEXT NOT NULL,
    object    TEXT NOT NULL,
    id        TEXT NOT NULL,
    format    TEXT NOT NULL,
    name      TEXT NOT NULL,
    size      BIGINT NOT NULL,
    mtime     BIGINT NOT NULL,
    ctime     BIGINT NOT NULL,
    modstamp  BIGINT,
    digest    BIGINT NOT NULL,
    pos       BIGSERIAL,
    PRIMARY KEY (store_key, object, id, format)
);
CREATE INDEX files_in_order ON sfmount.files (store_key, object, pos);
CREATE TABLE sfmount.bodies (
    store_key TEXT NOT NULL,
    object    TEXT NOT NULL,
    id        TEXT NOT NULL,
    format    TEXT NOT NULL,
    body      BYTEA NOT NULL,
    PRIMARY KEY (store_key, object, id, format)
);
CREATE TABLE sfmount.journal (
    store_key TEXT NOT NULL,
    seq       BIGINT NOT NULL,
    at        BIGINT NOT NULL,
    kind      TEXT NOT NULL,
    object    TEXT NOT NULL,
    id        TEXT NOT NULL,
    path      TEXT NOT NULL,
    old_path  TEXT,
    PRIMARY KEY (store_key, seq)
);
CREATE TABLE sfmount.counters (
    store_key   TEXT PRIMARY KEY,
    journal_seq BIGINT NOT NULL
);
CREATE TABLE sfmount.describes (
    store_key     TEXT NOT NULL,
    key           TEXT NOT NULL,
    last_modified TEXT NOT NULL,
    body          BYTEA NOT NULL,
    PRIMARY KEY (store_key, key)
);
CREATE TABLE sfmount.document_chunks (
    store_key  TEXT NOT NULL,
    version_id TEXT NOT NULL,
    chunk      BIGINT NOT NULL,
    bytes      BYTEA NOT NULL,
    PRIMARY KEY (store_key, version_id, chunk)
);
CREATE TABLE sfmount.document_folders (
    store_key TEXT NOT NULL,
    object    TEXT NOT NULL,
    folders   TEXT NOT NULL,
    PRIMARY KEY (store_key, object)
);
CREATE TABLE sfmount.meta (
    store_key TEXT NOT NULL,
    key       TEXT NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (store_key, key)
);
CREATE TABLE sfmount.fleet_changes (
    seq       BIGSERIAL PRIMARY KEY,
    store_key TEXT NOT NULL,
    object    TEXT NOT NULL,
    records   TEXT NOT NULL,
    deleted   TEXT[] NOT NULL,
    refreshed TEXT[] NOT NULL,
    publisher TEXT NOT NULL,
    at        BIGINT NOT NULL,
    published TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX fleet_changes_by_key ON sfmount.fleet_changes (store_key, seq);
CREATE INDEX fleet_changes_by_age ON sfmount.fleet_changes (store_key, published);
";

/// From version `n` (index `n - 1`) to `n + 1`; none yet.
const MIGRATIONS: [&str; 0] = [];

/// The advisory lock held (for one transaction) while the schema is checked or changed:
/// one per database, whatever the store key.
const MIGRATION_LOCK: &str = "sfmount schema";

/// Brings the database to [`SCHEMA_VERSION`], or fails if it is newer than this build.
pub(super) fn migrate(conn: &mut Conn) -> Result<(), postgres::Error> {
    let key = xxhash_rust::xxh3::xxh3_64(MIGRATION_LOCK.as_bytes()) as i64;
    let mut transaction = conn.client.transaction()?;
    transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&key])?;
    transaction.batch_execute(
        "CREATE SCHEMA IF NOT EXISTS sfmount;
         CREATE TABLE IF NOT EXISTS sfmount.schema_version (version INTEGER NOT NULL);",
    )?;
    let version: Option<i32> = transaction
        .query_opt("SELECT version FROM sfmount.schema_version", &[])?
        .map(|row| row.get(0));
    match version {
        None => {
            transaction.batch_execute(SCHEMA_V1)?;
            transaction.execute(
                "INSERT INTO sfmount.schema_version (version) VALUES ($1)",
                &[&SCHEMA_VERSION],
            )?;
            tracing::info!(
                version = SCHEMA_VERSION,
                "created the sfmount tables in PostgreSQL"
            );
        }
        Some(SCHEMA_VERSION) => {}
        Some(older) if (1..SCHEMA_VERSION).contains(&older) => {
            for step in &MIGRATIONS[older as usize - 1..] {
                transaction.batch_execute(step)?;
            }
            transaction.execute(
                "UPDATE sfmount.schema_version SET version = $1",
                &[&SCHEMA_VERSION],
            )?;
            tracing::info!(
                from = older,
                to = SCHEMA_VERSION,
                "migrated the sfmount tables in PostgreSQL"
            );
        }
        Some(_newer) => {
            // Left for the caller to report: a newer build owns these tables.
            transaction.commit()?;
            return Ok(());
        }
    }
    transaction.commit()
}

/// The version the database says it has.
pub(super) fn version(conn: &mut Conn) -> Result<Option<i32>, postgres::Error> {
    Ok(conn
        .client
        .query_opt("SELECT version FROM sfmount.schema_version", &[])?
        .map(|row| row.get(0)))
}
