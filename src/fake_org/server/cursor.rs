//! Query locators (server-side cursors): `01g` Ids that name the rest of a query's rows.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::fake_org::soql::Execution;
use crate::sfid;

/// A cursor left idle this long is gone, as on a real org (about 15 minutes).
pub const CURSOR_IDLE_TTL: Duration = Duration::from_secs(15 * 60);

/// Open top-level query cursors kept at once; opening one more releases the least recently
/// used. A real org allows 10 per user; every client of the fake shares one integration
/// user and tests run several paginations side by side, so we allow 50.
pub const MAX_OPEN_CURSORS: usize = 50;
/// Open cursors of cut child subquery lists, kept apart so that a page full of long child
/// lists cannot evict the query cursors: one per parent row of a full 2,000-row page.
pub const MAX_OPEN_CHILD_CURSORS: usize = 2000;

/// The 3-character "pod" part of locator Ids, like the instance code of real Ids.
const LOCATOR_POD: &str = "FK0";

/// The rows a cursor walks through.
#[derive(Clone)]
pub(crate) enum CursorRows {
    /// A top-level query: the ordered Ids it matched, projected page by page.
    Query {
        execution: Arc<Execution>,
        include_deleted: bool,
    },
    /// A child subquery list already projected with its parent page.
    Rows(Arc<Vec<Value>>),
}

impl CursorRows {
    pub fn len(&self) -> usize {
        match self {
            CursorRows::Query { execution, .. } => execution.ids.len(),
            CursorRows::Rows(rows) => rows.len(),
        }
    }

    fn is_child_list(&self) -> bool {
        matches!(self, CursorRows::Rows(_))
    }
}

struct Cursor {
    rows: CursorRows,
    batch_size: usize,
    last_used: Instant,
}

#[derive(Default)]
pub(crate) struct CursorTable {
    cursors: HashMap<String, Cursor>,
    next_sequence: u64,
}

/// A parsed `01g...-OFFSET` locator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Locator {
    pub id: String,
    pub offset: usize,
}

impl Locator {
    /// Parses the last path segment of a `nextRecordsUrl`.
    pub fn parse(text: &str) -> Option<Locator> {
        let (id, offset) = text.rsplit_once('-')?;
        let id_ok = id.len() == 18 && id.starts_with("01g") && sfid::is_valid_18(id);
        let offset = offset.parse::<usize>().ok()?;
        id_ok.then(|| Locator {
            id: id.to_string(),
            offset,
        })
    }
}

impl CursorTable {
    /// Files a new cursor and returns its 18-character locator Id.
    pub fn open(&mut self, rows: CursorRows, batch_size: usize, now: Instant) -> String {
        self.drop_expired(now);
        let child = rows.is_child_list();
        let cap = if child {
            MAX_OPEN_CHILD_CURSORS
        } else {
            MAX_OPEN_CURSORS
        };
        let same_pool = |c: &Cursor| c.rows.is_child_list() == child;
        let mut open = self.cursors.values().filter(|c| same_pool(c)).count();
        while open >= cap {
            let oldest = self
                .cursors
                .iter()
                .filter(|(_, c)| same_pool(c))
                .min_by_key(|(_, c)| c.last_used)
                .map(|(id, _)| id.clone());
            match oldest {
                Some(id) => {
                    self.cursors.remove(&id);
                    open -= 1;
                }
                None => break,
            }
        }
        self.next_sequence += 1;
        // Spread sequence numbers so consecutive locators do not look like neighbours.
        let id = sfid::make_id("01g", LOCATOR_POD, self.next_sequence * 7919 + 1_000_003);
        self.cursors.insert(
            id.clone(),
            Cursor {
                rows,
                batch_size,
                last_used: now,
            },
        );
        id
    }

    /// The rows and batch size behind a locator, if it is still open and the offset is inside it.
    pub fn resume(&mut self, locator: &Locator, now: Instant) -> Option<(CursorRows, usize)> {
        self.drop_expired(now);
        let cursor = self.cursors.get_mut(&locator.id)?;
        if locator.offset >= cursor.rows.len() {
            return None;
        }
        cursor.last_used = now;
        Some((cursor.rows.clone(), cursor.batch_size))
    }

