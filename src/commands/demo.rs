//! `sfmount demo`: the built-in fake org on loopback, mounted with the six standard objects
//! and every custom object, until SIGINT/SIGTERM.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use super::mount::{build_runtime, check_mountpoint, mount_org};
use crate::catalog::CustomObjects;
use crate::cli::DemoArgs;
use crate::config::{parse_duration, Login, Settings};
use crate::fake_org::{FakeOrg, FakeOrgConfig};
use crate::secret::Secret;

pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    let interval = parse_duration(&args.interval)?;
    let mountpoint = check_mountpoint(&args.mountpoint, true)?;
    let org = FakeOrg::start(FakeOrgConfig {
        records: args.records,
        seed: args.seed,
        ..FakeOrgConfig::default()
    })
    .context("cannot start the built-in fake org")?;
    tracing::info!(url = %org.base_url(), "fake org started");

    let mut settings = Settings::new(
        Login::Url(org.base_url()),
        org.client_id(),
        Secret::new(org.client_secret().to_string()),
    );
    settings.objects.sync_custom_objects = true;
    settings.objects.custom_objects = CustomObjects::All;
    settings.format = args.format;
    settings.interval = interval;
    // The demo's store lives as long as the demo: a fake org's data is not worth keeping.
    let cache = tempfile::Builder::new()
        .prefix("sfmount-demo-cache-")
        .tempdir()
        .context("cannot create the demo's temporary cache folder")?;
    settings.cache_dir = Some(cache.path().to_path_buf());

    let runtime = build_runtime()?;
    let result = mount_org(
        &runtime,
        &settings,
        &mountpoint,
        "sfmount-demo",
        print_hints,
    );
    org.shutdown();
    result
}

/// A few commands to try, on stdout (logs go to stderr).
fn print_hints(mountpoint: &Path) {
    let root = shell_quote(&mountpoint.to_string_lossy());
    let hints = format!(
        "sfmount demo: a fake Salesforce org is mounted at {root}\n\
         Try, in another terminal:\n\
         \x20 ls {root} {root}/'Standard Objects'\n\
         \x20 ls -l {root}/'Standard Objects'/Account | head\n\
         \x20 cat {root}/'Standard Objects'/Account/.sobject.json\n\
         \x20 grep -rl needle {root}/'Standard Objects'/Case\n\
         \x20 find {root} -name '*[500*'\n\
         Stop with Ctrl-C (the mount is removed).\n"
    );
    let mut stdout = std::io::stdout().lock();
    // A closed stdout must not stop the mount.
    let _ = stdout
        .write_all(hints.as_bytes())
        .and_then(|()| stdout.flush());
}

/// Single-quotes a path for a POSIX shell when it needs it.
fn shell_quote(text: &str) -> String {
    if text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c))
    {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_quoted_only_when_needed() {
        assert_eq!(shell_quote("/mnt/sf"), "/mnt/sf");
        assert_eq!(shell_quote("/mnt/my org"), "'/mnt/my org'");
        assert_eq!(shell_quote("/mnt/it's"), "'/mnt/it'\\''s'");
    }
}
