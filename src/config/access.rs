//! The keys of how the mount is run for the system around it: who may use it
//! (`allow_other`, `allow_root`), whose files it shows (`uid`, `gid`) and with which modes
//! (`file_mode`, `dir_mode`, `umask`), `auto_unmount` and `metrics_addr`.

use std::net::SocketAddr;

use super::{ConfigError, Layer};

/// Record files are readable by everyone the kernel lets through (`allow_other` decides
/// who that is); nothing is writable, since the mount is read-only. The filesystem's own.
pub const DEFAULT_FILE_MODE: u16 = crate::fs::FILE_PERM;
/// Folders are readable and searchable by the same users as the files in them.
pub const DEFAULT_DIR_MODE: u16 = crate::fs::DIR_PERM;
/// No bits taken away unless told.
pub const DEFAULT_UMASK: u16 = 0;

/// Which users besides the mounting one the kernel lets into the mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AllowUsers {
    /// Only the user who mounted (FUSE's default).
    #[default]
    Owner,
    /// The mounting user and root (`allow_root`).
    Root,
    /// Every user, each still checked against the modes (`allow_other`).
    Everyone,
}

/// Who may use the mount and what its files show as owner and mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MountAccess {
    pub allow: AllowUsers,
    /// Owner shown for every file and folder; `None`: the mounting user.
    pub uid: Option<u32>,
    /// Group shown for every file and folder; `None`: the mounting user's group.
    pub gid: Option<u32>,
    /// Mode bits of record and status files, after the umask.
    pub file_mode: u16,
    /// Mode bits of folders, after the umask.
    pub dir_mode: u16,
}

impl Default for MountAccess {
    fn default() -> Self {
        MountAccess {
            allow: AllowUsers::Owner,
            uid: None,
            gid: None,
            file_mode: DEFAULT_FILE_MODE,
            dir_mode: DEFAULT_DIR_MODE,
        }
    }
}

/// The first value any layer gives, highest layer first.
fn first<T>(layers: &[&Layer], pick: impl Fn(&Layer) -> Option<T>) -> Option<T> {
    layers.iter().find_map(|layer| pick(layer))
}

pub(super) fn mount_access(layers: &[&Layer]) -> Result<MountAccess, ConfigError> {
    let allow_other = first(layers, |layer| layer.allow_other).unwrap_or(false);
    let allow_root = first(layers, |layer| layer.allow_root).unwrap_or(false);
    let allow = match (allow_other, allow_root) {
        (true, true) => return Err(ConfigError::AllowOtherAndRoot),
        (true, false) => AllowUsers::Everyone,
        (false, true) => AllowUsers::Root,
        (false, false) => AllowUsers::Owner,
    };
    let mode = |key: &'static str, pick: fn(&Layer) -> Option<String>, default: u16| {
        first(layers, pick).map_or(Ok(default), |text| parse_mode(key, &text))
    };
    let umask = mode("umask", |layer| layer.umask.clone(), DEFAULT_UMASK)?;
    let file_mode = mode("file_mode", |l| l.file_mode.clone(), DEFAULT_FILE_MODE)?;
    let dir_mode = mode("dir_mode", |l| l.dir_mode.clone(), DEFAULT_DIR_MODE)?;
    for (key, bits) in [("file_mode", file_mode), ("dir_mode", dir_mode)] {
        if bits & 0o222 != 0 {
            return Err(ConfigError::WritableMode { key, mode: bits });
        }
    }
    Ok(MountAccess {
        allow,
        uid: first(layers, |layer| layer.uid),
        gid: first(layers, |layer| layer.gid),
        file_mode: file_mode & !umask,
        dir_mode: dir_mode & !umask,
    })
}

/// Octal permission bits as `chmod` takes them: `0444`, `444` or `0o444`.
fn parse_mode(key: &'static str, text: &str) -> Result<u16, ConfigError> {
    let digits = text.trim();
    let digits = digits.strip_prefix("0o").unwrap_or(digits);
    u16::from_str_radix(digits, 8)
        .ok()
        .filter(|bits| *bits <= 0o777 && !digits.is_empty())
        .ok_or_else(|| ConfigError::BadMode {
            key,
            text: text.to_string(),
        })
}

pub(super) fn auto_unmount(layers: &[&Layer]) -> bool {
    first(layers, |layer| layer.auto_unmount).unwrap_or(false)
}

pub(super) fn metrics_addr(layers: &[&Layer]) -> Result<Option<SocketAddr>, ConfigError> {
    first(layers, |layer| layer.metrics_addr.clone())
        .filter(|text| !text.trim().is_empty())
        .map(|text| {
            text.trim()
                .parse()
                .map_err(|_| ConfigError::BadMetricsAddr(text.clone()))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(layer: Layer) -> Result<MountAccess, ConfigError> {
        mount_access(&[&layer])
    }

    #[test]
    fn defaults_are_read_only_modes_for_the_mounting_user_alone() {
        assert_eq!(access(Layer::default()).unwrap(), MountAccess::default());
        assert!(!auto_unmount(&[&Layer::default()]));
        assert_eq!(metrics_addr(&[&Layer::default()]).unwrap(), None);
    }

    #[test]
    fn modes_are_octal_and_the_umask_takes_bits_away() {
        let got = access(Layer {
            file_mode: Some("0440".into()),
            dir_mode: Some("550".into()),
            umask: Some("0o007".into()),
            uid: Some(1000),
            gid: Some(100),
            allow_other: Some(true),
            ..Layer::default()
        })
        .unwrap();
        assert_eq!(got.file_mode, 0o440);
        assert_eq!(got.dir_mode, 0o550);
        assert_eq!((got.uid, got.gid), (Some(1000), Some(100)));
        assert_eq!(got.allow, AllowUsers::Everyone);
        let masked = access(Layer {
            umask: Some("027".into()),
            ..Layer::default()
        })
        .unwrap();
        assert_eq!((masked.file_mode, masked.dir_mode), (0o440, 0o550));
    }

    #[test]
    fn bad_modes_writable_modes_and_both_allows_are_refused() {
        let bad = access(Layer {
            file_mode: Some("rw-r--r--".into()),
            ..Layer::default()
        });
        assert!(matches!(
            bad,
            Err(ConfigError::BadMode {
                key: "file_mode",
                ..
            })
        ));
        let big = access(Layer {
            dir_mode: Some("1777".into()),
            ..Layer::default()
        });
        assert!(matches!(big, Err(ConfigError::BadMode { .. })));
        let writable = access(Layer {
            file_mode: Some("0644".into()),
            ..Layer::default()
        });
        assert!(matches!(writable, Err(ConfigError::WritableMode { .. })));
        let both = access(Layer {
            allow_other: Some(true),
            allow_root: Some(true),
            ..Layer::default()
        });
        assert!(matches!(both, Err(ConfigError::AllowOtherAndRoot)));
        let addr = Layer {
            metrics_addr: Some("localhost".into()),
            ..Layer::default()
        };
        assert!(matches!(
            metrics_addr(&[&addr]),
            Err(ConfigError::BadMetricsAddr(_))
        ));
        let addr = Layer {
            metrics_addr: Some("127.0.0.1:9187".into()),
            ..Layer::default()
        };
        assert_eq!(
            metrics_addr(&[&addr]).unwrap(),
            Some("127.0.0.1:9187".parse().unwrap())
        );
    }
}
