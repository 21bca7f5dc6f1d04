//! One inode number per version of a file: the kernel's inode is the unit of its caches (the
//! size `fstat` shows, the pages every open shares), so a file whose bytes change gets a
//! new inode number instead of new bytes under the old one.
//!
//! Why: the kernel keeps one size and one page cache per inode for every open file of it.
//! If a record's bytes changed under the same inode, a reader that opened the old version
//! would read its bytes cut at the new size, or pages of the new version, while `fstat`
//! showed whichever size was asked last. With an inode per version nothing the kernel
//! caches about an inode is ever wrong, so attributes and pages may be kept as long as the
//! kernel likes; a change is a new name → inode binding, which the refresher tells the
//! kernel to forget (`inval_entry`).
//!
//! A record's first version keeps the index's inode number (so numbers stay stable while
//! nothing changes); later versions, and every version of a generated status file, take
//! numbers from [`VERSION_INO_BASE`] up. A version is kept while the kernel holds it
//! (lookups minus forgets) and dropped at its last forget.
//!
//! Bytes: reads may come by inode with no open handle (no-open mode), so the bytes of a
//! record version read lately are kept here ([`RecentBytes`]). The current version's bytes
//! can always be had from the index again, so those are evicted freely; when a version is
//! replaced while the kernel still holds it, its bytes (if read lately) move to the
//! replaced versions' store, kept until the kernel forgets the inode, since nothing else
//! can give them back. That store is bounded too ([`REPLACED_BYTES`]).

use crate::sync::lock;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use super::retained::RecentBytes;
use super::Attr;
use crate::index::FileEntry;

/// Bytes of replaced versions kept for the kernel. A replaced version is held by the
/// kernel only while a file of it is open or its name's invalidation is pending (the
/// refresher sends it at once), so this holds what open files need many times over; past
/// it the oldest replaced versions lose their bytes, and a read of one that is not in the
/// kernel's page cache answers ESTALE rather than another version's bytes.
pub const REPLACED_BYTES: usize = 64 << 20;

/// Inode numbers of second and later versions start here. The index's record numbers are
/// `(folder + 1) << 40 | seq`, which reach `1 << 62` only past 2^22 mounted objects (an org
/// has thousands), and the filesystem's own numbers are far below.
pub const VERSION_INO_BASE: u64 = 1 << 62;

/// Which file a version is a version of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKey {
    /// A record file, by its index inode number.
    Record(u64),
    /// A folder's `.sobject.json`.
    Sobject(usize),
    /// The root's `.sfmount-status.json`.
    Status,
    /// The root's `.sfmount-requests.json`.
    Requests,
    /// The root's `.sfmount-changes.jsonl`.
    Changes,
}

/// Where a version's bytes come from.
#[derive(Clone)]
pub enum Content {
    /// The index holds the current version's body (the one with this digest); the bytes
    /// read lately are kept by the table.
    Record {
        folder: usize,
        index_ino: u64,
        digest: u64,
    },
    /// Generated when looked up (status files): the bytes are part of the version.
    Generated(Arc<[u8]>),
}

struct Version {
    key: FileKey,
    attr: Attr,
    content: Content,
    /// Lookups the kernel holds (each lookup reply and readdirplus entry is one).
    lookups: u64,
    /// A replaced version's bytes, kept until the kernel forgets it.
    replaced: Option<Arc<[u8]>>,
}

struct Table {
    versions: HashMap<u64, Version>,
    /// The newest version of each file handed to the kernel.
    current: HashMap<FileKey, u64>,
    next: u64,
    /// Bytes of current record versions read lately.
    recent: RecentBytes,
    /// Replaced versions holding bytes, oldest first (an entry may have been forgotten
    /// since; it is skipped then).
    replaced_order: VecDeque<u64>,
    /// Replaced versions holding bytes, and those bytes.
    replaced_count: usize,
    replaced_bytes: usize,
}

pub struct Versions {
    table: Mutex<Table>,
}

