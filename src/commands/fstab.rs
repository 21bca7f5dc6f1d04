//! The mount(8) helper form. For `TYPE fuse.sfmount` with source `CONFIG`, or `TYPE fuse`
//! with source `sfmount#CONFIG`, mount(8) runs mount.fuse3, which runs
//! `sfmount CONFIG MOUNTPOINT -o OPTIONS`. This module turns that into the ordinary
//! `sfmount mount MOUNTPOINT --config CONFIG --daemon ...`, so each option is checked by
//! the same flag table as the command line, and mount(8) gets its answer once the mount
//! serves.
//!
//! mount.fuse3 already drops the words meant for mount(8) and systemd (`_netdev`, `nofail`,
//! `noauto`, `x-systemd.*`, `defaults`, `user`...) and adds `nosuid,nodev,noexec` for user
//! mounts; the same words are ignored here too, so sfmount can also be called as a helper
//! directly.

use std::ffi::OsString;

use anyhow::bail;

/// Options mount(8), mount.fuse3 or systemd pass along that mean nothing more here: sfmount
/// always mounts read-only, nodev, nosuid, noexec and noatime.
const IGNORED: &[&str] = &[
    "ro",
    "defaults",
    "auto",
    "noauto",
    "user",
    "nouser",
    "users",
    "owner",
    "group",
    "_netdev",
    "nofail",
    "nodev",
    "nosuid",
    "noexec",
    "dev",
    "suid",
    "exec",
    "atime",
    "noatime",
    "relatime",
    "strictatime",
    "lazytime",
    "nodiratime",
    "async",
    "sync",
];

/// Option prefixes of other programs: systemd (`x-systemd.automount`), desktops (`x-gvfs-show`),
/// and fstab comments.
const IGNORED_PREFIXES: &[&str] = &["x-", "comment="];

/// Options without a value that become a flag of `sfmount mount`.
const SWITCHES: &[&str] = &["allow_other", "allow_root", "auto_unmount", "no_cache"];

/// Options with a value that become `--name value` (underscores as dashes).
const VALUED: &[&str] = &[
    "uid",
    "gid",
    "file_mode",
    "dir_mode",
    "umask",
    "cache_dir",
    "interval",
    "format",
    "request_timeout",
    "memory_cache_size",
    "max_cache_size",
    "metrics_addr",
    "metrics_listen",
    "log_file",
    "log_level",
];

/// The process's arguments as clap should read them: a helper call becomes `sfmount mount
/// ...`, anything else is left as it is.
pub fn command_line(argv: Vec<OsString>) -> anyhow::Result<Vec<OsString>> {
    use clap::CommandFactory;
    let subcommands: Vec<String> = crate::cli::Cli::command()
        .get_subcommands()
        .map(|sub| sub.get_name().to_string())
        .chain(["help".to_string()])
        .collect();
    let Some((program, args)) = argv.split_first() else {
        return Ok(argv);
    };
    if !is_helper_call(args, &subcommands) {
        return Ok(argv);
    }
    let mut out = vec![program.clone()];
    out.extend(to_mount_args(args)?);
    Ok(out)
}

/// The arguments of a helper call (`argv` without the program name), when they are one:
/// a first word that is not a subcommand or a flag, then a mountpoint.
pub fn is_helper_call(args: &[OsString], subcommands: &[String]) -> bool {
    let Some(first) = args.first().and_then(|a| a.to_str()) else {
        return false;
    };
    args.len() >= 2 && !first.starts_with('-') && !subcommands.iter().any(|s| s == first)
}

