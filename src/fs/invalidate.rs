//! What a refresh tells the kernel to forget, sent through fuser's notifier the moment the
//! refresher applies a change:
//! - the name of every file whose version changed (its name now leads to a new inode; the
//!   old inode stays valid for whoever has it open), and the old names of renamed and
//!   removed files;
//! - every name the kernel may remember as missing in that folder (one may have appeared);
//! - the folder itself: its mtime, and the listing the kernel caches (`cache_readdir`).
//!
//! No file inode is invalidated: a version's bytes and attributes never change.

use crate::sync::lock;
use std::ffi::OsStr;
use std::sync::Arc;

use fuser::INodeNo;

use super::Filesystem;
use crate::index::refresh::ChangeListener;
use crate::index::ChangeSummary;

/// One folder's worth of kernel cache entries to drop.
struct Invalidation {
    folder_ino: u64,
    names: Vec<String>,
}

/// The names the kernel must forget after `summary` changed `folder` (now listed as the
/// index has it).
pub fn stale_names(fs: &Filesystem, folder: usize, summary: &ChangeSummary) -> Vec<String> {
    let mut names = summary.stale_names.clone();
    if let Some(listing) = fs.index().peek_listing(folder) {
        // A changed file that kept its name: the name leads to a new version now.
        names.extend(
            summary
                .stale_inodes
                .iter()
                .filter_map(|ino| listing.by_ino(*ino))
                .map(|entry| entry.name.clone()),
        );
    }
    names.extend(fs.take_negatives(folder));
    names.sort();
    names.dedup();
    names
}

/// Starts the thread that tells the kernel what a refresh changed, and returns the listener
/// the refresher calls. Invalidations go through fuser's notifier on this thread only: a
/// notification sent from inside a request handler can deadlock against the kernel waiting
/// for that very request, and the refresher should not wait on the kernel either. The thread
/// ends when the listener (every clone of it) is dropped.
pub fn start_invalidator(
    notifier: fuser::Notifier,
    fs: Arc<Filesystem>,
) -> std::io::Result<ChangeListener> {
    let (sender, receiver) = std::sync::mpsc::channel::<Invalidation>();
    std::thread::Builder::new()
        .name("sfmount-inval".to_string())
        .spawn(move || {
            for change in receiver {
                for name in &change.names {
                    if let Err(error) =
                        notifier.inval_entry(INodeNo(change.folder_ino), OsStr::new(name))
                    {
                        // The kernel never looked the name up (or forgot it): nothing to drop.
                        tracing::debug!(%error, "inval_entry");
                    }
                }
                // Offset 0, length 0: the folder's attributes and its cached listing.
                if let Err(error) = notifier.inval_inode(INodeNo(change.folder_ino), 0, 0) {
                    tracing::debug!(%error, "inval_inode of a folder");
                }
            }
        })?;
    let sender = std::sync::Mutex::new(sender);
    Ok(Arc::new(move |folder: usize, summary: &ChangeSummary| {
        if summary.total() == 0 && summary.stale_inodes.is_empty() {
            return;
        }
        let change = Invalidation {
            folder_ino: Filesystem::folder_ino(folder),
            names: stale_names(&fs, folder, summary),
        };
        // The thread ends only with the mount; a failed send means there is no kernel
        // left to tell.
        let sender = lock(&sender);
        let _ = sender.send(change);
        // Records' `.files` folders whose documents changed (fs/attached.rs).
        for (folder_ino, names) in fs.stale_files_folders(folder) {
            let _ = sender.send(Invalidation { folder_ino, names });
        }
    }))
}
