//! The thin adapter between fuser 0.18 and the filesystem logic: argument and reply
//! translation, errno mapping through `errno.rs`, the request counter, and handing an
//! operation that waits on Salesforce to its own thread (`offload.rs`).
//!
//! Kernel caching, and why it is safe: every file inode is one immutable version (see
//! `versions.rs`), so files are opened with `keep_cache` (pages survive across opens) and
//! attributes are trusted for `attr_timeout`; names and folder listings (`cache_readdir`)
//! for `dir_cache_time`, forgotten through the notifier when a refresh changes them.
//!
//! No-open: since an inode is one version, an open has nothing to decide that the inode
//! does not already say, so where the kernel offers it (`FUSE_NO_OPEN_SUPPORT`) the first
//! open is answered ENOSYS and the kernel sends no open, release or flush for files again:
//! it keeps pages as with `keep_cache`, and reads arrive with handle 0, answered by inode.

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use fuser::{
    Errno, FileAttr, FileHandle, FileType, FopenFlags, Generation, INodeNo, IoctlFlags,
    KernelConfig, LockOwner, OpenAccMode, OpenFlags, RenameFlags, ReplyAttr, ReplyCreate,
    ReplyData, ReplyDirectory, ReplyDirectoryPlus, ReplyEmpty, ReplyEntry, ReplyIoctl, ReplyLock,
    ReplyLseek, ReplyOpen, ReplyStatfs, ReplyWrite, ReplyXattr, Request, TimeOrNow, WriteFlags,
};

pub use super::mount::{spawn_mount, MountConfig, DEFAULT_THREADS};
use super::offload::Waiters;
use super::requests::{Op, Timer};
use super::{errno, Attr, Filesystem, FsError, NodeKind};

/// Who owns every file (the mounting user, unless `uid`/`gid` say otherwise) and the modes
/// every file and folder shows.
#[derive(Clone, Copy)]
struct Owner {
    uid: u32,
    gid: u32,
    file_mode: u16,
    dir_mode: u16,
}