impl Default for Versions {
    fn default() -> Self {
        Versions::new(super::retained::RECENT_BYTES)
    }
}

impl Table {
    fn allocate(&mut self, preferred: Option<u64>) -> u64 {
        if let Some(ino) = preferred.filter(|ino| !self.versions.contains_key(ino)) {
            return ino;
        }
        let ino = VERSION_INO_BASE + self.next;
        self.next += 1;
        ino
    }

    /// The inode of `key`'s version for which `same` holds, or a new one made by `make`.
    fn version_of(
        &mut self,
        key: FileKey,
        counted: bool,
        preferred: Option<u64>,
        same: impl Fn(&Version) -> bool,
        make: impl FnOnce() -> (Attr, Content),
    ) -> Attr {
        if let Some(version) = self
            .current
            .get(&key)
            .and_then(|ino| self.versions.get_mut(ino))
            .filter(|version| same(version))
        {
            version.lookups += u64::from(counted);
            return version.attr;
        }
        // The version replaced: dropped now if the kernel holds no lookup of it (listed by
        // a plain readdir only), since no forget will ever come for it; else its bytes are
        // kept until its forget.
        let previous = self.current.get(&key).copied();
        if let Some(previous) = previous {
            if self.versions.get(&previous).is_some_and(|v| v.lookups == 0) {
                self.remove(previous);
            } else {
                self.keep_replaced(previous);
            }
        }
        // Only a file's first version (or the first after the kernel forgot them all) takes
        // the preferred number, so no number ever names two versions the kernel could mix.
        let ino = self.allocate(preferred.filter(|_| previous.is_none()));
        let (mut attr, content) = make();
        attr.ino = ino;
        self.versions.insert(
            ino,
            Version {
                key,
                attr,
                content,
                lookups: u64::from(counted),
                replaced: None,
            },
        );
        self.current.insert(key, ino);
        attr
    }

    /// Moves a replaced version's recent bytes to the replaced store, within its bound.
    fn keep_replaced(&mut self, ino: u64) {
        let Some(bytes) = self.recent.remove(ino) else {
            return;
        };
        let Some(version) = self.versions.get_mut(&ino) else {
            return;
        };
        self.replaced_bytes += bytes.len();
        self.replaced_count += 1;
        version.replaced = Some(bytes);
        self.replaced_order.push_back(ino);
        while self.replaced_bytes > REPLACED_BYTES {
            let Some(oldest) = self.replaced_order.pop_front() else {
                break;
            };
            if let Some(bytes) = self
                .versions
                .get_mut(&oldest)
                .and_then(|v| v.replaced.take())
            {
                self.replaced_bytes -= bytes.len();
                self.replaced_count -= 1;
            }
        }
        // Forgotten versions leave their numbers behind; drop those once they dominate.
        if self.replaced_order.len() > 64 && self.replaced_order.len() > 2 * self.replaced_count {
            let versions = &self.versions;
            self.replaced_order
                .retain(|ino| versions.get(ino).is_some_and(|v| v.replaced.is_some()));
        }
    }

    /// Drops a version and every byte kept for it.
    fn remove(&mut self, ino: u64) {
        self.recent.remove(ino);
        if let Some(version) = self.versions.remove(&ino) {
            if let Some(bytes) = version.replaced {
                self.replaced_bytes -= bytes.len();
                self.replaced_count -= 1;
            }
            if self.current.get(&version.key) == Some(&ino) {
                self.current.remove(&version.key);
            }
        }
    }
}

impl Versions {
    /// A table keeping at most `recent_budget` bytes of current versions read lately.
    pub fn new(recent_budget: usize) -> Versions {
        Versions {
            table: Mutex::new(Table {
                versions: HashMap::new(),
                current: HashMap::new(),
                next: 0,
                recent: RecentBytes::new(recent_budget),
                replaced_order: VecDeque::new(),
                replaced_count: 0,
                replaced_bytes: 0,
            }),
        }
    }