/// `CONFIG MOUNTPOINT [-o OPTIONS]...` as the arguments of `sfmount mount`.
pub fn to_mount_args(args: &[OsString]) -> anyhow::Result<Vec<OsString>> {
    let mut words = args.iter();
    let source = words.next().cloned().unwrap_or_default();
    let Some(mountpoint) = words.next().cloned() else {
        bail!("usage as a mount helper: sfmount CONFIG MOUNTPOINT [-o OPTIONS]");
    };
    let mut options = Vec::new();
    while let Some(word) = words.next() {
        match word.to_str() {
            Some("-o") => match words.next().and_then(|w| w.to_str()) {
                Some(list) => options.extend(list.split(',').map(str::to_string)),
                None => bail!("-o needs a list of mount options"),
            },
            Some(list) if list.starts_with("-o") => {
                options.extend(list[2..].split(',').map(str::to_string))
            }
            // mount(8)'s own: no mtab (-n), sloppy (-s), verbose (-v).
            Some("-n" | "-s" | "-v") => {}
            _ => bail!(
                "unexpected argument {:?} for the mount helper form (sfmount CONFIG MOUNTPOINT -o OPTIONS)",
                word
            ),
        }
    }
    let mut out: Vec<OsString> = vec!["mount".into(), mountpoint];
    if !source.is_empty() && source != "none" {
        out.push("--config".into());
        out.push(source);
    }
    let mut daemon = true;
    for option in options.iter().map(|o| o.trim()).filter(|o| !o.is_empty()) {
        let (name, value) = match option.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (option, None),
        };
        if name == "rw" {
            bail!(
                "sfmount mounts read-only: use the option `ro` (mount -o ro, or `ro` in the fstab \
                 line) instead of `rw`"
            );
        }
        if name == "foreground" {
            daemon = false;
            continue;
        }
        if IGNORED.contains(&name) || IGNORED_PREFIXES.iter().any(|p| option.starts_with(p)) {
            continue;
        }
        let flag = format!("--{}", name.replace('_', "-"));
        match value {
            None if SWITCHES.contains(&name) => out.push(flag.into()),
            Some(value) if VALUED.contains(&name) => {
                out.push(flag.into());
                out.push(value.into());
            }
            _ if SWITCHES.contains(&name) => bail!("mount option {name} takes no value"),
            _ if VALUED.contains(&name) => bail!("mount option {name} needs a value ({name}=...)"),
            _ => bail!(
                "unknown mount option {option:?}: sfmount understands ro, allow_other, \
                 allow_root, auto_unmount, uid=, gid=, file_mode=, dir_mode=, umask=, \
                 cache_dir=, no_cache, interval=, format=, request_timeout=, \
                 memory_cache_size=, max_cache_size=, metrics_listen=, log_file=, log_level= and \
                 foreground (docs/running.md)"
            ),
        }
    }
    if daemon {
        out.push("--daemon".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    fn translated(words: &[&str]) -> Vec<String> {
        to_mount_args(&args(words))
            .unwrap()
            .into_iter()
            .map(|w| w.into_string().unwrap())
            .collect()
    }

    #[test]
    fn only_a_first_word_that_is_no_subcommand_is_a_helper_call() {
        let subcommands = vec!["mount".to_string(), "check".to_string()];
        assert!(is_helper_call(
            &args(&["/etc/sf.toml", "/mnt"]),
            &subcommands
        ));
        assert!(!is_helper_call(&args(&["mount", "/mnt"]), &subcommands));
        assert!(!is_helper_call(&args(&["--help", "/mnt"]), &subcommands));
        assert!(!is_helper_call(&args(&["/etc/sf.toml"]), &subcommands));
    }

    #[test]
    fn mount_options_become_flags_and_the_words_of_mount_and_systemd_are_ignored() {
        let out = translated(&[
            "/etc/sf.toml",
            "/mnt/sf",
            "-o",
            "ro,nosuid,nodev,allow_other,uid=1000,gid=100,_netdev,nofail,noauto,x-systemd.automount,defaults,interval=5m,cache_dir=/var/cache/sf",
        ]);
        assert_eq!(
            out,
            [
                "mount",
                "/mnt/sf",
                "--config",
                "/etc/sf.toml",
                "--allow-other",
                "--uid",
                "1000",
                "--gid",
                "100",
                "--interval",
                "5m",
                "--cache-dir",
                "/var/cache/sf",
                "--daemon",
            ]
        );
        assert_eq!(
            translated(&["/etc/sf.toml", "/mnt/sf", "-o", "ro,foreground"]),
            ["mount", "/mnt/sf", "--config", "/etc/sf.toml"]
        );
        // The metrics address under the flag's name and under the settings key's.
        for option in ["metrics_listen", "metrics_addr"] {
            let list = format!("ro,foreground,{option}=127.0.0.1:9187");
            let out = translated(&["/etc/sf.toml", "/mnt/sf", "-o", &list]);
            assert_eq!(
                out[4..],
                [
                    format!("--{}", option.replace('_', "-")),
                    "127.0.0.1:9187".into()
                ]
            );
        }
    }

    #[test]
    fn rw_and_unknown_options_are_refused_with_the_fix() {
        let error = to_mount_args(&args(&["c", "/m", "-o", "rw"])).unwrap_err();
        assert!(error.to_string().contains("`ro`"), "{error}");
        let error = to_mount_args(&args(&["c", "/m", "-o", "ro,turbo"])).unwrap_err();
        assert!(error.to_string().contains("\"turbo\""), "{error}");
        let error = to_mount_args(&args(&["c", "/m", "-o", "uid"])).unwrap_err();
        assert!(error.to_string().contains("uid=..."), "{error}");
        let error = to_mount_args(&args(&["c", "/m", "--weird"])).unwrap_err();
        assert!(error.to_string().contains("--weird"), "{error}");
    }
}