    /// Releases a cursor whose last row has been served: it is used up.
    pub fn close(&mut self, id: &str) {
        self.cursors.remove(id);
    }

    /// Closes every cursor (a fault: the org dropped them).
    pub fn close_all(&mut self) {
        self.cursors.clear();
    }

    pub fn open_count(&self) -> usize {
        self.cursors.len()
    }

    fn drop_expired(&mut self, now: Instant) {
        self.cursors
            .retain(|_, c| now.saturating_duration_since(c.last_used) < CURSOR_IDLE_TTL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(n: usize) -> CursorRows {
        CursorRows::Rows(Arc::new((0..n).map(|i| Value::from(i as u64)).collect()))
    }

    fn query_rows() -> CursorRows {
        use crate::fake_org::soql::{execute, ExecOptions};
        use crate::fake_org::store::{GenerateOptions, Store};
        let store = Store::generate(&GenerateOptions {
            records: 5,
            seed: 1,
        });
        let opts = ExecOptions {
            include_deleted: false,
            api_version: "59.0",
        };
        let execution = execute("SELECT Id FROM User", &store, &opts).expect("query runs");
        CursorRows::Query {
            execution: Arc::new(execution),
            include_deleted: false,
        }
    }

    #[test]
    fn locator_round_trips_and_rejects_garbage() {
        let mut table = CursorTable::default();
        let id = table.open(rows(10), 2000, Instant::now());
        assert!(id.starts_with("01g") && id.len() == 18, "{id}");
        let loc = Locator::parse(&format!("{id}-2000")).expect("parses");
        assert_eq!(loc.offset, 2000);
        assert_eq!(loc.id, id);
        for bad in [
            "",
            "-",
            "01g-2000",
            &format!("{id}-x"),
            &format!("{id}2000"),
            "001000000000000AAA-5",
        ] {
            assert_eq!(Locator::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn cursors_expire_when_idle_and_beyond_their_rows() {
        let mut table = CursorTable::default();
        let t0 = Instant::now();
        let id = table.open(rows(10), 2000, t0);
        let at = |offset| Locator {
            id: id.clone(),
            offset,
        };
        assert!(table.resume(&at(5), t0).is_some());
        assert!(table.resume(&at(10), t0).is_none(), "offset past the end");
        let later = t0 + CURSOR_IDLE_TTL - Duration::from_secs(1);
        assert!(
            table.resume(&at(5), later).is_some(),
            "use refreshes idle time"
        );
        assert!(table.resume(&at(5), later + CURSOR_IDLE_TTL).is_none());
    }

    #[test]
    fn opening_past_the_cap_evicts_the_least_recently_used() {
        let mut table = CursorTable::default();
        let query = query_rows();
        let t0 = Instant::now();
        let first = table.open(query.clone(), 2000, t0);
        let second = table.open(query.clone(), 2000, t0 + Duration::from_millis(1));
        // Touch the first so the second becomes the oldest.
        let at = |id: &str| Locator {
            id: id.to_string(),
            offset: 0,
        };
        assert!(table
            .resume(&at(&first), t0 + Duration::from_millis(2))
            .is_some());
        for i in 0..MAX_OPEN_CURSORS - 1 {
            table.open(
                query.clone(),
                2000,
                t0 + Duration::from_millis(3 + i as u64),
            );
        }
        assert_eq!(table.open_count(), MAX_OPEN_CURSORS);
        let now = t0 + Duration::from_secs(1);
        assert!(table.resume(&at(&second), now).is_none(), "evicted");
        assert!(table.resume(&at(&first), now).is_some());
    }

    #[test]
    fn child_list_cursors_do_not_evict_query_cursors() {
        let mut table = CursorTable::default();
        let t0 = Instant::now();
        let query = table.open(query_rows(), 2000, t0);
        for i in 0..MAX_OPEN_CHILD_CURSORS + 10 {
            table.open(rows(3), 2000, t0 + Duration::from_millis(1 + i as u64));
        }
        let at = Locator {
            id: query,
            offset: 0,
        };
        assert!(table.resume(&at, t0 + Duration::from_secs(5)).is_some());
        assert_eq!(table.open_count(), MAX_OPEN_CHILD_CURSORS + 1);
    }
}
