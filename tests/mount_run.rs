//! Running the binary as a system mount: `--daemon` returns once serving (or fails with the
//! reason), mount(8) with an fstab line and the helper form, `umount` ends the daemon,
//! systemd's readiness notices, `--auto-unmount` after SIGKILL, an external unmount without
//! a false warning, and a mount in a private mount namespace unseen outside it.

mod mount_support;

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use sfmount::fake_org::{FakeOrg, FakeOrgConfig};

use mount_support::*;

const BIN: &str = env!("CARGO_BIN_EXE_sfmount");

/// How long a mount or an unmount may take on a loaded CI machine before the test fails.
const PATIENCE: Duration = Duration::from_secs(30);

struct Setup {
    org: FakeOrg,
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        let org = FakeOrg::start(FakeOrgConfig {
            records: 20,
            ..FakeOrgConfig::default()
        })
        .expect("fake org");
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("mnt")).unwrap();
        Setup { org, dir }
    }

    fn mountpoint(&self) -> std::path::PathBuf {
        self.dir.path().join("mnt")
    }

    fn settings(&self, extra: &str) -> std::path::PathBuf {
        write_settings(&self.org, self.dir.path(), extra)
    }

    fn log(&self) -> std::path::PathBuf {
        self.dir.path().join("sfmount.log")
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(self.log()).unwrap_or_default()
    }
}

/// Waits until no sfmount serves `mountpoint` any more; false if one still does.
fn wait_for_exit(mountpoint: &Path) -> bool {
    wait_until(PATIENCE, || serving_pids(mountpoint).is_empty()).is_some()
}

#[test]
fn daemon_returns_once_serving_and_umount_ends_it() {
    if !fuse_available("daemon_returns_once_serving_and_umount_ends_it") {
        return;
    }
    let setup = Setup::new();
    let mnt = setup.mountpoint();
    let output = Command::new(BIN)
        .arg("mount")
        .arg(&mnt)
        .arg("--config")
        .arg(setup.settings(""))
        .arg("--daemon")
        .arg("--log-file")
        .arg(setup.log())
        .output()
        .unwrap();
    let guard = scopeguard(&mnt);
    assert!(output.status.success(), "{output:?} {}", setup.log_text());
    // Ready means serving: no waiting here.
    assert!(is_mounted(&mnt), "not mounted when --daemon returned");
    assert!(names(&mnt).contains(&"Standard Objects".to_string()));
    assert!(!names(&mnt.join("Standard Objects/Account")).is_empty());
    let pids = serving_pids(&mnt);
    assert_eq!(pids.len(), 1, "one daemon: {pids:?}");

    let status = Command::new("umount").arg(&mnt).status().unwrap();
    assert!(status.success());
    assert!(wait_for_exit(&mnt), "the daemon outlived its mount");
    let log = setup.log_text();
    assert!(log.contains("mounted"), "{log}");
    assert!(log.contains("unmounted from outside"), "{log}");
    assert!(!log.contains("Unmount failed"), "{log}");
    drop(guard);
}

#[test]
fn daemon_that_cannot_start_says_why_with_its_exit_code() {
    if !fuse_available("daemon_that_cannot_start_says_why_with_its_exit_code") {
        return;
    }
    let setup = Setup::new();
    let mnt = setup.mountpoint();
    let settings = setup.settings("");
    let text = std::fs::read_to_string(&settings).unwrap();
    let wrong = text.replace(setup.org.client_secret(), "not-the-secret");
    std::fs::write(&settings, wrong).unwrap();
    let output = Command::new(BIN)
        .arg("mount")
        .arg(&mnt)
        .arg("--config")
        .arg(&settings)
        .arg("--daemon")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot connect to Salesforce"), "{stderr}");
    assert!(!stderr.contains("not-the-secret"), "{stderr}");

    let logins = setup.org.stats().requests.token;
    assert!(logins >= 1);
    // A settings error is a usage error (2), reported by the daemon through the same pipe.
    std::fs::write(&settings, format!("{text}file_mode = \"0644\"\n")).unwrap();
    let output = Command::new(BIN)
        .arg("mount")
        .arg(&mnt)
        .arg("--config")
        .arg(&settings)
        .arg("--daemon")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("write bits"), "{stderr}");
    assert_eq!(
        setup.org.stats().requests.token,
        logins,
        "the bad mode is found before a login"
    );
}