impl Owner {
    fn file_attr(self, attr: &Attr) -> FileAttr {
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

pub struct FuseAdapter {
    fs: Arc<Filesystem>,
    owner: Owner,
    waiters: Waiters,
    /// The kernel offered no-open support (set at init, before any open arrives).
    no_open: bool,
}

impl FuseAdapter {
    pub fn new(fs: Arc<Filesystem>, config: &MountConfig) -> FuseAdapter {
        // SAFETY: getuid/getgid cannot fail and touch no memory.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        FuseAdapter {
            fs,
            owner: Owner {
                uid: config.uid.unwrap_or(uid),
                gid: config.gid.unwrap_or(gid),
                file_mode: config.file_mode,
                dir_mode: config.dir_mode,
            },
            waiters: Waiters::default(),
            no_open: false,
        }
    }

    /// Counts a request and times it until the timer is dropped (after the reply).
    fn count(&self, op: Op) -> Timer {
        self.fs.requests().start(op)
    }

    /// Runs `work` on a waiting thread (it will wait on Salesforce); the request's timer
    /// goes along, so its latency includes the wait.
    fn offload(&self, timer: Timer, work: impl FnOnce(&Filesystem) + Send + 'static) {
        let fs = self.fs.clone();
        self.fs.requests().count_offloaded();
        self.waiters.run(move || {
            work(&fs);
            drop(timer);
        });
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

fn answer_lookup(fs: &Filesystem, owner: Owner, parent: u64, name: &OsStr, reply: ReplyEntry) {
    match fs.lookup(parent, name) {
        Ok(attr) => {
            let timing = fs.timing();
            reply.entry_with_ttls(
                &timing.attr_ttl(&attr),
                &timing.entry_ttl(&attr, fs.is_generated(attr.ino)),
                &owner.file_attr(&attr),
                Generation(0),
            )
        }
        Err(FsError::NotFound) => {
            let ttl = fs.negative_ttl(parent, name);
            if ttl.is_zero() {
                reply.error(Errno::ENOENT)
            } else {
                // Inode 0 with a TTL: the kernel caches "no such name" (a negative dentry).
                let mut missing = owner.file_attr(&Filesystem::file_attr(
                    0,
                    0,
                    SystemTime::UNIX_EPOCH,
                    SystemTime::UNIX_EPOCH,
                ));
                missing.ino = INodeNo(0);
                reply.entry_with_ttls(&Duration::ZERO, &ttl, &missing, Generation(0))
            }
        }
        Err(error) => reply.error(to_errno("lookup", &error)),
    }
}

fn answer_open(fs: &Filesystem, ino: u64, flags: OpenFlags, reply: ReplyOpen) {
    match fs.open(ino, wants_write(flags)) {
        // A version's bytes never change, so its pages may outlive this open; nothing is
        // ever written, so close need not send a flush (one round trip less per file).
        Ok(opened) => reply.opened(
            FileHandle(opened.fh),
            FopenFlags::FOPEN_KEEP_CACHE | FopenFlags::FOPEN_NOFLUSH,
        ),
        Err(error) => reply.error(to_errno("open", &error)),
    }
}

/// Handle 0 is a read with no open handle (no-open mode): by inode.
fn answer_read(fs: &Filesystem, ino: u64, fh: u64, offset: u64, size: u32, reply: ReplyData) {
    let data = if fh == 0 {
        fs.read_inode(ino, offset, size)
    } else {
        fs.read(fh, offset, size)
    };
    match data {
        Ok(data) => {
            fs.requests().count_bytes_read(data.as_slice().len());
            reply.data(data.as_slice())
        }
        Err(error) => reply.error(to_errno("read", &error)),
    }
}

fn answer_opendir(fs: &Filesystem, ino: u64, reply: ReplyOpen) {
    match fs.opendir(ino) {
        // The kernel keeps the listing it read (cache_readdir) until the folder's mtime
        // moves or the refresher invalidates the folder.
        Ok(fh) => reply.opened(
            FileHandle(fh),
            FopenFlags::FOPEN_CACHE_DIR | FopenFlags::FOPEN_KEEP_CACHE,
        ),
        Err(error) => reply.error(to_errno("opendir", &error)),
    }
}

impl fuser::Filesystem for FuseAdapter {
    fn init(&mut self, _req: &Request, config: &mut KernelConfig) -> std::io::Result<()> {
        // Each is optional: a kernel without one simply works without it.
        // - readdirplus: `ls -l` gets every attribute with the listing instead of one lookup
        //   per entry;
        // - parallel_dirops: concurrent lookups in one folder (many readers of one object).
        // - no-open: no open, release or flush per file (see the module's comment).
        // Not no-opendir: with it the kernel sent one readdir at a time per folder, so
        // readers of a folder waiting for its first listing waited a deadline each, in
        // turn, instead of sharing one wait (1 of 12 such readers reached the mount).
        for capability in [
            fuser::InitFlags::FUSE_DO_READDIRPLUS,
            fuser::InitFlags::FUSE_PARALLEL_DIROPS,
            fuser::InitFlags::FUSE_NO_OPEN_SUPPORT,
        ] {
            if let Err(unsupported) = config.add_capabilities(capability) {
                tracing::debug!(?unsupported, "kernel does not offer this FUSE capability");
            }
        }
        self.no_open = config
            .capabilities()
            .contains(fuser::InitFlags::FUSE_NO_OPEN_SUPPORT);
        Ok(())
    }

    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let timer = self.count(Op::Lookup);
        if self.fs.would_list(parent.0) {
            let (owner, name) = (self.owner, OsString::from(name));
            self.offload(timer, move |fs| {
                answer_lookup(fs, owner, parent.0, &name, reply)
            });
        } else {
            answer_lookup(&self.fs, self.owner, parent.0, name, reply);
        }
    }

    // batch_forget: fuser's default hands each entry to `forget`.
    fn forget(&self, _req: &Request, ino: INodeNo, nlookup: u64) {
        let _timer = self.count(Op::Forget);
        self.fs.forget(ino.0, nlookup);
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        let _timer = self.count(Op::Getattr);
        match self.fs.getattr(ino.0) {
            Ok(attr) => reply.attr(
                &self.fs.timing().attr_ttl(&attr),
                &self.owner.file_attr(&attr),
            ),
            Err(error) => reply.error(to_errno("getattr", &error)),
        }
    }

    fn open(&self, _req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        let _timer = self.count(Op::Open);
        if !self.no_open {
            return answer_open(&self.fs, ino.0, flags, reply);
        }
        // ENOSYS is "opens need no round trip" for the kernel, from now on. Until then an
        // open that would fail still answers its error (ESTALE makes the kernel look the
        // name up again).
        match self.fs.may_open(ino.0, wants_write(flags)) {
            Ok(()) => reply.error(Errno::ENOSYS),
            Err(error) => reply.error(to_errno("open", &error)),
        }
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        let timer = self.count(Op::Read);
        let waits = if fh.0 == 0 {
            self.fs.inode_read_would_wait(ino.0)
        } else {
            self.fs.read_would_wait(fh.0)
        };
        if waits {
            self.offload(timer, move |fs| {
                answer_read(fs, ino.0, fh.0, offset, size, reply)
            });
        } else {
            answer_read(&self.fs, ino.0, fh.0, offset, size, reply);
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
        let _timer = self.count(Op::Release);
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
        let _timer = self.count(Op::Flush);
        // Nothing is ever buffered for writing. ENOSYS: the kernel stops sending flushes
        // (no-open files have no FOPEN_NOFLUSH to say so).
        reply.error(Errno::ENOSYS);
    }

    fn opendir(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        let timer = self.count(Op::Opendir);
        if self.fs.would_list(ino.0) {
            self.offload(timer, move |fs| answer_opendir(fs, ino.0, reply));
        } else {
            answer_opendir(&self.fs, ino.0, reply);
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
        let _timer = self.count(Op::Readdir);
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
        let _timer = self.count(Op::Readdirplus);
        let timing = *self.fs.timing();
        let result = self.fs.readdirplus(fh.0, offset, |entry| {
            let ttl = if entry.trusted {
                timing.entry_ttl(&entry.attr, self.fs.is_generated(entry.ino))
            } else {
                Duration::ZERO
            };
            reply.add(
                INodeNo(entry.ino),
                entry.next_offset,
                &entry.name,
                &ttl,
                &self.owner.file_attr(&entry.attr),
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
        let _timer = self.count(Op::Releasedir);
        self.fs.releasedir(fh.0);
        reply.ok();
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        let _timer = self.count(Op::Statfs);
        let stats = self.fs.statfs();
        reply.statfs(
            stats.blocks,
            stats.free_blocks,
            stats.free_blocks,
            stats.files,
            stats.free_files,
            stats.block_size,
            stats.max_name_length,
            stats.block_size,
        );
    }

    // What a read-only mount without extended attributes, locks or devices does not
    // implement, answered quietly (these arrive for every file a tool opens; a log line
    // each would flood the log). ENOSYS where the kernel then answers for itself and stops
    // asking (xattrs: EOPNOTSUPP; locks: local locking; lseek: the generic seek; fsync:
    // nothing to sync); ENOTTY for ioctl, what a file without ioctls answers.

    fn getxattr(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _name: &OsStr,
        _size: u32,
        reply: ReplyXattr,
    ) {
        let _timer = self.count(Op::Getxattr);
        reply.error(Errno::ENOSYS);
    }

    fn listxattr(&self, _req: &Request, _ino: INodeNo, _size: u32, reply: ReplyXattr) {
        let _timer = self.count(Op::Listxattr);
        reply.error(Errno::ENOSYS);
    }

    fn ioctl(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _flags: IoctlFlags,
        _cmd: u32,
        _in_data: &[u8],
        _out_size: u32,
        reply: ReplyIoctl,
    ) {
        let _timer = self.count(Op::Ioctl);
        reply.error(Errno::from_i32(libc::ENOTTY));
    }

    fn lseek(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _offset: i64,
        _whence: i32,
        reply: ReplyLseek,
    ) {
        let _timer = self.count(Op::Other);
        reply.error(Errno::ENOSYS);
    }

    fn getlk(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lock_owner: LockOwner,
        _start: u64,
        _end: u64,
        _typ: i32,
        _pid: u32,
        reply: ReplyLock,
    ) {
        let _timer = self.count(Op::Other);
        reply.error(Errno::ENOSYS);
    }

    fn setlk(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lock_owner: LockOwner,
        _start: u64,
        _end: u64,
        _typ: i32,
        _pid: u32,
        _sleep: bool,
        reply: ReplyEmpty,
    ) {
        let _timer = self.count(Op::Other);
        reply.error(Errno::ENOSYS);
    }

    fn fsync(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        let _timer = self.count(Op::Other);
        reply.error(Errno::ENOSYS);
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
