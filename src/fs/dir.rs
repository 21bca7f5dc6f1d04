//! Directory handles: an opendir takes a snapshot that every readdir of the handle lists
//! (entry `k` is at offset `k + 1`, so every entry is listed exactly once however the kernel
//! splits the reads), whatever changes meanwhile.

use std::sync::Arc;

use super::handles::Handle;
use super::{
    DirEntry, Filesystem, FsError, Node, CHANGES_FILE, CHANGES_INO, GROUP_INO_BASE, ROOT_INO,
    SOBJECT_JSON, STATUS_FILE, STATUS_INO,
};
use crate::index::Listing;

/// What an opendir saw: the names it will list.
pub(super) struct DirSnapshot {
    ino: u64,
    parent: u64,
    entries: SnapshotEntries,
}

enum SnapshotEntries {
    /// Root and group folders: a few fixed children.
    Fixed(Vec<(String, u64)>),
    /// An object folder: `.sobject.json`, then the listing's files.
    Folder {
        folder: usize,
        listing: Arc<Listing>,
    },
}

impl Filesystem {
    /// Opens a directory: takes the snapshot that every later readdir of this handle lists.
    /// An object folder is listed first if it was not yet.
    pub fn opendir(&self, ino: u64) -> Result<u64, FsError> {
        let node = self.node(ino).ok_or(FsError::NotFound)?;
        let entries =
            match node {
                Node::Root => SnapshotEntries::Fixed(
                    [
                        (CHANGES_FILE.to_string(), CHANGES_INO),
                        (STATUS_FILE.to_string(), STATUS_INO),
                    ]
                    .into_iter()
                    .chain(self.groups.iter().enumerate().map(|(g, group)| {
                        (group.folder_name().to_string(), GROUP_INO_BASE + g as u64)
                    }))
                    .collect(),
                ),
                Node::Group(group) => SnapshotEntries::Fixed(
                    self.group_members[group]
                        .iter()
                        .map(|(name, folder)| (name.clone(), Self::folder_ino(*folder)))
                        .collect(),
                ),
                Node::Folder(folder) => SnapshotEntries::Folder {
                    folder,
                    listing: self.index.listing(folder)?,
                },
                Node::Attached(ino) => SnapshotEntries::Fixed(self.files_folder_entries(ino)?),
                Node::File => return Err(FsError::NotADirectory),
            };
        let snapshot = DirSnapshot {
            ino,
            parent: self.parent_of(node),
            entries,
        };
        Ok(self.handles.insert(Handle::Dir(Arc::new(snapshot))))
    }

    fn dir_snapshot(&self, fh: u64) -> Result<Arc<DirSnapshot>, FsError> {
        match self.handles.dir(fh) {
            Some(Ok(snapshot)) => Ok(snapshot),
            Some(Err(())) => Err(FsError::NotADirectory),
            None => Err(FsError::BadHandle),
        }
    }

    /// Lists the snapshot from `offset` (0 at the start, then the `next_offset` of the last
    /// entry taken), handing entries to `add` until it returns true (reply buffer full).
    pub fn readdir(
        &self,
        fh: u64,
        offset: u64,
        add: impl FnMut(DirEntry) -> bool,
    ) -> Result<(), FsError> {
        self.list(fh, offset, false, add)
    }

    /// As [`Filesystem::readdir`], for readdirplus: every entry the kernel takes (but `.`
    /// and `..`) counts as a lookup of its inode.
    pub fn readdirplus(
        &self,
        fh: u64,
        offset: u64,
        add: impl FnMut(DirEntry) -> bool,
    ) -> Result<(), FsError> {
        self.list(fh, offset, true, add)
    }