#[test]
fn an_fstab_line_mounts_with_mount_and_unmounts_with_umount() {
    if !fuse_available("an_fstab_line_mounts_with_mount_and_unmounts_with_umount") {
        return;
    }
    let setup = Setup::new();
    let mnt = setup.mountpoint();
    let settings = setup.settings("");
    let fstab = setup.dir.path().join("fstab");
    std::fs::write(
        &fstab,
        format!(
            "# a test fstab\n{BIN}#{} {} fuse ro,noauto,_netdev,nofail,x-systemd.automount,interval=1h,log_file={} 0 0\n",
            settings.display(),
            mnt.display(),
            setup.log().display()
        ),
    )
    .unwrap();
    let guard = scopeguard(&mnt);
    let output = Command::new("mount")
        .arg("-T")
        .arg(&fstab)
        .arg(&mnt)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?} {}", setup.log_text());
    assert!(
        is_mounted(&mnt),
        "mount(8) returned before the mount served"
    );
    assert!(names(&mnt).contains(&"Standard Objects".to_string()));
    let output = Command::new("umount").arg(&mnt).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(
        wait_for_exit(&mnt),
        "the helper's daemon outlived its mount"
    );

    // Without `ro`, mount(8) passes `rw`: refused, with the fix.
    let output = Command::new("mount")
        .arg("-t")
        .arg("fuse")
        .arg(format!("{BIN}#{}", settings.display()))
        .arg(&mnt)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("read-only") && stderr.contains("`ro`"),
        "{stderr}"
    );
    assert!(!is_mounted(&mnt));
    drop(guard);
}

#[test]
fn type_fuse_sfmount_finds_the_helper_on_mounts_path() {
    if !fuse_available("type_fuse_sfmount_finds_the_helper_on_mounts_path") {
        return;
    }
    // mount.fuse3 runs the program named by the type from a fixed PATH; /usr/local/sbin is
    // on it. Only a machine where nothing is installed there is touched.
    let link = Path::new("/usr/local/sbin/sfmount");
    if link.exists() || std::fs::symlink_metadata(link).is_ok() {
        println!("SKIP: {} exists; not replacing it", link.display());
        return;
    }
    if std::os::unix::fs::symlink(BIN, link).is_err() {
        println!("SKIP: cannot link {}", link.display());
        return;
    }
    struct Unlink<'a>(&'a Path);
    impl Drop for Unlink<'_> {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(self.0);
        }
    }
    let _unlink = Unlink(link);
    let setup = Setup::new();
    let mnt = setup.mountpoint();
    let guard = scopeguard(&mnt);
    let output = Command::new("mount")
        .args(["-t", "fuse.sfmount"])
        .arg(setup.settings(""))
        .arg(&mnt)
        .arg("-o")
        .arg(format!("ro,allow_other,log_file={}", setup.log().display()))
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?} {}", setup.log_text());
    assert!(names(&mnt).contains(&"Standard Objects".to_string()));
    assert!(Command::new("umount").arg(&mnt).status().unwrap().success());
    assert!(wait_for_exit(&mnt));
    drop(guard);
}

#[test]
fn systemd_hears_ready_once_serving_and_stopping_on_sigterm() {
    if !fuse_available("systemd_hears_ready_once_serving_and_stopping_on_sigterm") {
        return;
    }
    let setup = Setup::new();
    let mnt = setup.mountpoint();
    let socket_path = setup.dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket.set_read_timeout(Some(PATIENCE)).unwrap();
    let settings = setup.settings("");
    let mut mount = MountProcess::start(
        &mnt,
        &["--config", settings.to_str().unwrap()],
        &[("NOTIFY_SOCKET", socket_path.to_str().unwrap())],
    );
    let mut buffer = [0u8; 256];
    let n = socket
        .recv(&mut buffer)
        .expect("READY=1 within the patience");
    let ready = String::from_utf8_lossy(&buffer[..n]).to_string();
    assert!(ready.starts_with("READY=1\n"), "{ready}");
    assert!(
        ready.contains(&format!("MAINPID={}", mount.child.id())),
        "{ready}"
    );
    assert!(is_mounted(&mnt), "READY=1 before the mount served");
    mount.signal(libc::SIGTERM);
    let n = socket.recv(&mut buffer).expect("STOPPING=1");
    assert_eq!(&buffer[..n], b"STOPPING=1");
    let status = mount.child.wait().unwrap();
    assert!(status.success(), "{}", mount.log_text());
    assert!(!is_mounted(&mnt));
}

