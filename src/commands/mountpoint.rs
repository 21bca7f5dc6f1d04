//! The mountpoint rules, checked before connecting, and the words for a mount that fails.
//!
//! A mountpoint may itself be a mount (a bind mount, a container volume shared with
//! `rshared`): mounting over it is the usual container pattern. Only a FUSE mount there, live
//! or dead, is refused, and the hint names that mount, so nobody unmounts a volume by
//! following it.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};

/// One line of /proc/self/mountinfo, the fields used here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountEntry {
    pub mount_point: String,
    pub fs_type: String,
    pub source: String,
}

/// Every mount of this mount namespace, in mount order (a later one covers an earlier one at
/// the same point).
pub fn mounts() -> Vec<MountEntry> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .map(|text| parse_mountinfo(&text))
        .unwrap_or_default()
}

/// `36 35 98:0 /root /mnt rw,noatime master:1 - ext4 /dev/sda1 rw`: the fifth field is the
/// mount point; after the lone `-`, the type and the source.
fn parse_mountinfo(text: &str) -> Vec<MountEntry> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            let mount_point = fields.get(4)?;
            let dash = fields.iter().position(|field| *field == "-")?;
            Some(MountEntry {
                mount_point: mount_point.to_string(),
                fs_type: fields.get(dash + 1)?.to_string(),
                source: fields.get(dash + 2).unwrap_or(&"").to_string(),
            })
        })
        .collect()
}

/// The topmost mount at `path`, if `path` is a mount point.
pub fn mount_at(path: &Path) -> Option<MountEntry> {
    let wanted = escape_mount_path(&path.to_string_lossy());
    mounts().into_iter().rev().find(|m| m.mount_point == wanted)
}

/// True when `path` is listed as a mount point (as the kernel escapes it).
pub fn is_mount_point(path: &Path) -> bool {
    mount_at(path).is_some()
}

/// `fuse`, `fuse.sshfs`, `fuseblk`: served by a process.
fn is_fuse(entry: &MountEntry) -> bool {
    entry.fs_type == "fuse" || entry.fs_type.starts_with("fuse.") || entry.fs_type == "fuseblk"
}

/// The command that takes a FUSE mount away: root needs no fusermount3 (and a container
/// may not have it).
fn unmount_hint(path: &Path) -> String {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        format!("umount -l {}", path.display())
    } else {
        format!("fusermount3 -u -z {}", path.display())
    }
}

/// Checks everything that would make the mount fail, with a one-line reason each: the
/// directory must exist (or be created when `create` is set), be a directory, be empty and
/// not hold a FUSE mount, and /dev/fuse must exist. Returns the absolute path.
pub(crate) fn check_mountpoint(path: &Path, create: bool) -> anyhow::Result<PathBuf> {
    if let Err(error) = std::fs::metadata(path) {
        if error.raw_os_error() == Some(libc::ENOTCONN) {
            bail!(
                "{} is a dead FUSE mount (the process serving it ended): unmount it first ({})",
                path.display(),
                unmount_hint(path)
            );
        }
    }
    if !path.exists() {
        if create {
            std::fs::create_dir_all(path)
                .with_context(|| format!("cannot create mountpoint {}", path.display()))?;
        } else {
            bail!(
                "mountpoint {} does not exist: create an empty directory first (mkdir -p {})",
                path.display(),
                path.display()
            );
        }
    }
    let absolute = std::fs::canonicalize(path)
        .with_context(|| format!("cannot resolve mountpoint {}", path.display()))?;
    match mount_at(&absolute) {
        Some(entry) if is_fuse(&entry) => bail!(
            "{} already has a FUSE mount ({}, from {}): unmount it first ({})",
            absolute.display(),
            entry.fs_type,
            entry.source,
            unmount_hint(&absolute)
        ),
        Some(entry) => tracing::debug!(
            fs_type = %entry.fs_type,
            "the mountpoint is itself a mount (a bind mount or volume); mounting over it"
        ),
        None => {}
    }
    if !absolute.is_dir() {
        bail!("mountpoint {} is not a directory", absolute.display());
    }
    let mut entries = std::fs::read_dir(&absolute)
        .with_context(|| format!("cannot read mountpoint {}", absolute.display()))?;
    if entries.next().is_some() {
        bail!(
            "mountpoint {} is not empty: mount on an empty directory so no files are hidden",
            absolute.display()
        );
    }
    if !Path::new("/dev/fuse").exists() {
        bail!(
            "/dev/fuse is missing: FUSE is not available here (load the fuse module; in a \
             container run with --device /dev/fuse --cap-add SYS_ADMIN)"
        );
    }
    Ok(absolute)
}

/// Whether this process can open /dev/fuse itself; when not, only the setuid fusermount3
/// can mount for it.
pub fn dev_fuse_error() -> Option<std::io::Error> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/fuse")
        .err()
}

/// The mount call's error in words that say what to change. `error` is what fuser gave.
pub fn explain_mount_error(error: std::io::Error, mountpoint: &Path) -> anyhow::Error {
    let found = MountContext {
        dev_fuse: dev_fuse_error(),
        fusermount3: which("fusermount3").is_some() || Path::new("/bin/fusermount3").exists(),
    };
    anyhow!(
        "cannot mount on {}: {}",
        mountpoint.display(),
        found.explain(&error)
    )
}

/// What was true of the machine when a mount failed.
struct MountContext {
    /// Why this process cannot open /dev/fuse itself, if it cannot.
    dev_fuse: Option<std::io::Error>,
    /// Whether fusermount3 is installed.
    fusermount3: bool,
}

