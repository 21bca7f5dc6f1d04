//! The store in one SQLite file: WAL, so a reader never waits for a writer's sync and a
//! crash (kill -9) leaves the last committed transaction; `synchronous = NORMAL`, which in
//! WAL mode loses at most the last transactions on power loss, never consistency (every
//! body is checked against its listing before it is served anyway).
//!
//! The file is 0600 in a 0700 folder: bodies are the org's data. A file that is not a
//! database, is corrupt, or has a schema this build does not know is renamed aside and a
//! fresh store started, so a damaged cache costs a re-read, never a failed mount.

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, ErrorCode};

use super::StoreError;

mod budget;
mod documents;
mod rows;

use budget::Usage;

/// The schema this build writes and reads, kept in `PRAGMA user_version`. Raise it with
/// every change of the tables below and say in [`MIGRATIONS`] how to get there; a store of
/// a newer version is set aside.
const SCHEMA_VERSION: i64 = 4;

/// Version 1: rendered bodies only.
const SCHEMA_V1: &str = "CREATE TABLE bodies (
    object TEXT NOT NULL,
    id     TEXT NOT NULL,
    format TEXT NOT NULL,
    body   BLOB NOT NULL,
    PRIMARY KEY (object, id, format)
);";

/// Version 2: listings, the journal, describes and the store's own facts. Times are
/// nanoseconds since the Unix epoch. A folder's files are read back in `rowid` order, which
/// is the order they were first written (an upsert keeps its row): the listing's order.
const SCHEMA_V2: &str = "CREATE TABLE folders (
    object       TEXT PRIMARY KEY,
    plan         TEXT NOT NULL,
    presentation TEXT NOT NULL,
    complete     INTEGER NOT NULL,
    watermark    INTEGER,
    refreshed_at INTEGER NOT NULL,
    changed_at   INTEGER NOT NULL
);
CREATE TABLE files (
    object   TEXT NOT NULL,
    id       TEXT NOT NULL,
    format   TEXT NOT NULL,
    name     TEXT NOT NULL,
    size     INTEGER NOT NULL,
    mtime    INTEGER NOT NULL,
    ctime    INTEGER NOT NULL,
    modstamp INTEGER,
    digest   INTEGER NOT NULL,
    PRIMARY KEY (object, id, format)
);
CREATE TABLE journal (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    at       INTEGER NOT NULL,
    kind     TEXT NOT NULL,
    object   TEXT NOT NULL,
    id       TEXT NOT NULL,
    path     TEXT NOT NULL,
    old_path TEXT
);
CREATE TABLE describes (
    key           TEXT PRIMARY KEY,
    last_modified TEXT NOT NULL,
    body          BLOB NOT NULL
);
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);";

/// Version 3: what the bound on body bytes (`max_cache_size`) needs. `used` is a logical
/// clock value (not a time: a clock set back must not make old bodies look new), raised
/// when a body is written and, in batches, when it is read; eviction takes the lowest
/// first. `body_bytes` is the running total of body lengths, kept by triggers so that every
/// way a body comes or goes (a batch, a listing's restart, a clear) counts without each
/// write path having to remember; checking the bound then costs one row, not a scan.
const SCHEMA_V3: &str = "ALTER TABLE bodies ADD COLUMN used INTEGER NOT NULL DEFAULT 0;
CREATE INDEX bodies_by_use ON bodies (used);
CREATE TABLE body_bytes (total INTEGER NOT NULL);
INSERT INTO body_bytes (total) SELECT COALESCE(SUM(LENGTH(body)), 0) FROM bodies;
CREATE TRIGGER body_added AFTER INSERT ON bodies
    BEGIN UPDATE body_bytes SET total = total + LENGTH(NEW.body); END;
CREATE TRIGGER body_removed AFTER DELETE ON bodies
    BEGIN UPDATE body_bytes SET total = total - LENGTH(OLD.body); END;
CREATE TRIGGER body_replaced AFTER UPDATE OF body ON bodies
    BEGIN UPDATE body_bytes SET total = total - LENGTH(OLD.body) + LENGTH(NEW.body); END;";

/// Version 4: each object's `.files` folders (one JSON text per object, written when they
/// change), and attached files' bytes in chunks (`sqlite/documents.rs`), keyed by the
/// ContentVersion Id, whose bytes never change. They count in the same byte total as
/// bodies (`body_bytes`, by the same kind of triggers) and carry the same `used` clock, so
/// one bound and one least-recently-used order covers both.
const SCHEMA_V4: &str = "CREATE TABLE document_chunks (
    version_id TEXT NOT NULL,
    chunk      INTEGER NOT NULL,
    bytes      BLOB NOT NULL,
    used       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (version_id, chunk)
);
CREATE INDEX document_chunks_by_use ON document_chunks (used);
CREATE TRIGGER chunk_added AFTER INSERT ON document_chunks
    BEGIN UPDATE body_bytes SET total = total + LENGTH(NEW.bytes); END;