#[test]
fn auto_unmount_leaves_no_dead_mount_after_sigkill() {
    if !fuse_available("auto_unmount_leaves_no_dead_mount_after_sigkill") {
        return;
    }
    let setup = Setup::new();
    let mnt = setup.mountpoint();
    let settings = setup.settings("");
    let mut mount = MountProcess::start(
        &mnt,
        &["--config", settings.to_str().unwrap(), "--auto-unmount"],
        &[],
    );
    assert!(wait_for_mount(&mnt, PATIENCE), "{}", mount.log_text());
    // Through fusermount3 the kernel shows the subtype: indexers can tell it apart.
    assert_eq!(mount_type(&mnt).as_deref(), Some("fuse.sfmount"));
    let _ = mount.child.kill();
    let _ = mount.child.wait();
    assert!(
        wait_until(PATIENCE, || !is_mounted(&mnt)).is_some(),
        "fusermount3 did not unmount after SIGKILL"
    );
    assert!(std::fs::read_dir(&mnt).is_ok(), "a dead mount was left");
}

#[test]
fn an_external_fusermount_unmount_ends_cleanly_without_a_false_warning() {
    if !fuse_available("an_external_fusermount_unmount_ends_cleanly_without_a_false_warning") {
        return;
    }
    let setup = Setup::new();
    let mnt = setup.mountpoint();
    let settings = setup.settings("");
    let mut mount = MountProcess::start(&mnt, &["--config", settings.to_str().unwrap()], &[]);
    assert!(wait_for_mount(&mnt, PATIENCE), "{}", mount.log_text());
    let status = Command::new("fusermount3")
        .arg("-u")
        .arg(&mnt)
        .status()
        .unwrap();
    assert!(status.success());
    let exited = wait_until(PATIENCE, || matches!(mount.child.try_wait(), Ok(Some(_))));
    assert!(exited.is_some(), "still running after the unmount");
    assert!(mount.child.wait().unwrap().success());
    let log = mount.log_text();
    assert!(log.contains("unmounted from outside"), "{log}");
    assert!(!log.contains("Unmount failed"), "{log}");
    assert!(!log.contains("WARN"), "{log}");
}

#[test]
fn a_mount_in_a_private_namespace_is_invisible_outside_it() {
    if !fuse_available("a_mount_in_a_private_namespace_is_invisible_outside_it") {
        return;
    }
    let setup = Setup::new();
    let mnt = setup.mountpoint();
    let settings = setup.settings("");
    let listing = setup.dir.path().join("listing");
    let done = setup.dir.path().join("done");
    let script = format!(
        "set -e; '{BIN}' mount '{mnt}' --config '{cfg}' --daemon --log-file '{log}'; \
         ls '{mnt}' > '{listing}.tmp'; mv '{listing}.tmp' '{listing}'; \
         while [ ! -e '{done}' ]; do sleep 0.05; done; umount '{mnt}'",
        mnt = mnt.display(),
        cfg = settings.display(),
        log = setup.log().display(),
        listing = listing.display(),
        done = done.display(),
    );
    let mut inside = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .spawn()
        .unwrap();
    let listed = wait_until(PATIENCE, || listing.exists());
    let seen_inside = std::fs::read_to_string(&listing).unwrap_or_default();
    let seen_outside = is_mounted(&mnt);
    let empty_outside = std::fs::read_dir(&mnt).map(|d| d.count()).unwrap_or(99);
    std::fs::write(&done, b"").unwrap();
    let status = inside.wait().unwrap();
    assert!(
        listed.is_some(),
        "never mounted inside: {}",
        setup.log_text()
    );
    assert!(seen_inside.contains("Standard Objects\n"), "{seen_inside}");
    assert!(
        !seen_outside,
        "the private mount shows outside its namespace"
    );
    assert_eq!(
        empty_outside, 0,
        "outside, the mountpoint is the empty folder"
    );
    assert!(status.success(), "{}", setup.log_text());
}

/// Unmounts `path` at the end of a test, whatever happened.
struct Unmounter(std::path::PathBuf);