    /// Drops the bytes kept of current versions (the index can give them again); a replaced
    /// version's are kept, since nothing else can.
    #[cfg(any(test, feature = "testing"))]
    pub fn clear_recent(&self) {
        lock(&self.table).recent.clear();
    }

    /// The attributes (with the version's inode number) of the record file `entry` names,
    /// counting a kernel lookup when `counted`. `None` when `entry` would replace the
    /// version handed out but `is_current` (asked under the table's lock) says the index
    /// has moved past it: a caller that read the listing before a change must not bring
    /// back a version a racing lookup already replaced.
    pub fn record(
        &self,
        folder: usize,
        entry: &FileEntry,
        attr: Attr,
        counted: bool,
        is_current: impl FnOnce() -> bool,
    ) -> Option<Attr> {
        let mut table = lock(&self.table);
        let same = |version: &Version| {
            matches!(version.content, Content::Record { digest, .. } if digest == entry.digest)
                && version.attr.size == entry.size
                && version.attr.mtime == entry.mtime
        };
        let handed_out = table
            .current
            .get(&FileKey::Record(entry.ino))
            .and_then(|ino| table.versions.get(ino));
        if handed_out.is_some_and(|version| !same(version)) && !is_current() {
            return None;
        }
        Some(table.version_of(
            FileKey::Record(entry.ino),
            counted,
            Some(entry.ino),
            same,
            || {
                (
                    attr,
                    Content::Record {
                        folder,
                        index_ino: entry.ino,
                        digest: entry.digest,
                    },
                )
            },
        ))
    }

    /// The attributes of a generated file whose bytes are now `bytes` (a new version when
    /// they differ from the last ones handed out).
    pub fn generated(
        &self,
        key: FileKey,
        bytes: impl Into<Arc<[u8]>>,
        attr: Attr,
        counted: bool,
    ) -> Attr {
        let bytes: Arc<[u8]> = bytes.into();
        let mut table = lock(&self.table);
        table.version_of(
            key,
            counted,
            None,
            |version| matches!(&version.content, Content::Generated(held) if **held == *bytes),
            || (attr, Content::Generated(bytes.clone())),
        )
    }

    /// The version's attributes and content, if the kernel may still name it.
    pub fn get(&self, ino: u64) -> Option<(Attr, Content)> {
        let table = lock(&self.table);
        let version = table.versions.get(&ino)?;
        Some((version.attr, version.content.clone()))
    }

    /// The bytes kept for version `ino`: a generated file's, or a record version's read
    /// lately or kept since it was replaced.
    pub fn bytes(&self, ino: u64) -> Option<Arc<[u8]>> {
        let mut table = lock(&self.table);
        let version = table.versions.get(&ino)?;
        match (&version.content, &version.replaced) {
            (Content::Generated(bytes), _) | (_, Some(bytes)) => Some(bytes.clone()),
            (Content::Record { .. }, None) => table.recent.get(ino),
        }
    }

    /// Keeps the bytes of record version `ino` just read from the index (the caller checked
    /// they are that version's), so later reads of it share them.
    pub fn keep(&self, ino: u64, bytes: &Arc<[u8]>) {
        let mut table = lock(&self.table);
        if matches!(
            table.versions.get(&ino),
            Some(Version {
                content: Content::Record { .. },
                replaced: None,
                ..
            })
        ) {
            table.recent.insert(ino, bytes.clone());
        }
    }

    /// Bytes kept for the kernel now: recent (current versions) and replaced versions.
    pub fn kept_bytes(&self) -> (usize, usize) {
        let table = lock(&self.table);
        (table.recent.bytes(), table.replaced_bytes)
    }

    /// The kernel dropped `count` lookups of `ino`; at zero the version is forgotten.
    pub fn forget(&self, ino: u64, count: u64) {
        let mut table = lock(&self.table);
        let Some(version) = table.versions.get_mut(&ino) else {
            return;
        };
        version.lookups = version.lookups.saturating_sub(count);
        if version.lookups == 0 {
            table.remove(ino);
        }
    }