CREATE TRIGGER chunk_removed AFTER DELETE ON document_chunks
    BEGIN UPDATE body_bytes SET total = total - LENGTH(OLD.bytes); END;
CREATE TABLE document_folders (
    object  TEXT PRIMARY KEY,
    folders TEXT NOT NULL
);";

/// From version `n` (index `n - 1`) to `n + 1`. Version 1 stores only had bodies, which
/// stay; their folders have no listing, so they are listed afresh on first use. Version 2
/// rows all stay; their bodies start as the least recently used. Version 3 stores gain
/// the empty chunk table.
const MIGRATIONS: [&str; 3] = [SCHEMA_V2, SCHEMA_V3, SCHEMA_V4];

/// Readers and the writer share one connection; a second process on the same store (not
/// supported, but possible by mistake) waits this long for a lock instead of failing at once.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The folder holds one org's data: only its owner may list or enter it.
pub(super) const FOLDER_MODE: u32 = 0o700;
/// The database and its `-wal` and `-shm` files (SQLite gives them the database's mode).
const FILE_MODE: u32 = 0o600;

/// A store in one SQLite file.
pub struct SqliteStore {
    path: PathBuf,
    connection: Mutex<Connection>,
    /// The bound on body bytes and the reads not yet written to `used` (locked after
    /// `connection`, never before it).
    usage: Mutex<Usage>,
}

/// Why an existing file cannot be used as this build's store.
enum Unusable {
    Unreadable(String),
    Failed(rusqlite::Error),
}

impl SqliteStore {
    /// Opens the store at `path`, creating it and its folder if needed. An unreadable file
    /// is renamed to `<name>.unreadable-<unix seconds>` (with a warning) and replaced.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        prepare_folder(path)?;
        let connection = match open_connection(path) {
            Ok(connection) => connection,
            Err(Unusable::Failed(source)) => return Err(sqlite_error(path, source)),
            Err(Unusable::Unreadable(reason)) => {
                let aside = set_aside(path, &reason)?;
                tracing::warn!(
                    store = %path.display(),
                    set_aside = %aside.display(),
                    reason = %reason,
                    "the local store was unreadable; it was set aside and a new one started"
                );
                open_connection(path).map_err(|unusable| match unusable {
                    Unusable::Failed(source) => sqlite_error(path, source),
                    Unusable::Unreadable(reason) => StoreError::Unreadable {
                        path: path.to_path_buf(),
                        reason,
                    },
                })?
            }
        };
        let usage = Usage::load(&connection).map_err(|source| sqlite_error(path, source))?;
        Ok(SqliteStore {
            path: path.to_path_buf(),
            connection: Mutex::new(connection),
            usage: Mutex::new(usage),
        })
    }

    /// Opens an existing store to look at it (`sfmount cache info`): read-only, so it never
    /// creates, migrates or sets aside a file, and a running mount may keep writing. Stores
    /// of schema 2 and later can be read; the version is [`SqliteStore::schema_version`].
    pub fn open_read_only(path: &Path) -> Result<SqliteStore, StoreError> {
        use rusqlite::OpenFlags;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let connection = Connection::open_with_flags(read_only_uri(path), flags)
            .map_err(|source| sqlite_error(path, source))?;
        connection
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(|source| sqlite_error(path, source))?;
        let store = SqliteStore {
            path: path.to_path_buf(),
            connection: Mutex::new(connection),
            usage: Mutex::new(Usage::read_only()),
        };
        match store.schema_version()? {
            version if (2..=SCHEMA_VERSION).contains(&version) => Ok(store),
            other => Err(StoreError::Unreadable {
                path: path.to_path_buf(),
                reason: format!(
                    "schema version {other}; this sfmount shows versions 2 to {SCHEMA_VERSION}"
                ),
            }),
        }
    }

    /// The schema version the file says it has (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.with(|connection| connection.query_row("PRAGMA user_version", [], |row| row.get(0)))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn error(&self, source: rusqlite::Error) -> StoreError {
        sqlite_error(&self.path, source)
    }

    /// Runs `work` on the connection, with this store's path in any error.
    fn with<T>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, rusqlite::Error>,
    ) -> Result<T, StoreError> {
        work(&mut crate::sync::lock(&self.connection)).map_err(|source| self.error(source))
    }
}