impl Drop for Unmounter {
    fn drop(&mut self) {
        force_unmount(&self.0);
        for pid in serving_pids(&self.0) {
            // SAFETY: kill(2) on a pid found serving this test's mountpoint.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

fn scopeguard(path: &Path) -> Unmounter {
    Unmounter(path.to_path_buf())
}

#[test]
fn without_cap_sys_admin_the_error_says_what_to_add() {
    if !fuse_available("without_cap_sys_admin_the_error_says_what_to_add") {
        return;
    }
    let setup = Setup::new();
    let mnt = setup.mountpoint();
    // As a container without the capability: root, but no CAP_SYS_ADMIN at all (the setuid
    // fusermount3 cannot get it back either).
    let output = Command::new("setpriv")
        .args([
            "--bounding-set=-sys_admin",
            "--inh-caps=-sys_admin",
            BIN,
            "mount",
        ])
        .arg(&mnt)
        .arg("--config")
        .arg(setup.settings(""))
        .output()
        .unwrap();
    let guard = scopeguard(&mnt);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot mount on"), "{stderr}");
    assert!(stderr.contains("--cap-add SYS_ADMIN"), "{stderr}");
    assert!(!is_mounted(&mnt));
    drop(guard);
}

#[test]
fn a_user_who_cannot_open_dev_fuse_is_told_what_to_change() {
    if !fuse_available("a_user_who_cannot_open_dev_fuse_is_told_what_to_change") {
        return;
    }
    let setup = Setup::new();
    let mnt = setup.mountpoint();
    let dir = setup.dir.path();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::create_dir(dir.join("dev")).unwrap();
    let chown = Command::new("chown").arg("65534:65534").arg(&mnt).status();
    assert!(chown.unwrap().success());
    // Only inside a private mount namespace: /dev/fuse there is a copy of mode 0600, so the
    // machine's own /dev/fuse is never touched.
    let script = format!(
        "set -e; mount -t tmpfs none '{dev}'; mknod '{dev}/fuse' c 10 229; \
         chmod 600 '{dev}/fuse'; mount --bind '{dev}/fuse' /dev/fuse; \
         exec setpriv --reuid 65534 --regid 65534 --clear-groups '{BIN}' mount '{mnt}' \
         --login-url '{url}' --client-id '{id}' --standard-objects Account --no-cache",
        dev = dir.join("dev").display(),
        mnt = mnt.display(),
        url = setup.org.base_url(),
        id = setup.org.client_id(),
    );
    let output = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .env("SFMOUNT_CLIENT_SECRET", setup.org.client_secret())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot open /dev/fuse"), "{stderr}");
    assert!(
        stderr.contains("0666") && stderr.contains("group"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("Permission denied").count(), 1, "{stderr}");
}

#[test]
fn a_daemon_without_a_log_file_logs_to_syslog() {
    if !fuse_available("a_daemon_without_a_log_file_logs_to_syslog") {
        return;
    }
    let setup = Setup::new();
    let mnt = setup.mountpoint();
    let dir = setup.dir.path();
    let syslog_path = dir.join("syslog.sock");
    let syslog = UnixDatagram::bind(&syslog_path).unwrap();
    syslog.set_read_timeout(Some(PATIENCE)).unwrap();
    // In a private mount namespace, /dev is a fresh tmpfs whose `log` is this test's socket
    // (and whose `fuse` and `null` are the usual devices), so nothing of the machine's
    // syslog is touched.
    let script = format!(
        "set -e; mount -t tmpfs none /dev; mknod -m 666 /dev/fuse c 10 229; \
         mknod -m 666 /dev/null c 1 3; touch /dev/log; mount --bind '{sock}' /dev/log; \
         '{BIN}' mount '{mnt}' --config '{cfg}' --daemon; ls '{mnt}' > /dev/null; umount '{mnt}'",
        sock = syslog_path.display(),
        mnt = mnt.display(),
        cfg = setup.settings("").display(),
    );
    let output = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let mut lines = Vec::new();
    let mut buffer = [0u8; 4096];
    while let Ok(n) = syslog.recv(&mut buffer) {
        let line = String::from_utf8_lossy(&buffer[..n]).to_string();
        let done = line.contains("unmounted from outside");
        lines.push(line);
        if done {
            break;
        }
    }
    let text = lines.join("\n");
    // <30> is facility daemon (3 × 8) at priority info (6); the identity carries the pid.
    let mounted = lines
        .iter()
        .find(|line| line.contains("mounted; stop with"))
        .unwrap_or_else(|| panic!("no mount line in: {text}"));
    assert!(mounted.starts_with("<30>"), "{mounted}");
    assert!(mounted.contains("sfmount["), "{mounted}");
    assert!(text.contains("unmounted from outside"), "{text}");
    assert!(!text.contains(setup.org.client_secret()), "{text}");
}
