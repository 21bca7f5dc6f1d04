//! Who is using a store: a mount holds an exclusive `flock` on `store.lock` beside the
//! database for as long as it runs, so `sfmount cache clear` can refuse to delete a store
//! under a running mount, and a second mount of the same org and user can tell that the
//! store is taken (it then runs memory-only rather than share one journal and one set of
//! watermarks with another process).
//!
//! `flock` and not a pid file: the kernel drops the lock when the process ends, however it
//! ends (kill -9 included), so a crash never leaves a store that looks busy. The holder's
//! pid is written into the file only so that messages can name it.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

/// The lock file's name inside a store's folder.
pub const LOCK_FILE_NAME: &str = "store.lock";

/// The lock file holds nothing secret, but it sits in the 0700 folder of the org's data.
const LOCK_FILE_MODE: u32 = 0o600;

/// The lock file of the store at `store_path` (`<folder>/store.sqlite3`).
pub fn lock_path(store_path: &Path) -> PathBuf {
    store_path
        .parent()
        .unwrap_or(Path::new("."))
        .join(LOCK_FILE_NAME)
}

/// Why a store could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("store {} is in use by another sfmount process{}", path.display(), holder_words(*holder))]
    InUse { path: PathBuf, holder: Option<u32> },
    #[error("cannot lock store {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn holder_words(holder: Option<u32>) -> String {
    holder.map_or_else(String::new, |pid| format!(" (pid {pid})"))
}

/// An exclusive hold on one store, released when dropped (or when the process ends).
#[derive(Debug)]
pub struct StoreLock {
    _file: File,
    path: PathBuf,
}

impl StoreLock {
    /// Takes the store's lock without waiting, creating the lock file and, if needed, the
    /// store's folder (0700, as the store makes it). Fails with [`LockError::InUse`] when
    /// another process holds it.
    pub fn acquire(store_path: &Path) -> Result<StoreLock, LockError> {
        let path = lock_path(store_path);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        if let Some(folder) = path.parent() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(super::sqlite::FOLDER_MODE)
                .create(folder)
                .map_err(io)?;
        }
        // The file may be unlinked (by `cache clear`) between our open and our flock: a
        // lock on a deleted file guards nothing, so try again on the file now at the path.
        // Two rounds suffice unless someone deletes the folder in a loop.
        for _ in 0..3 {
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .read(true)
                .write(true)
                .mode(LOCK_FILE_MODE)
                .open(&path)
                .map_err(io)?;
            if !try_flock(&file, libc::LOCK_EX).map_err(io)? {
                return Err(LockError::InUse {
                    holder: read_holder(&path),
                    path,
                });
            }
            let same = match std::fs::metadata(&path) {
                Ok(now) => {
                    let held = file.metadata().map_err(io)?;
                    now.ino() == held.ino() && now.dev() == held.dev()
                }
                Err(_) => false,
            };
            if !same {
                continue;
            }
            // Best effort: the pid only improves messages.
            let _ = file.set_len(0);
            let _ = writeln!(file, "{}", std::process::id());
            return Ok(StoreLock { _file: file, path });
        }
        Err(io(std::io::Error::other(
            "the lock file kept being replaced",
        )))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Whether some process holds the lock of the store at `store_path`, and its pid if it
/// wrote one. Creates nothing: a store without a lock file is not in use. The probe takes
/// a shared lock for an instant, so it never blocks a holder that is already there.
pub fn lock_holder(store_path: &Path) -> Result<Option<Option<u32>>, LockError> {
    let path = lock_path(store_path);
    let file = match File::open(&path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(LockError::Io { path, source }),
    };
    let free = try_flock(&file, libc::LOCK_SH).map_err(|source| LockError::Io {
        path: path.clone(),
        source,
    })?;
    Ok((!free).then(|| read_holder(&path)))
}

/// `flock(operation | LOCK_NB)`: `false` when another process holds a conflicting lock.
fn try_flock(file: &File, operation: libc::c_int) -> std::io::Result<bool> {
    // SAFETY: flock(2) on a descriptor we own for the duration of the call.
    let rc = unsafe { libc::flock(file.as_raw_fd(), operation | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(true);
    }
    let error = std::io::Error::last_os_error();
    match error.raw_os_error() {
        Some(libc::EWOULDBLOCK) => Ok(false),
        _ => Err(error),
    }
}

fn read_holder(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store.sqlite3");
        assert_eq!(
            lock_holder(&store).unwrap(),
            None,
            "no lock file: not in use"
        );
        assert!(!lock_path(&store).exists(), "the probe creates nothing");

        let first = StoreLock::acquire(&store).unwrap();
        let pid = std::process::id();
        assert_eq!(lock_holder(&store).unwrap(), Some(Some(pid)));
        // flock locks belong to open files, so a second open in this process conflicts
        // as another process's would.
        match StoreLock::acquire(&store) {
            Err(LockError::InUse { holder, .. }) => assert_eq!(holder, Some(pid)),
            other => panic!("expected InUse, got {other:?}"),
        }
        drop(first);
        assert_eq!(lock_holder(&store).unwrap(), None);
        let again = StoreLock::acquire(&store).unwrap();
        assert_eq!(again.path(), lock_path(&store));
    }

    #[test]
    fn a_lock_file_deleted_under_a_holder_does_not_lock_out_the_next_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store.sqlite3");
        let first = StoreLock::acquire(&store).unwrap();
        std::fs::remove_file(lock_path(&store)).unwrap();
        // The new file at the path is not the one `first` holds.
        let second = StoreLock::acquire(&store).unwrap();
        assert_eq!(lock_holder(&store).unwrap(), Some(Some(std::process::id())));
        drop((first, second));
    }
}
