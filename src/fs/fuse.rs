//! The thin adapter between fuser 0.18 and the filesystem logic: argument and reply
//! translation, errno mapping through `errno.rs`, nothing else.
//!
//! Threads: the session runs [`MountConfig::threads`] event loops, so one operation waiting
//! on Salesforce (bounded by the index's operation deadline) does not stall the others.

use crate::sync::lock;
use std::ffi::OsStr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use fuser::{
    Errno, FileAttr, FileHandle, FileType, FopenFlags, Generation, INodeNo, KernelConfig,
    LockOwner, OpenAccMode, OpenFlags, RenameFlags, ReplyAttr, ReplyCreate, ReplyData,
    ReplyDirectory, ReplyDirectoryPlus, ReplyEmpty, ReplyEntry, ReplyOpen, ReplyStatfs, ReplyWrite,
    Request, TimeOrNow, WriteFlags,
};

use super::{errno, Attr, Filesystem, FsError, NodeKind};

/// How long the kernel may trust an entry or attribute before asking again. Never zero
/// (zero makes the kernel re-look-up every entry right after readdir); one second bounds how
/// stale a changed size can look while keeping repeated `stat`s out of this process.
pub const KERNEL_TTL: Duration = Duration::from_secs(1);

/// Each event loop is a thread that may block on one slow listing; 8 lets an `ls` of a
/// listed folder go on while a few first listings wait on the org, without spawning a
/// thread per request on a 2-core machine.
pub const DEFAULT_THREADS: usize = 8;

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
        fuser::MountOption::Subtype("sfmount".to_string()),
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

pub struct FuseAdapter {
    fs: Arc<Filesystem>,
    uid: u32,
    gid: u32,
    file_mode: u16,
    dir_mode: u16,
}

impl FuseAdapter {
    pub fn new(fs: Arc<Filesystem>, config: &MountConfig) -> FuseAdapter {
        // SAFETY: getuid/getgid cannot fail and touch no memory.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        FuseAdapter {
            fs,
            uid: config.uid.unwrap_or(uid),
            gid: config.gid.unwrap_or(gid),
            file_mode: config.file_mode,
            dir_mode: config.dir_mode,
        }
    }

    fn file_attr(&self, attr: &Attr) -> FileAttr {
        FileAttr {
            ino: INodeNo(attr.ino),
            size: attr.size,
            blocks: attr.size.div_ceil(512),
            atime: attr.mtime,
            mtime: attr.mtime,
            ctime: attr.ctime,
            crtime: attr.ctime,
            kind: match attr.kind {
                NodeKind::Directory => FileType::Directory,
                NodeKind::File => FileType::RegularFile,
            },
            // Every inode of a kind has the same mode, so the mount's setting replaces the
            // filesystem's default.
            perm: match attr.kind {
                NodeKind::Directory => self.dir_mode,
                NodeKind::File => self.file_mode,
            },
            nlink: attr.nlink,
            uid: self.uid,
            gid: self.gid,
            rdev: 0,
            blksize: 4096,
            flags: 0,
        }
    }
}

fn to_errno(operation: &str, error: &FsError) -> Errno {
    let code = errno::errno(error);
    if code == libc::EIO {
        tracing::warn!(operation, error = %error, "answering EIO");
    } else {
        tracing::debug!(operation, error = %error, code, "answering an error");
    }
    Errno::from_i32(code)
}

fn wants_write(flags: OpenFlags) -> bool {
    !matches!(flags.acc_mode(), OpenAccMode::O_RDONLY) || flags.0 & libc::O_TRUNC != 0
}

