//! Real mounts of the built binary against an in-process fake org: what users do (`ls`,
//! `cat`, `grep -r`, `find`, `stat`), what it costs in API calls, and clean shutdown.

mod mount_support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use sfmount::fake_org::{FakeOrg, FakeOrgConfig};

use mount_support::*;

const BINARY: &str = env!("CARGO_BIN_EXE_sfmount");
/// The six standard objects (the default) and every custom object.
const ALL_OBJECTS: &[&str] = &["--sync-custom-objects", "true", "--custom-objects", "*"];
/// Only the Account folder.
const ACCOUNT_ONLY: &[&str] = &[
    "--standard-objects",
    "Account",
    "--sync-custom-objects",
    "false",
];

/// A running `sfmount` process with its mount; stopping or dropping it always leaves no mount.
struct MountProcess {
    child: Option<Child>,
    dir: tempfile::TempDir,
    /// The process's stderr goes to a file: a pipe nobody reads would block it when full.
    log: tempfile::NamedTempFile,
    /// The mount's local store (`--cache-dir`), never the real ~/.cache; the demo keeps its
    /// own.
    _cache: Option<tempfile::TempDir>,
}

impl MountProcess {
    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// SIGTERM, then the exit status (killed after 20 s, so a test never hangs).
    fn terminate(&mut self) -> Option<ExitStatus> {
        self.stop_with(libc::SIGTERM)
    }

    /// Sends `signal`, then returns the exit status (killed after 20 s: None).
    fn stop_with(&mut self, signal: libc::c_int) -> Option<ExitStatus> {
        let child = self.child.as_ref()?;
        // SAFETY: kill(2) on the pid of a child we own and have not reaped.
        unsafe { libc::kill(child.id() as libc::pid_t, signal) };
        self.wait_for_exit()
    }

    /// The exit status once the process ends (killed after 20 s: None).
    fn wait_for_exit(&mut self) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        None
    }

    /// Stops the process and returns its exit status and everything it wrote to stderr.
    fn stop_with_stderr(&mut self) -> (Option<ExitStatus>, String) {
        let status = self.terminate();
        let text = std::fs::read_to_string(self.log.path()).unwrap_or_default();
        (status, text)
    }
}

impl Drop for MountProcess {
    fn drop(&mut self) {
        self.terminate();
        force_unmount(self.dir.path());
    }
}

fn start_org(records: usize) -> FakeOrg {
    FakeOrg::start(FakeOrgConfig {
        records,
        ..FakeOrgConfig::default()
    })
    .expect("fake org")
}

/// `sfmount mount` against `org`, waiting until the mount answers.
fn mount(org: &FakeOrg, extra: &[&str]) -> MountProcess {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = tempfile::NamedTempFile::new().expect("log file");
    let cache = tempfile::tempdir().expect("cache dir");
    let child = Command::new(BINARY)
        .arg("mount")
        .arg(dir.path())
        .args([
            "--login-url",
            &org.base_url(),
            "--client-id",
            org.client_id(),
        ])
        .arg("--cache-dir")
        .arg(cache.path())
        .args(extra)
        .env("SFMOUNT_CLIENT_SECRET", org.client_secret())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log.reopen().expect("log file"))
        .spawn()
        .expect("spawn sfmount");
    let mut process = MountProcess {
        child: Some(child),
        dir,
        log,
        _cache: Some(cache),
    };
    if !wait_for_mount(process.path(), Duration::from_secs(30)) {
        let (status, stderr) = process.stop_with_stderr();
        panic!("sfmount did not mount (status {status:?}): {stderr}");
    }
    process
}

fn folder(m: &MountProcess, group: &str, object: &str) -> PathBuf {
    m.path().join(group).join(object)
}

fn run(command: &mut Command) -> (bool, String) {
    let output = command.output().expect("run command");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).to_string(),
    )
}