    fn list(
        &self,
        fh: u64,
        offset: u64,
        plus: bool,
        mut add: impl FnMut(DirEntry) -> bool,
    ) -> Result<(), FsError> {
        let snapshot = self.dir_snapshot(fh)?;
        // The index's listing now, when the snapshot is older: its entries may name
        // versions since replaced.
        let newer = match &snapshot.entries {
            SnapshotEntries::Folder { folder, listing } => self
                .index
                .peek_listing(*folder)
                .filter(|now| !Arc::ptr_eq(now, listing)),
            SnapshotEntries::Fixed(_) => None,
        };
        let fixed_count = 2 + match &snapshot.entries {
            SnapshotEntries::Fixed(children) => children.len(),
            SnapshotEntries::Folder { .. } => 1,
        };
        let total = fixed_count
            + match &snapshot.entries {
                SnapshotEntries::Fixed(_) => 0,
                SnapshotEntries::Folder { listing, .. } => {
                    listing.files().len() + listing.documents.folders().len()
                }
            };
        let mut position = usize::try_from(offset).unwrap_or(usize::MAX);
        while position < total {
            // A readdirplus entry is a kernel lookup of its inode (but `.` and `..`), counted
            // as the version is found: counted after, a racing change could drop the
            // version as unheld in between, while the kernel goes on to read it.
            let counted = plus && position >= 2;
            let entry =
                self.snapshot_entry(&snapshot, newer.as_deref(), position, fixed_count, counted)?;
            let ino = entry.attr.ino;
            if add(entry) {
                // Not taken (the reply is full): the kernel will ask for it again.
                if counted {
                    self.versions.forget(ino, 1);
                }
                break;
            }
            position += 1;
        }
        Ok(())
    }

    fn snapshot_entry(
        &self,
        snapshot: &DirSnapshot,
        newer: Option<&Listing>,
        position: usize,
        fixed_count: usize,
        counted: bool,
    ) -> Result<DirEntry, FsError> {
        let next_offset = position as u64 + 1;
        let entry = |name: &str, attr: super::Attr| DirEntry {
            ino: attr.ino,
            next_offset,
            name: name.to_string(),
            attr,
            trusted: true,
        };
        match position {
            0 => return Ok(entry(".", self.getattr(snapshot.ino)?)),
            1 => return Ok(entry("..", self.getattr(snapshot.parent)?)),
            _ => {}
        }
        match &snapshot.entries {
            SnapshotEntries::Fixed(children) => {
                let (name, ino) = &children[position - 2];
                let attr = match *ino {
                    STATUS_INO => self.status_version(counted),
                    CHANGES_INO => self.changes_version(counted),
                    _ => self.getattr(*ino)?,
                };
                Ok(entry(name, attr))
            }
            SnapshotEntries::Folder { folder, listing } => {
                if position == 2 {
                    return Ok(entry(SOBJECT_JSON, self.sobject_version(*folder, counted)?));
                }
                let Some(file) = listing.files().get(position - fixed_count) else {
                    // After the files, the `.files` folders of records with documents.
                    let record = &listing.documents.folders()
                        [position - fixed_count - listing.files().len()];
                    let ino = self.attached.folder_ino(*folder, &record.record_id);
                    return Ok(entry(&record.folder_name, self.attached_attr(ino)?));
                };
                let Some(newer) = newer else {
                    return Ok(entry(
                        &file.name,
                        self.record_version(*folder, file, counted),
                    ));
                };
                // Handing the kernel the snapshot's version of a file changed since would
                // bring a replaced version back (its bytes may be gone): the current
                // version stands in, or for a file removed since, nothing (inode 0: the
                // kernel lists the name and links no inode).
                let attr = match newer.by_ino(file.ino) {
                    Some(now) if now.digest == file.digest && now.name == file.name => {
                        return Ok(entry(
                            &file.name,
                            self.record_version(*folder, now, counted),
                        ));
                    }
                    Some(now) => self.record_version(*folder, now, counted),
                    None => Self::file_attr(0, file.size, file.mtime, file.ctime),
                };
                Ok(DirEntry {
                    trusted: false,
                    ..entry(&file.name, attr)
                })
            }
        }
    }

    pub fn releasedir(&self, fh: u64) {
        self.handles.remove(fh);
    }

    pub(super) fn parent_of(&self, node: Node) -> u64 {
        match node {
            Node::Root | Node::Group(_) | Node::File => ROOT_INO,
            Node::Attached(ino) => self.attached_parent(ino),
            Node::Folder(folder) => {
                let spec_group = self.index.folder_spec(folder).map(|s| s.group);
                self.groups
                    .iter()
                    .position(|g| Some(*g) == spec_group)
                    .map_or(ROOT_INO, |group| GROUP_INO_BASE + group as u64)
            }
        }
    }
}