impl fuser::Filesystem for FuseAdapter {
    fn init(&mut self, _req: &Request, config: &mut KernelConfig) -> std::io::Result<()> {
        // Each is optional: a kernel without one simply works without it.
        // - readdirplus: `ls -l` gets every attribute with the listing instead of one lookup
        //   per entry;
        // - auto_inval_data: when a file's mtime or size changes, the kernel drops its cached
        //   pages (files are opened with keep_cache);
        // - parallel_dirops: concurrent lookups in one folder (many readers of one object).
        for capability in [
            fuser::InitFlags::FUSE_DO_READDIRPLUS,
            fuser::InitFlags::FUSE_AUTO_INVAL_DATA,
            fuser::InitFlags::FUSE_PARALLEL_DIROPS,
        ] {
            if let Err(unsupported) = config.add_capabilities(capability) {
                tracing::debug!(?unsupported, "kernel does not offer this FUSE capability");
            }
        }
        Ok(())
    }

    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        match self.fs.lookup(parent.0, name) {
            Ok(attr) => reply.entry(&KERNEL_TTL, &self.file_attr(&attr), Generation(0)),
            Err(error) => reply.error(to_errno("lookup", &error)),
        }
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, fh: Option<FileHandle>, reply: ReplyAttr) {
        match self.fs.getattr(ino.0) {
            Ok(mut attr) => {
                // An open handle's bytes are what a reader gets, so fstat reports their size.
                if let Some(size) = fh.and_then(|fh| self.fs.handle_size(fh.0)) {
                    attr.size = size;
                }
                reply.attr(&KERNEL_TTL, &self.file_attr(&attr))
            }
            Err(error) => reply.error(to_errno("getattr", &error)),
        }
    }

    fn open(&self, _req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        match self.fs.open(ino.0, wants_write(flags)) {
            Ok(opened) => {
                // Pages read once are kept across opens, so a warm `grep -r` reads no bytes
                // from us. A record's bytes change only with its mtime (auto_inval_data then
                // drops the pages) or through Index::apply_changes, whose `stale_inodes` a
                // refresher invalidates through the notifier. Nothing is ever written, so
                // close need not send a flush (one round trip less per file).
                let flags = if opened.direct_io {
                    FopenFlags::FOPEN_DIRECT_IO
                } else {
                    FopenFlags::FOPEN_KEEP_CACHE | FopenFlags::FOPEN_NOFLUSH
                };
                reply.opened(FileHandle(opened.fh), flags)
            }
            Err(error) => reply.error(to_errno("open", &error)),
        }
    }

    fn read(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        match self.fs.read(fh.0, offset, size) {
            Ok(data) => reply.data(data.as_slice()),
            Err(error) => reply.error(to_errno("read", &error)),
        }
    }

    fn release(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        self.fs.release(fh.0);
        reply.ok();
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        // Nothing is ever buffered for writing.
        reply.ok();
    }

    fn opendir(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        match self.fs.opendir(ino.0) {
            Ok(fh) => reply.opened(FileHandle(fh), FopenFlags::empty()),
            Err(error) => reply.error(to_errno("opendir", &error)),
        }
    }

    fn readdir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let result = self.fs.readdir(fh.0, offset, |entry| {
            let kind = match entry.attr.kind {
                NodeKind::Directory => FileType::Directory,
                NodeKind::File => FileType::RegularFile,
            };
            reply.add(INodeNo(entry.ino), entry.next_offset, kind, &entry.name)
        });
        match result {
            Ok(()) => reply.ok(),
            Err(error) => reply.error(to_errno("readdir", &error)),
        }
    }

    fn readdirplus(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectoryPlus,
    ) {
        let result = self.fs.readdir(fh.0, offset, |entry| {
            reply.add(
                INodeNo(entry.ino),
                entry.next_offset,
                &entry.name,
                &KERNEL_TTL,
                &self.file_attr(&entry.attr),
                Generation(0),
            )
        });
        match result {
            Ok(()) => reply.ok(),
            Err(error) => reply.error(to_errno("readdirplus", &error)),
        }
    }

    fn releasedir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        reply: ReplyEmpty,
    ) {
        self.fs.releasedir(fh.0);
        reply.ok();
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        let stats = self.fs.statfs();
        reply.statfs(
            stats.blocks,
            0,
            0,
            stats.files,
            0,
            stats.block_size,
            stats.max_name_length,
            stats.block_size,
        );
    }

    // Every mutation: EROFS (the RO mount option stops most of them in the kernel already;
    // these answer whatever still arrives, never ENOSYS, which tools read as "try another way").

    fn setattr(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _mode: Option<u32>,
        _uid: Option<u32>,
        _gid: Option<u32>,
        _size: Option<u64>,
        _atime: Option<TimeOrNow>,
        _mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        reply.error(to_errno("setattr", &self.fs.mutation()));
    }

    fn mknod(
        &self,
        _req: &Request,
        _parent: INodeNo,
        _name: &OsStr,
        _mode: u32,
        _umask: u32,
        _rdev: u32,
        reply: ReplyEntry,
    ) {
        reply.error(to_errno("mknod", &self.fs.mutation()));
    }

    fn mkdir(
        &self,
        _req: &Request,
        _parent: INodeNo,
        _name: &OsStr,
        _mode: u32,
        _umask: u32,
        reply: ReplyEntry,
    ) {
        reply.error(to_errno("mkdir", &self.fs.mutation()));
    }

    fn unlink(&self, _req: &Request, _parent: INodeNo, _name: &OsStr, reply: ReplyEmpty) {
        reply.error(to_errno("unlink", &self.fs.mutation()));
    }

    fn rmdir(&self, _req: &Request, _parent: INodeNo, _name: &OsStr, reply: ReplyEmpty) {
        reply.error(to_errno("rmdir", &self.fs.mutation()));
    }

    fn symlink(
        &self,
        _req: &Request,
        _parent: INodeNo,
        _link_name: &OsStr,
        _target: &Path,
        reply: ReplyEntry,
    ) {
        reply.error(to_errno("symlink", &self.fs.mutation()));
    }

    fn rename(
        &self,
        _req: &Request,
        _parent: INodeNo,
        _name: &OsStr,
        _newparent: INodeNo,
        _newname: &OsStr,
        _flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        reply.error(to_errno("rename", &self.fs.mutation()));
    }

    fn link(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _newparent: INodeNo,
        _newname: &OsStr,
        reply: ReplyEntry,
    ) {
        reply.error(to_errno("link", &self.fs.mutation()));
    }

    fn write(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _offset: u64,
        _data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        reply.error(to_errno("write", &self.fs.mutation()));
    }

    fn create(
        &self,
        _req: &Request,
        _parent: INodeNo,
        _name: &OsStr,
        _mode: u32,
        _umask: u32,
        _flags: i32,
        reply: ReplyCreate,
    ) {
        reply.error(to_errno("create", &self.fs.mutation()));
    }

    fn setxattr(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _name: &OsStr,
        _value: &[u8],
        _flags: i32,
        _position: u32,
        reply: ReplyEmpty,
    ) {
        reply.error(to_errno("setxattr", &self.fs.mutation()));
    }

    fn removexattr(&self, _req: &Request, _ino: INodeNo, _name: &OsStr, reply: ReplyEmpty) {
        reply.error(to_errno("removexattr", &self.fs.mutation()));
    }

    fn fallocate(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _offset: u64,
        _length: u64,
        _mode: i32,
        reply: ReplyEmpty,
    ) {
        reply.error(to_errno("fallocate", &self.fs.mutation()));
    }
}