#[test]
fn ls_cat_grep_find_and_stat_work_and_a_listed_folder_costs_nothing_more() {
    if !fuse_available("ls_cat_grep_find_and_stat_work") {
        return;
    }
    let org = start_org(60);
    let m = mount(&org, ALL_OBJECTS);

    // ls at each level.
    assert_eq!(
        names(m.path()),
        [
            ".sfmount-changes.jsonl",
            ".sfmount-status.json",
            "Custom Objects",
            "Standard Objects"
        ]
    );
    let standard = names(&m.path().join("Standard Objects"));
    for object in sfmount::catalog::DEFAULT_STANDARD_OBJECTS {
        assert!(standard.contains(&object.to_string()), "{standard:?}");
    }
    assert!(!names(&m.path().join("Custom Objects")).is_empty());
    let account = folder(&m, "Standard Objects", "Account");
    let files = file_names(&account);
    assert!(files.len() > 60, "{} Account files", files.len());
    assert_eq!(files[0], ".sobject.json");

    // cat + JSON.
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(account.join(&files[1])).unwrap()).unwrap();
    let id = record["Id"].as_str().expect("an Id");
    assert!(files[1].contains(id));
    assert!(sfmount::sfid::is_valid_18(id));

    // stat size equals bytes read, for every file of the folder.
    for name in &files {
        let path = account.join(name);
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            std::fs::read(&path).unwrap().len() as u64,
            "{name}"
        );
    }

    // A second ls -l and stats of a listed folder make zero requests.
    let before = org.stats();
    let (ok, listing) = run(Command::new("ls").arg("-lA").arg(&account));
    assert!(ok);
    assert_eq!(
        listing.lines().count(),
        names(&account).len() + 1,
        "ls -l shows every file and .files folder"
    );
    for name in &files {
        std::fs::metadata(account.join(name)).unwrap();
    }
    assert_eq!(org.stats(), before, "no request after the first listing");

    // grep -r finds the fake org's feed comment marker in a Case file.
    let (found, matches) = run(Command::new("grep")
        .arg("-rl")
        .arg(sfmount::fake_org::store::FEED_COMMENT_MARKER)
        .arg(m.path().join("Standard Objects/Case")));
    assert!(found, "grep -r found the feed comment marker");
    assert!(matches.lines().all(|l| l.contains("[500")), "{matches}");

    // find -name with an Id glob.
    let (ok, found) = run(Command::new("find")
        .arg(m.path())
        .args(["-name", &format!("*[[]{id}].json")]));
    assert!(ok);
    assert_eq!(found.lines().count(), 1, "{found}");
}

#[test]
fn api_calls_of_a_first_listing_are_the_minimum() {
    if !fuse_available("api_calls_of_a_first_listing_are_the_minimum") {
        return;
    }
    let org = start_org(60);
    let m = mount(&org, ACCOUNT_ONLY);
    let account = folder(&m, "Standard Objects", "Account");
    // The group and object folders exist without listing records.
    assert_eq!(names(&m.path().join("Standard Objects")), ["Account"]);
    assert!(std::fs::metadata(&account).unwrap().is_dir());
    let at_mount = org.stats();
    assert_eq!(at_mount.requests.token, 1);
    assert_eq!(at_mount.requests.describe_global, 1);
    assert_eq!(at_mount.requests.describe, 0, "{at_mount:?}");
    assert_eq!(at_mount.requests.query, 0, "mounting lists no records");

    let files = file_names(&account);
    let listed = org.stats();
    eprintln!("first listing of Account: {listed:?}");
    assert_eq!(listed.requests.token, 1, "token reused");
    assert_eq!(listed.requests.describe_global, 1, "describeGlobal cached");
    // Account and the objects its relationship fields point at, each described once.
    assert!((1..=6).contains(&listed.requests.describe), "{listed:?}");
    // Fewer than 2,000 records: one query page, nothing else.
    assert_eq!(
        listed.requests.query + listed.requests.query_more,
        1,
        "{listed:?}"
    );
    assert_eq!(listed.requests.composite, 0, "{listed:?}");

    for name in &files {
        std::fs::read(account.join(name)).unwrap();
    }
    assert_eq!(org.stats(), listed, "reading listed bodies costs nothing");
}

