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

/// A running `sfmount` process with its mount; stopping or dropping it always leaves no mount.
struct MountProcess {
    child: Option<Child>,
    dir: tempfile::TempDir,
    /// The process's stderr goes to a file: a pipe nobody reads would block it when full.
    log: tempfile::NamedTempFile,
}

impl MountProcess {
    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// SIGTERM, then the exit status (killed after 20 s, so a test never hangs).
    fn terminate(&mut self) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        // SAFETY: kill(2) on the pid of a child we own and have not reaped.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
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
    let child = Command::new(BINARY)
        .arg("mount")
        .arg(dir.path())
        .args([
            "--login-url",
            &org.base_url(),
            "--client-id",
            org.client_id(),
        ])
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
        [".sfmount-status.json", "Custom Objects", "Standard Objects"]
    );
    let standard = names(&m.path().join("Standard Objects"));
    for object in [
        "Account",
        "Campaign",
        "Case",
        "Contact",
        "Lead",
        "Opportunity",
    ] {
        assert!(standard.contains(&object.to_string()), "{standard:?}");
    }
    assert!(!names(&m.path().join("Custom Objects")).is_empty());
    let account = folder(&m, "Standard Objects", "Account");
    let files = names(&account);
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
        files.len() + 1,
        "ls -l shows every file"
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
    let m = mount(
        &org,
        &[
            "--standard-objects",
            "Account",
            "--sync-custom-objects",
            "false",
        ],
    );
    let at_mount = org.stats();
    assert_eq!(at_mount.requests.token, 1);
    assert_eq!(at_mount.requests.describe_global, 1);
    assert_eq!(at_mount.requests.query, 0, "mounting lists no records");

    let account = folder(&m, "Standard Objects", "Account");
    let files = names(&account);
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
    let paths: Vec<PathBuf> = names(&case).into_iter().map(|n| case.join(n)).collect();
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
    let m = mount(
        &org,
        &[
            "--standard-objects",
            "Account",
            "--sync-custom-objects",
            "false",
        ],
    );
    let account = folder(&m, "Standard Objects", "Account");
    let existing = account.join(&names(&account)[1]);
    assert_eq!(
        errno_of(std::fs::write(account.join("x.json"), b"x")),
        Some(libc::EROFS)
    );
    assert_eq!(
        errno_of(std::fs::OpenOptions::new().append(true).open(&existing)),
        Some(libc::EROFS)
    );
    assert_eq!(
        errno_of(std::fs::create_dir(account.join("d"))),
        Some(libc::EROFS)
    );
    assert_eq!(errno_of(std::fs::remove_file(&existing)), Some(libc::EROFS));
    assert_eq!(
        errno_of(std::fs::rename(&existing, account.join("y.json"))),
        Some(libc::EROFS)
    );
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
    // A missing mountpoint.
    let output = Command::new(BINARY)
        .args(["mount", "/nonexistent/sfmount-test"])
        .args(["--login-url", "http://127.0.0.1:9", "--client-id", "x"])
        .env("SFMOUNT_CLIENT_SECRET", "y")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("does not exist"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");

    // An org that is down (nothing listens on the discard port).
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let output = Command::new(BINARY)
        .arg("mount")
        .arg(dir.path())
        .args(["--login-url", "http://127.0.0.1:9", "--client-id", "x"])
        .args(["--request-timeout", "5"])
        .env("SFMOUNT_CLIENT_SECRET", "y")
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(started.elapsed() < Duration::from_secs(30));
    let stderr = String::from_utf8_lossy(&output.stderr);
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
    let m = mount(
        &org,
        &[
            "--standard-objects",
            "Account",
            "--sync-custom-objects",
            "false",
        ],
    );
    let account = folder(&m, "Standard Objects", "Account");
    let files = names(&account);
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
    let files = names(&case);
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
