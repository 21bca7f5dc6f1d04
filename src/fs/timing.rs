//! How long the kernel may trust what it was told: the one place that decides each TTL.
//!
//! Every file inode names one version of its bytes (see `versions.rs`), so a file's
//! attributes never go stale and may be cached as long as the kernel likes; what changes is
//! which inode a name leads to and a folder's listing, and the refresher tells the kernel
//! to forget those the moment it applies a change (`invalidate.rs`). The TTLs below are
//! only the upper bound for a notice that was lost (the kernel had no room, the mount was
//! busy): how stale a name or a size can look in the worst case.

use std::time::Duration;

use super::{Attr, NodeKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheTiming {
    /// How long a file's or folder's attributes may be trusted (`--attr-timeout`).
    pub attr_timeout: Duration,
    /// How long a name → inode binding, a "no such name" answer and a folder's listing may
    /// be trusted (`--dir-cache-time`).
    pub dir_cache_time: Duration,
}

impl CacheTiming {
    /// A minute: attributes of a version never change, so this bounds only a folder's
    /// mtime after a lost notice; rclone's default `--attr-timeout` is 1 s because its
    /// backends change behind its back, ours tell us.
    pub const DEFAULT_ATTR_TIMEOUT: Duration = Duration::from_secs(60);
    /// Five minutes, rclone's `--dir-cache-time` default: the worst case for a lost notice,
    /// while a delivered one makes a change visible at once.
    pub const DEFAULT_DIR_CACHE_TIME: Duration = Duration::from_secs(300);

    /// The TTL of a name → inode binding for `attr`'s file. Status files are generated on
    /// each lookup (their contents follow every tick), so their names are never trusted.
    pub fn entry_ttl(&self, attr: &Attr, generated: bool) -> Duration {
        match (attr.kind, generated) {
            (NodeKind::File, true) => Duration::ZERO,
            _ => self.dir_cache_time,
        }
    }

    /// The TTL of `attr` itself. A generated file's version is as immutable as a record's.
    pub fn attr_ttl(&self, _attr: &Attr) -> Duration {
        self.attr_timeout
    }

    /// How long the kernel may remember that a name does not exist in an object folder
    /// (invalidated when the name appears).
    pub fn negative_ttl(&self) -> Duration {
        self.dir_cache_time
    }
}

impl Default for CacheTiming {
    fn default() -> Self {
        CacheTiming {
            attr_timeout: Self::DEFAULT_ATTR_TIMEOUT,
            dir_cache_time: Self::DEFAULT_DIR_CACHE_TIME,
        }
    }
}