    /// Versions the kernel may still name (tests and the request counter).
    pub fn len(&self) -> usize {
        lock(&self.table).versions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::NodeKind;
    use crate::render::FileFormat;
    use std::time::SystemTime;

    fn entry(digest: u64, size: u64) -> FileEntry {
        FileEntry {
            ino: (1 << 40) | 7,
            name: "Acme [001].json".into(),
            id: "001".into(),
            format: FileFormat::Json,
            size,
            mtime: SystemTime::UNIX_EPOCH,
            ctime: SystemTime::UNIX_EPOCH,
            modstamp: None,
            digest,
        }
    }

    fn attr(entry: &FileEntry) -> Attr {
        Attr {
            ino: entry.ino,
            kind: NodeKind::File,
            size: entry.size,
            mtime: entry.mtime,
            ctime: entry.ctime,
            perm: 0o444,
            nlink: 1,
        }
    }

    #[test]
    fn a_new_version_gets_a_new_inode_and_the_old_one_lives_until_forgotten() {
        let versions = Versions::default();
        let first = entry(1, 10);
        let a = versions
            .record(0, &first, attr(&first), true, || true)
            .unwrap();
        assert_eq!(
            a.ino, first.ino,
            "the first version keeps the index's number"
        );
        assert_eq!(
            versions
                .record(0, &first, attr(&first), true, || true)
                .unwrap()
                .ino,
            a.ino
        );

        let second = entry(2, 12);
        let b = versions
            .record(0, &second, attr(&second), true, || true)
            .unwrap();
        assert!(b.ino >= VERSION_INO_BASE);
        assert_eq!(b.size, 12);
        // The old version still answers with its own size.
        assert_eq!(versions.get(a.ino).unwrap().0.size, 10);

        versions.forget(a.ino, 1);
        assert!(versions.get(a.ino).is_some(), "one lookup still held");
        versions.forget(a.ino, 1);
        assert!(versions.get(a.ino).is_none());
        versions.forget(b.ino, 1);
        assert!(versions.is_empty());
        // Forgotten by the kernel, the number is free again for the current version.
        assert_eq!(
            versions
                .record(0, &second, attr(&second), true, || true)
                .unwrap()
                .ino,
            first.ino
        );
    }

    #[test]
    fn generated_files_get_a_version_per_content() {
        let versions = Versions::default();
        let e = entry(0, 3);
        let a = versions.generated(FileKey::Status, b"abc".to_vec(), attr(&e), true);
        let same = versions.generated(FileKey::Status, b"abc".to_vec(), attr(&e), true);
        let other = versions.generated(FileKey::Status, b"abd".to_vec(), attr(&e), true);
        assert_eq!(a.ino, same.ino);
        assert_ne!(a.ino, other.ino);
        assert!(matches!(versions.get(a.ino), Some((_, Content::Generated(b))) if &*b == b"abc"));
    }

    #[test]
    fn a_replaced_version_keeps_its_bytes_until_forgotten() {
        let versions = Versions::new(1 << 20);
        let first = entry(1, 3);
        let a = versions
            .record(0, &first, attr(&first), true, || true)
            .unwrap();
        versions.keep(a.ino, &Arc::from(&b"old"[..]));
        assert_eq!(versions.kept_bytes(), (3 + 128, 0));
        let second = entry(2, 5);
        let b = versions
            .record(0, &second, attr(&second), true, || true)
            .unwrap();
        assert_eq!(versions.bytes(a.ino).as_deref(), Some(&b"old"[..]));
        assert_eq!(versions.kept_bytes(), (0, 3), "moved to the replaced store");
        versions.clear_recent();
        assert!(
            versions.bytes(a.ino).is_some(),
            "nothing else can give a replaced version's bytes again"
        );
        assert!(versions.bytes(b.ino).is_none(), "never read");
        versions.forget(a.ino, 1);
        assert_eq!(versions.kept_bytes(), (0, 0));
        assert!(versions.bytes(a.ino).is_none());
    }
}
