//! One database session that comes back by itself: opened on first use, and when a call
//! finds it lost (the server restarted, the backend was terminated, the network dropped)
//! it is opened again and the call retried once. While the server stays out of reach,
//! calls fail at once for a short pause instead of each waiting out a connection attempt:
//! the index then serves from memory, and a filesystem call never waits on a dead server.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

use postgres::error::SqlState;
use postgres::{Client, Statement};

use super::link::Link;
use crate::index::store::StoreError;

/// After a failed connection attempt, calls within this pause fail at once with that
/// failure. Short, so a restarted server is found again within a second or two of being
/// back; long enough that a burst of reads does not queue one connect timeout each.
const RECONNECT_PAUSE: Duration = Duration::from_secs(1);

/// A live connection and the statements prepared on it (a prepared statement saves a
/// round trip per call, and belongs to the connection it was prepared on).
pub(super) struct Conn {
    pub(super) client: Client,
    statements: HashMap<&'static str, Statement>,
}

impl Conn {
    /// `sql` prepared on this connection (once per connection).
    pub(super) fn statement(&mut self, sql: &'static str) -> Result<Statement, postgres::Error> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }
}

#[derive(Default)]
struct Slot {
    conn: Option<Conn>,
    /// When the last attempt to connect failed, and how (shown again during the pause).
    failed: Option<(Instant, String)>,
}

/// A session used by one caller at a time.
#[derive(Default)]
pub(super) struct Session {
    slot: Mutex<Slot>,
}

impl Session {
    pub(super) fn new() -> Session {
        Session::default()
    }
}

/// Sessions for the store's reads and writes: a call takes the first idle one, so reads
/// from several threads (the kernel asks in parallel) do not queue behind each other,
/// and opens another connection only when the ones open are all busy.
pub(super) struct Sessions {
    sessions: Vec<Session>,
    /// Whom to wait for when all are busy (round robin).
    next: AtomicUsize,
}

/// Sessions per store for reads and writes: with the lead's and the listener's, a mount
/// opens at most five connections (plus one per listing lock held), so twenty mounts fit
/// in PostgreSQL's default `max_connections` of 100.
const SESSIONS: usize = 3;

impl Default for Sessions {
    fn default() -> Sessions {
        Sessions {
            sessions: (0..SESSIONS).map(|_| Session::new()).collect(),
            next: AtomicUsize::new(0),
        }
    }
}

impl Sessions {
    /// Runs `work` on an idle session (or, all busy, waits for one); see [`run`].
    pub(super) fn with<T>(
        &self,
        link: &Link,
        what: &'static str,
        mut work: impl FnMut(&mut Conn) -> Result<T, postgres::Error> + Send,
    ) -> Result<T, StoreError>
    where
        T: Send,
    {
        off_runtime(|| {
            let idle = self
                .sessions
                .iter()
                .find_map(|session| match session.slot.try_lock() {
                    Ok(slot) => Some(slot),
                    Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
                    Err(TryLockError::WouldBlock) => None,
                });
            let slot = idle.unwrap_or_else(|| {
                let turn = self.next.fetch_add(1, Ordering::Relaxed) % self.sessions.len();
                crate::sync::lock(&self.sessions[turn].slot)
            });
            run(slot, link, what, &mut work)
        })
    }
}

/// Runs `work` on `slot`'s connection, connecting first if needed; if it fails because
/// the connection was lost, reconnects and runs it once more. `work` may run twice, so a
/// transaction inside it is begun anew each time (an interrupted one was rolled back).
fn run<T>(
    mut slot: MutexGuard<'_, Slot>,
    link: &Link,
    what: &'static str,
    work: &mut (impl FnMut(&mut Conn) -> Result<T, postgres::Error> + Send),
) -> Result<T, StoreError> {
    for attempt in 0..2 {
        let conn = slot.connect(link, what)?;
        match work(conn) {
            Ok(value) => return Ok(value),
            Err(error) if attempt == 0 && is_lost(&error, &conn.client) => {
                tracing::info!(
                    target_db = %link.shown(),
                    error = %super::error_chain(&error),
                    "the PostgreSQL session was lost; reconnecting"
                );
                slot.conn = None;
            }
            Err(error) => {
                if is_lost(&error, &conn.client) {
                    slot.conn = None;
                }
                return Err(link.error(what, error));
            }
        }
    }
    unreachable!("the second attempt returns")
}

impl Slot {
    fn connect(&mut self, link: &Link, what: &'static str) -> Result<&mut Conn, StoreError> {
        if self
            .conn
            .as_ref()
            .is_some_and(|conn| conn.client.is_closed())
        {
            self.conn = None;
        }
        if self.conn.is_none() {
            if let Some((at, reason)) = &self.failed {
                if at.elapsed() < RECONNECT_PAUSE {
                    return Err(StoreError::PostgresUnusable {
                        target: link.shown().to_string(),
                        reason: format!("{what}: out of reach ({reason})"),
                    });
                }
            }
            match link.open() {
                Ok(client) => {
                    self.failed = None;
                    self.conn = Some(Conn {
                        client,
                        statements: HashMap::new(),
                    });
                }
                Err(error) => {
                    self.failed = Some((Instant::now(), super::error_chain(&error)));
                    return Err(link.error(what, error));
                }
            }
        }
        Ok(self.conn.as_mut().expect("connected above"))
    }
}

/// Runs `work` where the driver may block: the `postgres` crate drives each connection
/// with a runtime of its own, which panics when started inside another runtime. The index
/// calls the store from async listing tasks too, so there `work` runs on a scoped thread
/// of its own (the caller blocks meanwhile, as it does on SQLite); elsewhere it runs here.
pub(super) fn off_runtime<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    if tokio::runtime::Handle::try_current().is_err() {
        return work();
    }
    std::thread::scope(|scope| match scope.spawn(work).join() {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

/// Whether `error` means the session is gone (so a new one may succeed), as opposed to a
/// statement that failed on a live session.
pub(super) fn is_lost(error: &postgres::Error, client: &Client) -> bool {
    if error.is_closed() || client.is_closed() {
        return true;
    }
    match error.code() {
        // The server is shutting down or restarting, or an administrator ended the backend.
        Some(code) => [
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CRASH_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
        ]
        .contains(code),
        // No SQL state: lost only if the socket failed (not, say, a value that did not
        // decode, which would fail again).
        None => std::error::Error::source(error).is_some_and(|cause| cause.is::<std::io::Error>()),
    }
}