#[test]
fn sixteen_concurrent_readers() {
    if !fuse_available("sixteen_concurrent_readers") {
        return;
    }
    let org = start_org(40);
    let m = mount(&org, ALL_OBJECTS);
    let case = folder(&m, "Standard Objects", "Case");
    let paths: Vec<PathBuf> = file_names(&case)
        .into_iter()
        .map(|n| case.join(n))
        .collect();
    let expected: Vec<Vec<u8>> = paths.iter().map(|p| std::fs::read(p).unwrap()).collect();
    std::thread::scope(|scope| {
        for reader in 0..16 {
            let (paths, expected) = (&paths, &expected);
            scope.spawn(move || {
                for (i, path) in paths.iter().enumerate().skip(reader % 5) {
                    assert_eq!(&std::fs::read(path).unwrap(), &expected[i]);
                }
            });
        }
    });
}

#[test]
fn writes_fail_with_erofs() {
    if !fuse_available("writes_fail_with_erofs") {
        return;
    }
    let org = start_org(10);
    let m = mount(&org, ACCOUNT_ONLY);
    let account = folder(&m, "Standard Objects", "Account");
    let existing = account.join(&names(&account)[1]);
    let before = org.stats();
    assert_every_mutation_fails_with_erofs(&account, &existing);
    assert_eq!(org.stats(), before, "no mutation reached the org");
}

#[test]
fn sigterm_unmounts_and_exits_zero() {
    if !fuse_available("sigterm_unmounts_and_exits_zero") {
        return;
    }
    let org = start_org(10);
    let mut m = mount(&org, ALL_OBJECTS);
    let path = m.path().to_path_buf();
    assert!(is_mounted(&path));
    let status = m.terminate().expect("sfmount stopped within 20 s");
    assert!(status.success(), "exit status {status:?}");
    assert!(!is_mounted(&path), "no mount left in /proc/mounts");
}

#[test]
fn sigint_unmounts_and_exits_zero() {
    if !fuse_available("sigint_unmounts_and_exits_zero") {
        return;
    }
    let org = start_org(10);
    let mut m = mount(&org, ACCOUNT_ONLY);
    let path = m.path().to_path_buf();
    // The mount has served a listing before the signal.
    assert!(names(&folder(&m, "Standard Objects", "Account")).len() > 10);
    let status = m
        .stop_with(libc::SIGINT)
        .expect("sfmount stopped within 20 s after SIGINT");
    assert!(status.success(), "exit status {status:?}");
    assert!(!is_mounted(&path), "no mount left in /proc/mounts");
}

#[test]
fn an_external_unmount_ends_the_process_with_status_zero() {
    if !fuse_available("an_external_unmount_ends_the_process_with_status_zero") {
        return;
    }
    let org = start_org(5);
    let mut m = mount(&org, ACCOUNT_ONLY);
    let unmounted = Command::new("fusermount3")
        .arg("-u")
        .arg(m.path())
        .status()
        .expect("run fusermount3");
    assert!(unmounted.success());
    let status = m
        .wait_for_exit()
        .expect("sfmount ended within 20 s of the unmount");
    assert!(status.success(), "{status:?}");
    assert!(!is_mounted(m.path()));
}

/// Runs `sfmount mount` expecting it to refuse: returns its stderr after checking that it
/// failed quickly and said so in one line.
fn refused_mount(mountpoint: &Path, args: &[&str], secret: Option<&str>) -> String {
    let mut command = Command::new(BINARY);
    command
        .arg("mount")
        .arg(mountpoint)
        .args(args)
        .env_remove("SFMOUNT_CLIENT_SECRET")
        .env_remove("SFMOUNT_DOMAIN")
        .env_remove("SFMOUNT_CLIENT_ID")
        .env("RUST_LOG", "off");
    if let Some(secret) = secret {
        command.env("SFMOUNT_CLIENT_SECRET", secret);
    }
    let started = Instant::now();
    let output = command.output().expect("run sfmount");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(
        !output.status.success(),
        "{args:?} should be refused: {stderr}"
    );
    assert!(started.elapsed() < Duration::from_secs(30), "{args:?}");
    assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
    assert!(stderr.starts_with("sfmount: "), "{stderr}");
    stderr
}