/// How to open `path` for looking only. Even a read-only connection to a WAL database
/// creates its `-wal` and `-shm` files (and, being read-only, leaves them behind). When no
/// mount holds the store and there is no `-wal` (the last writer closed cleanly), nothing
/// can be changing it, so it is opened `immutable`, which touches no other file. Otherwise
/// those files exist already, and SQLite's own locking keeps the read consistent with the
/// writer. (A mount starting in the instant of the read could make that one read fail;
/// `cache info` then shows the store as unreadable, and running it again shows it.)
fn read_only_uri(path: &Path) -> String {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let quiet = !Path::new(&wal).exists() && matches!(super::lock_holder(path), Ok(None));
    let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    match url::Url::from_file_path(&absolute) {
        Ok(url) if quiet => format!("{url}?immutable=1"),
        Ok(url) => url.to_string(),
        // Not absolute even now (canonicalize failed): SQLite reads it as a plain path.
        Err(()) => path.to_string_lossy().into_owned(),
    }
}

fn sqlite_error(path: &Path, source: rusqlite::Error) -> StoreError {
    StoreError::Sqlite {
        path: path.to_path_buf(),
        source,
    }
}

/// Creates the store's folder (0700) and the database file (0600) before SQLite opens it,
/// so the file is never readable by others, not even for a moment.
fn prepare_folder(path: &Path) -> Result<(), StoreError> {
    let folder = path.parent().unwrap_or(Path::new("."));
    let folder_error = |source| StoreError::Folder {
        path: folder.to_path_buf(),
        source,
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(FOLDER_MODE)
        .create(folder)
        .map_err(folder_error)?;
    // A folder that existed already keeps its mode otherwise.
    std::fs::set_permissions(folder, std::fs::Permissions::from_mode(FOLDER_MODE))
        .map_err(folder_error)?;
    let file_error = |source| StoreError::Folder {
        path: path.to_path_buf(),
        source,
    };
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(FILE_MODE)
        .open(path)
        .map_err(file_error)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(FILE_MODE)).map_err(file_error)
}

/// Opens the file and brings it to this build's schema, or says why it cannot be used.
fn open_connection(path: &Path) -> Result<Connection, Unusable> {
    let connection = Connection::open(path).map_err(classify)?;
    connection
        .busy_timeout(BUSY_TIMEOUT)
        .map_err(Unusable::Failed)?;
    // The first statement reads the header: a file that is not a database fails here.
    let mode: String = connection
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(classify)?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(store = %path.display(), mode = %mode, "the local store is not in WAL mode");
    }
    connection
        .pragma_update(None, "synchronous", "NORMAL")
        .map_err(classify)?;
    // A body replaced by `INSERT OR REPLACE` is deleted by SQLite itself, and only with
    // this on do the delete triggers that keep `body_bytes` see it.
    connection
        .pragma_update(None, "recursive_triggers", "ON")
        .map_err(classify)?;
    let version: i64 = connection
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(classify)?;
    match version {
        0 => {
            connection
                .execute_batch(&format!(
                    "BEGIN; {SCHEMA_V1} {SCHEMA_V2} {SCHEMA_V3} {SCHEMA_V4} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
                ))
                .map_err(classify)?;
        }
        SCHEMA_VERSION => {}
        older if (1..SCHEMA_VERSION).contains(&older) => {
            let steps: String = MIGRATIONS[older as usize - 1..].concat();
            connection
                .execute_batch(&format!(
                    "BEGIN; {steps} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
                ))
                .map_err(classify)?;
            tracing::info!(
                store = %path.display(),
                from = older,
                to = SCHEMA_VERSION,
                "the local store was migrated to this version's schema"
            );
        }
        other => {
            return Err(Unusable::Unreadable(format!(
                "schema version {other}, this sfmount reads {SCHEMA_VERSION}"
            )))
        }
    }
    Ok(connection)
}

/// A damaged or foreign file is unreadable (set aside); anything else (a full disk, no
/// permission) is a plain failure, reported as it is.
fn classify(error: rusqlite::Error) -> Unusable {
    match error.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
            Unusable::Unreadable(error.to_string())
        }
        _ => Unusable::Failed(error),
    }
}

/// Renames the unreadable store (and drops its `-wal` and `-shm`, which belong to it) so a
/// fresh one can start; the old file stays for a person to inspect or delete.
fn set_aside(path: &Path, reason: &str) -> Result<PathBuf, StoreError> {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let mut aside = path.as_os_str().to_owned();
    aside.push(format!(".unreadable-{seconds}"));
    let aside = PathBuf::from(aside);
    std::fs::rename(path, &aside).map_err(|source| StoreError::SetAside {
        path: path.to_path_buf(),
        reason: reason.to_string(),
        source,
    })?;
    for suffix in ["-wal", "-shm"] {
        let mut companion = path.as_os_str().to_owned();
        companion.push(suffix);
        // Absent companions are the normal case.
        let _ = std::fs::remove_file(PathBuf::from(companion));
    }
    prepare_folder(path)?;
    Ok(aside)
}

#[cfg(test)]
mod tests;