/// One folder's worth of kernel cache entries to drop.
struct Invalidation {
    folder_ino: u64,
    names: Vec<String>,
    inodes: Vec<u64>,
    membership_changed: bool,
}

/// Starts the thread that tells the kernel what a refresh changed, and returns the listener
/// the refresher calls. Invalidations go through fuser's notifier on this thread only: a
/// notification sent from inside a request handler can deadlock against the kernel waiting
/// for that very request, and the refresher should not wait on the kernel either. The thread
/// ends when the listener (every clone of it) is dropped.
pub fn start_invalidator(
    notifier: fuser::Notifier,
) -> std::io::Result<crate::index::refresh::ChangeListener> {
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
                // Offset 0, length 0: attributes and every cached page of the file.
                for ino in &change.inodes {
                    if let Err(error) = notifier.inval_inode(INodeNo(*ino), 0, 0) {
                        tracing::debug!(%error, ino, "inval_inode");
                    }
                }
                if change.membership_changed {
                    // The folder's mtime moved: scanners stat it to decide whether to rescan.
                    if let Err(error) = notifier.inval_inode(INodeNo(change.folder_ino), 0, 0) {
                        tracing::debug!(%error, "inval_inode of a folder");
                    }
                }
            }
        })?;
    let sender = std::sync::Mutex::new(sender);
    Ok(Arc::new(
        move |folder: usize, summary: &crate::index::ChangeSummary| {
            let change = Invalidation {
                folder_ino: Filesystem::folder_ino(folder),
                names: summary.stale_names.clone(),
                inodes: summary.stale_inodes.clone(),
                membership_changed: summary.membership_changed(),
            };
            let sender = lock(&sender);
            // The thread ends only with the mount; a failed send means there is no kernel
            // left to tell.
            let _ = sender.send(change);
        },
    ))
}