#[test]
fn bad_settings_are_refused_in_one_line_before_mounting() {
    let org = start_org(10);
    let login = [
        "--login-url",
        &org.base_url(),
        "--client-id",
        org.client_id(),
    ];
    let dir = tempfile::tempdir().unwrap();
    let with = |extra: &[&str]| -> Vec<String> {
        login.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let refuse = |extra: &[&str], secret: Option<&str>| -> String {
        let args = with(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let stderr = refused_mount(dir.path(), &args, secret);
        let mounted = is_mounted(dir.path());
        force_unmount(dir.path());
        assert!(!mounted, "{extra:?} left a mount behind");
        stderr
    };
    let secret = Some(org.client_secret());

    // Settings errors stop sfmount before it spends a request.
    let stderr = refuse(&["--interval", "1s"], secret);
    assert!(stderr.contains("too short"), "{stderr}");
    let stderr = refuse(&["--interval", "soon"], secret);
    assert!(stderr.contains("bad duration \"soon\""), "{stderr}");
    let stderr = refuse(&[], None);
    assert!(stderr.contains("no client secret"), "{stderr}");
    assert!(stderr.contains("SFMOUNT_CLIENT_SECRET"), "{stderr}");
    let stderr = refuse(&["--standard-objects", "Account,*"], secret);
    assert!(stderr.contains("`*` is not allowed"), "{stderr}");
    assert_eq!(
        org.stats().requests.token,
        0,
        "nothing asked of the org yet"
    );

    // Object names are checked against the org's object list, before mounting.
    let stderr = refuse(&["--standard-objects", "Acount"], secret);
    assert!(
        stderr.contains("unknown object \"Acount\"") && stderr.contains("did you mean \"Account\""),
        "{stderr}"
    );
    let stderr = refuse(&["--custom-objects", "Invoice"], secret);
    assert!(
        stderr.contains("end in __c") && stderr.contains("did you mean \"Invoice__c\""),
        "{stderr}"
    );
    let stderr = refuse(&["--custom-objects", "Invoce__c"], secret);
    assert!(stderr.contains("did you mean \"Invoice__c\""), "{stderr}");
    assert_eq!(org.stats().requests.query, 0, "no record listed");

    // Wrong credentials: the OAuth error and what to check, in one line.
    let stderr = refuse(&[], Some("not-the-secret"));
    assert!(stderr.contains("invalid_client"), "{stderr}");
    assert!(
        !stderr.contains("not-the-secret"),
        "the secret is never shown"
    );
}

#[test]
fn an_absent_custom_object_is_a_logged_skip_and_the_rest_is_mounted() {
    if !fuse_available("an_absent_custom_object_is_a_logged_skip") {
        return;
    }
    let org = start_org(5);
    let mut m = mount(
        &org,
        &[
            "--standard-objects",
            "Account",
            "--custom-objects",
            "Absent__c,Invoice__c",
        ],
    );
    assert_eq!(names(&m.path().join("Custom Objects")), ["Invoice__c"]);
    assert!(names(&folder(&m, "Custom Objects", "Invoice__c")).len() > 1);
    let (status, stderr) = m.stop_with_stderr();
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
    let warning = stderr
        .lines()
        .find(|line| line.contains("Absent__c"))
        .unwrap_or_else(|| panic!("no warning about Absent__c in: {stderr}"));
    assert!(warning.contains("not in this org"), "{warning}");
}

#[test]
fn unusable_mountpoints_are_refused_in_one_line() {
    let org = start_org(5);
    let args = [
        "--login-url",
        &org.base_url(),
        "--client-id",
        org.client_id(),
    ];
    let secret = Some(org.client_secret());

    let not_empty = tempfile::tempdir().unwrap();
    std::fs::write(not_empty.path().join("notes.txt"), b"mine").unwrap();
    let stderr = refused_mount(not_empty.path(), &args, secret);
    assert!(stderr.contains("is not empty"), "{stderr}");

    let file = tempfile::NamedTempFile::new().unwrap();
    let stderr = refused_mount(file.path(), &args, secret);
    assert!(stderr.contains("not a directory"), "{stderr}");
    assert_eq!(org.stats().requests.token, 0, "checked before connecting");

    if !fuse_available("unusable_mountpoints_are_refused_in_one_line (already mounted)") {
        return;
    }
    let m = mount(&org, ACCOUNT_ONLY);
    let stderr = refused_mount(m.path(), &args, secret);
    assert!(stderr.contains("already has a FUSE mount"), "{stderr}");
    assert!(is_mounted(m.path()), "the first mount is untouched");
    assert!(names(m.path()).contains(&"Standard Objects".to_string()));
}

#[test]
fn an_org_failing_after_mount_gives_eio_then_recovers() {
    if !fuse_available("an_org_failing_after_mount_gives_eio_then_recovers") {
        return;
    }
    let org = start_org(10);
    let m = mount(&org, ACCOUNT_ONLY);
    let account = folder(&m, "Standard Objects", "Account");
    org.set_faults(sfmount::fake_org::Faults {
        error_rate: Some(1.0),
        ..Default::default()
    });
    let started = Instant::now();
    assert_eq!(errno_of(std::fs::read_dir(&account)), Some(libc::EIO));
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    let status: serde_json::Value =
        serde_json::from_slice(&std::fs::read(account.join(".sobject.json")).unwrap()).unwrap();
    assert_eq!(status["state"], "unlisted");
    assert!(
        status["lastError"].as_str().is_some_and(|e| !e.is_empty()),
        "{status}"
    );

    // Once the org answers again, a later listing succeeds in the same mount.
    org.set_faults(sfmount::fake_org::Faults {
        error_rate: Some(0.0),
        ..Default::default()
    });
    let recovered = Instant::now();
    let files = loop {
        match std::fs::read_dir(&account) {
            Ok(_) => break names(&account),
            Err(_) if recovered.elapsed() < Duration::from_secs(30) => {
                std::thread::sleep(Duration::from_millis(250))
            }
            Err(error) => panic!("still failing after 30 s: {error}"),
        }
    };
    assert!(files.len() > 10, "{files:?}");
}

#[test]
fn a_missing_dev_fuse_is_a_one_line_error() {
    // A private mount namespace whose /dev is an empty tmpfs: the machine's FUSE device is
    // hidden from sfmount and from nobody else. Needs the right to unshare (root, as in CI).
    let can_unshare = Command::new("unshare")
        .args(["--mount", "true"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !can_unshare {
        println!("SKIP a_missing_dev_fuse_is_a_one_line_error: cannot unshare a mount namespace");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg("mount -t tmpfs none /dev && exec \"$0\" mount \"$1\" --login-url http://127.0.0.1:9 --client-id x")
        .arg(BINARY)
        .arg(dir.path())
        .env("SFMOUNT_CLIENT_SECRET", "y")
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("/dev/fuse is missing"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

/// Found by the audit of issue 4: `serve` used to give up when the plain unmount failed with
/// EBUSY, exit 1 and leave a dead mount; it now detaches lazily.
#[test]
fn sigterm_while_a_file_is_open_still_unmounts_and_exits_zero() {
    if !fuse_available("sigterm_while_a_file_is_open_still_unmounts_and_exits_zero") {
        return;
    }
    let org = start_org(5);
    let mut m = mount(&org, ACCOUNT_ONLY);
    let path = m.path().to_path_buf();
    let account = folder(&m, "Standard Objects", "Account");
    // A reader (or a shell whose working directory is inside) keeps the mount busy.
    let held_open = std::fs::File::open(account.join(&names(&account)[1])).unwrap();
    let status = m.terminate().expect("sfmount stopped within 20 s");
    let mounted = is_mounted(&path);
    drop(held_open);
    assert!(status.success(), "exit status {status:?}");
    assert!(!mounted, "no mount left in /proc/mounts");
}

#[test]
fn demo_mounts_prints_hints_and_stops_cleanly() {
    if !fuse_available("demo_mounts_prints_hints_and_stops_cleanly") {
        return;
    }
    let parent = tempfile::tempdir().unwrap();
    // The demo creates a missing mountpoint.
    let mountpoint = parent.path().join("org");
    let log = tempfile::NamedTempFile::new().unwrap();
    let child = Command::new(BINARY)
        .arg("demo")
        .arg(&mountpoint)
        .args(["--records", "20"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(log.reopen().unwrap())
        .spawn()
        .unwrap();
    let mut m = MountProcess {
        child: Some(child),
        dir: parent,
        log,
        _cache: None,
    };
    let mut stdout = m.child.as_mut().and_then(|c| c.stdout.take()).unwrap();
    if !wait_for_mount(&mountpoint, Duration::from_secs(30)) {
        let (status, stderr) = m.stop_with_stderr();
        panic!("demo did not mount (status {status:?}): {stderr}");
    }
    assert!(!names(&mountpoint.join("Custom Objects")).is_empty());
    let account = mountpoint.join("Standard Objects/Account");
    assert!(names(&account).len() > 20);
    let status = m.terminate().expect("stopped");
    assert!(status.success());
    assert!(!is_mounted(&mountpoint));
    let mut hints = String::new();
    stdout.read_to_string(&mut hints).unwrap();
    assert!(hints.contains("grep -r"), "{hints}");
    assert!(hints.contains("find "), "{hints}");
}

#[test]
fn mount_errors_are_one_line() {
    let unreachable = ["--login-url", "http://127.0.0.1:9", "--client-id", "x"];
    // A missing mountpoint.
    let stderr = refused_mount(
        Path::new("/nonexistent/sfmount-test"),
        &unreachable,
        Some("y"),
    );
    assert!(stderr.contains("does not exist"), "{stderr}");

    // An org that is down (nothing listens on the discard port).
    let dir = tempfile::tempdir().unwrap();
    let args: Vec<&str> = unreachable
        .iter()
        .copied()
        .chain(["--request-timeout", "5"])
        .collect();
    let stderr = refused_mount(dir.path(), &args, Some("y"));
    assert!(stderr.contains("cannot connect to Salesforce"), "{stderr}");
    assert!(!is_mounted(dir.path()));
}

#[test]
fn a_folder_of_several_query_pages_lists_every_record_once() {
    if !fuse_available("a_folder_of_several_query_pages_lists_every_record_once") {
        return;
    }
    // More than one 2,000-record page of Accounts.
    let org = start_org(2500);
    let expected = org.with_store(|store| store.record_count("Account"));
    assert!(expected > 2000, "{expected} Accounts");
    let m = mount(&org, ACCOUNT_ONLY);
    let account = folder(&m, "Standard Objects", "Account");
    let files = file_names(&account);
    assert_eq!(
        files.len(),
        expected + 1,
        "every Account once, plus .sobject.json"
    );
    let ids: std::collections::HashSet<&str> = files[1..]
        .iter()
        .filter_map(|n| sfmount::catalog::id_from_file_name(n))
        .collect();
    assert_eq!(ids.len(), expected, "distinct Ids");
    let stats = org.stats();
    assert_eq!(
        stats.requests.query + stats.requests.query_more,
        2,
        "{stats:?}"
    );
}

#[test]
fn format_both_gives_a_json_and_a_text_file_per_record() {
    if !fuse_available("format_both_gives_a_json_and_a_text_file_per_record") {
        return;
    }
    let org = start_org(20);
    let m = mount(
        &org,
        &[
            "--standard-objects",
            "Case",
            "--sync-custom-objects",
            "false",
            "--format",
            "both",
        ],
    );
    let case = folder(&m, "Standard Objects", "Case");
    let files = file_names(&case);
    let json: Vec<&String> = files
        .iter()
        .filter(|n| n.ends_with(".json") && !n.starts_with('.'))
        .collect();
    let text: Vec<&String> = files.iter().filter(|n| n.ends_with(".txt")).collect();
    assert_eq!(json.len(), text.len());
    assert_eq!(json.len(), org.with_store(|s| s.record_count("Case")));
    let marker = sfmount::fake_org::store::FEED_COMMENT_MARKER;
    let (found, matches) = run(Command::new("grep").arg("-rl").arg(marker).arg(&case));
    assert!(found);
    // The marker is in both views of the same case.
    let mut hits: Vec<&str> = matches.lines().collect();
    hits.sort();
    assert_eq!(hits.len(), 2, "{matches}");
    assert_eq!(
        hits[0].trim_end_matches(".json"),
        hits[1].trim_end_matches(".txt"),
        "{matches}"
    );
    // The JSON view carries the feed item with its comments.
    let case_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(hits[0]).unwrap()).unwrap();
    let feeds = case_json["Feeds"].as_array().expect("Feeds array");
    assert!(feeds
        .iter()
        .any(|item| item["FeedComments"].to_string().contains(marker)));
}
