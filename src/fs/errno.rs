//! Every error the filesystem can return, mapped to its errno in one table, so the mapping is
//! reviewed in one place.
//!
//! | error                                   | errno   | why |
//! | --------------------------------------- | ------- | --- |
//! | no such name / inode / stale file       | ENOENT  | the name is not in the (listed) folder, or the record is gone |
//! | a file used as a directory              | ENOTDIR | lookup or opendir under a record file |
//! | a directory opened or read as a file    | EISDIR  | open/read of a folder |
//! | any mutation                            | EROFS   | the mount is read-only; writes never silently succeed |
//! | unknown or closed handle                | EBADF   | a handle the kernel should not have |
//! | a replaced version opened               | ESTALE  | the kernel held an inode of an old version (a change raced the open); the VFS then looks the name up again, once, and opens the new version |
//! | a version read after its bytes went     | ESTALE  | changed between open and the first read the page cache could not answer, its old body already replaced: no whole copy is left, and a mix is never served |
//! | Salesforce slower than the deadline     | EIO     | the kernel must get an answer; EIO says "the backing store failed" and tools report it |
//! | org unreachable or 5xx                  | EIO     | same: nothing the caller can fix locally |
//! | API request limit exhausted             | EIO     | EAGAIN would make blocking readers (cat, grep) fail with a misleading "try again"; the limit resets daily, not in a moment |
//! | authentication failed                   | EIO     | EACCES would send users to chmod; the log says to check the Connected App |
//! | object or record gone in the org        | ENOENT  | the org says it does not exist |
//! | other request failure, internal error   | EIO     | logged with the details |
//! | background refresh stopping             | EIO     | only the refresher sees it; EIO like any abandoned request |

use crate::index::{IndexError, SourceError};

use super::FsError;

/// The errno a failed operation answers with (a positive `libc` constant).
pub fn errno(error: &FsError) -> i32 {
    match error {
        FsError::NotFound => libc::ENOENT,
        FsError::NotADirectory => libc::ENOTDIR,
        FsError::IsADirectory => libc::EISDIR,
        FsError::ReadOnly => libc::EROFS,
        FsError::BadHandle => libc::EBADF,
        FsError::Stale => libc::ESTALE,
        FsError::Index(error) => index_errno(error),
    }
}

fn index_errno(error: &IndexError) -> i32 {
    match error {
        IndexError::NoSuchFolder | IndexError::NoSuchFile => libc::ENOENT,
        IndexError::Deadline { .. } | IndexError::Internal { .. } | IndexError::Stopped => {
            libc::EIO
        }
        IndexError::Source(source) => match source {
            SourceError::NotFound(_) => libc::ENOENT,
            SourceError::Timeout
            | SourceError::Unavailable(_)
            | SourceError::LimitExceeded(_)
            | SourceError::Auth(_)
            | SourceError::Other(_) => libc::EIO,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table() {
        let source = |e: SourceError| FsError::Index(IndexError::Source(e));
        let cases = [
            (FsError::NotFound, libc::ENOENT),
            (FsError::NotADirectory, libc::ENOTDIR),
            (FsError::IsADirectory, libc::EISDIR),
            (FsError::ReadOnly, libc::EROFS),
            (FsError::BadHandle, libc::EBADF),
            (FsError::Stale, libc::ESTALE),
            (FsError::Index(IndexError::NoSuchFile), libc::ENOENT),
            (
                FsError::Index(IndexError::Deadline {
                    object: "Account".into(),
                    seconds: 60,
                }),
                libc::EIO,
            ),
            (source(SourceError::Timeout), libc::EIO),
            (source(SourceError::Unavailable("down".into())), libc::EIO),
            (source(SourceError::LimitExceeded("used".into())), libc::EIO),
            (source(SourceError::Auth("revoked".into())), libc::EIO),
            (source(SourceError::NotFound("x".into())), libc::ENOENT),
            (source(SourceError::Other("x".into())), libc::EIO),
        ];
        for (error, expected) in cases {
            assert_eq!(errno(&error), expected, "{error:?}");
        }
    }
}
