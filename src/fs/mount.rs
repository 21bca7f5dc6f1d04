//! Mounting: the mount options and the session's threads.

use std::path::Path;
use std::sync::Arc;

use super::fuse::FuseAdapter;
use super::Filesystem;

/// The filesystem subtype: the mount shows as `fuse.sfmount`.
pub const SUBTYPE: &str = "sfmount";

/// Each event loop is a thread; none waits on Salesforce (those operations move to their
/// own threads), so a few are enough to keep both cores busy with cached answers while a
/// third or fourth is inside the kernel.
pub const DEFAULT_THREADS: usize = 4;

#[derive(Debug, Clone)]
pub struct MountConfig {
    pub threads: usize,
    /// What `mount` and /proc/mounts show as the source.
    pub fs_name: String,
    /// Let other users than the mounting one read the mount (needs root or
    /// `user_allow_other` in /etc/fuse.conf).
    pub allow_other: bool,
    /// Let root in besides the mounting user (`allow_root`; not with `allow_other`).
    pub allow_root: bool,
    /// Have fusermount3 unmount when this process ends, even by SIGKILL.
    pub auto_unmount: bool,
    /// Owner and group shown on every inode; `None`: the mounting user's.
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// Mode bits shown on every file and every folder (the kernel checks them:
    /// `default_permissions`).
    pub file_mode: u16,
    pub dir_mode: u16,
}

impl Default for MountConfig {
    fn default() -> Self {
        MountConfig {
            threads: DEFAULT_THREADS,
            fs_name: "sfmount".to_string(),
            allow_other: false,
            allow_root: false,
            auto_unmount: false,
            uid: None,
            gid: None,
            file_mode: super::FILE_PERM,
            dir_mode: super::DIR_PERM,
        }
    }
}

/// Mounts `fs` at `mountpoint`, serving on background threads until the returned session
/// is unmounted (`umount_and_join`) or dropped.
pub fn spawn_mount(
    fs: Arc<Filesystem>,
    mountpoint: &Path,
    config: &MountConfig,
) -> std::io::Result<fuser::BackgroundSession> {
    let mut options = fuser::Config::default();
    options.mount_options = vec![
        fuser::MountOption::RO,
        fuser::MountOption::FSName(config.fs_name.clone()),
        // The type `fuse.sfmount` (so updatedb's PRUNEFS, `findmnt -t` and desktop indexers
        // can name this mount): given as a kernel option rather than fuser's `Subtype`,
        // which only fusermount3 hears; as root fuser calls mount(2) itself with the plain
        // type `fuse`, and the kernel's own `subtype=` option then names it. fusermount3
        // reads the same option as its subtype.
        fuser::MountOption::CUSTOM(format!("subtype={SUBTYPE}")),
        fuser::MountOption::NoAtime,
        fuser::MountOption::NoDev,
        fuser::MountOption::NoSuid,
        fuser::MountOption::NoExec,
        // The kernel checks the mode bits itself, so `access` never reaches us.
        fuser::MountOption::DefaultPermissions,
    ];
    if config.allow_other {
        options.acl = fuser::SessionACL::All;
    } else if config.allow_root {
        options.acl = fuser::SessionACL::RootAndOwner;
    }
    if config.auto_unmount {
        // fuser mounts through fusermount3 then, which stays to unmount after us.
        options.mount_options.push(fuser::MountOption::AutoUnmount);
    }
    options.n_threads = Some(config.threads.max(1));
    fuser::spawn_mount(FuseAdapter::new(fs, config), mountpoint, &options)
}