impl MountContext {
    /// The cause, and what to change. fuser first opens /dev/fuse and calls mount(2); when
    /// that is refused (EPERM: no CAP_SYS_ADMIN) it runs fusermount3, whose own failure is
    /// then the error it returns.
    fn explain(&self, error: &std::io::Error) -> String {
        if let Some(open) = &self.dev_fuse {
            if matches!(open.raw_os_error(), Some(libc::EACCES | libc::EPERM)) {
                return format!(
                    "this user cannot open /dev/fuse ({open}): add the user to the group that \
                     owns /dev/fuse, make it mode 0666 (as most distributions ship it), or \
                     mount as root"
                );
            }
        }
        let text = error.to_string();
        if error.kind() == std::io::ErrorKind::NotFound && !self.fusermount3 {
            return "the mount system call was refused (no CAP_SYS_ADMIN: in a container, \
                    run it with --cap-add SYS_ADMIN --device /dev/fuse) and fusermount3, \
                    which mounts for unprivileged users, is not installed (package fuse3)"
                .to_string();
        }
        let refused = error.kind() == std::io::ErrorKind::PermissionDenied
            || text.contains("Operation not permitted");
        if refused {
            return format!(
                "{text}: this process may not mount (no CAP_SYS_ADMIN: in a container, run it \
                 with --cap-add SYS_ADMIN --device /dev/fuse); as a user, fusermount3 must be \
                 setuid root, and --allow-other or --allow-root need user_allow_other in \
                 /etc/fuse.conf"
            );
        }
        text
    }
}

/// The first `name` on $PATH.
fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Detaches a busy mount: umount2(MNT_DETACH) as root, else `fusermount3 -u -z`.
pub(crate) fn lazy_unmount(mountpoint: &Path) -> anyhow::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(mountpoint.as_os_str().as_bytes())
        .context("the mountpoint path holds a NUL byte")?;
    // SAFETY: umount2 reads a NUL-terminated path that outlives the call.
    if unsafe { libc::umount2(path.as_ptr(), libc::MNT_DETACH) } == 0 {
        return Ok(());
    }
    let status = std::process::Command::new("fusermount3")
        .arg("-u")
        .arg("-z")
        .arg(mountpoint)
        .status()
        .with_context(|| format!("cannot run fusermount3 to detach {}", mountpoint.display()))?;
    if !status.success() || is_mount_point(mountpoint) {
        bail!(
            "cannot unmount {}: it is busy and could not be detached (fusermount3 -u -z {})",
            mountpoint.display(),
            mountpoint.display()
        );
    }
    Ok(())
}

/// /proc/mounts writes space, tab, newline and backslash as octal escapes.
fn escape_mount_path(path: &str) -> String {
    let mut escaped = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            ' ' => escaped.push_str("\\040"),
            '\t' => escaped.push_str("\\011"),
            '\n' => escaped.push_str("\\012"),
            '\\' => escaped.push_str("\\134"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountpoint_problems_are_one_line_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let error = check_mountpoint(&missing, false).unwrap_err().to_string();
        assert!(error.contains("does not exist"), "{error}");
        assert!(!error.contains('\n'));

        let file = dir.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        let error = check_mountpoint(&file, false).unwrap_err().to_string();
        assert!(error.contains("not a directory"), "{error}");

        let full = dir.path().join("full");
        std::fs::create_dir(&full).unwrap();
        std::fs::write(full.join("a"), b"x").unwrap();
        let error = check_mountpoint(&full, false).unwrap_err().to_string();
        assert!(error.contains("not empty"), "{error}");

        let created = dir.path().join("created");
        if Path::new("/dev/fuse").exists() {
            assert!(check_mountpoint(&created, true).is_ok());
            assert!(created.is_dir());
        }
    }

    #[test]
    fn mountinfo_lines_give_point_type_and_source() {
        let text = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n\
                    90 22 0:50 / /mnt/a\\040b rw,nosuid master:3 - fuse.sfmount sfmount rw,user_id=0\n\
                    91 22 8:1 /srv /mnt/vol rw shared:1 - ext4 /dev/sda1 rw\n";
        let entries = parse_mountinfo(text);
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[1].mount_point, "/mnt/a\\040b");
        assert_eq!(entries[1].fs_type, "fuse.sfmount");
        assert_eq!(entries[1].source, "sfmount");
        assert!(is_fuse(&entries[1]));
        assert!(!is_fuse(&entries[2]));
    }

    #[test]
    fn mount_failures_are_explained_by_their_cause() {
        let denied = std::io::Error::from_raw_os_error(libc::EACCES);
        let context = MountContext {
            dev_fuse: Some(denied),
            fusermount3: true,
        };
        let any = std::io::Error::other("whatever");
        assert!(context.explain(&any).contains("cannot open /dev/fuse"));

        let no_helper = MountContext {
            dev_fuse: None,
            fusermount3: false,
        };
        let missing = std::io::Error::from(std::io::ErrorKind::NotFound);
        let text = no_helper.explain(&missing);
        assert!(
            text.contains("CAP_SYS_ADMIN") && text.contains("not installed"),
            "{text}"
        );
        // The OS error appears once, not once per layer.
        assert_eq!(text.matches("No such file").count(), 0, "{text}");

        let helper = MountContext {
            dev_fuse: None,
            fusermount3: true,
        };
        let refused = std::io::Error::other("fusermount3: mount failed: Operation not permitted");
        let text = helper.explain(&refused);
        assert!(text.contains("--cap-add SYS_ADMIN"), "{text}");
        assert_eq!(text.matches("Operation not permitted").count(), 1, "{text}");
        let other = std::io::Error::other("odd");
        assert_eq!(helper.explain(&other), "odd");
    }

    #[test]
    fn mount_paths_are_escaped_like_proc_mounts() {
        assert_eq!(escape_mount_path("/mnt/a b\\c"), "/mnt/a\\040b\\134c");
    }
}
