//! Who may use a real mount and what it shows: another user reads with `--allow-other` and
//! is refused without it; `--uid`, `--gid`, `--file-mode`, `--dir-mode` show in `stat`; a
//! bind-mounted mountpoint is accepted and a live FUSE mount refused; `/metrics` parses as
//! Prometheus text and its API counter equals the fake org's count.

mod mount_support;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use sfmount::fake_org::{FakeOrg, FakeOrgConfig};

use mount_support::*;

/// How long a mount may take on a loaded CI machine before the test fails.
const PATIENCE: Duration = Duration::from_secs(30);

/// The `nobody` user: no rights of its own anywhere.
const NOBODY: &str = "65534";

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
        // Other users must reach the mountpoint through the temporary folder.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        Setup { org, dir }
    }

    fn mountpoint(&self) -> PathBuf {
        self.dir.path().join("mnt")
    }

    fn mount(&self, args: &[&str]) -> MountProcess {
        let settings = write_settings(&self.org, self.dir.path(), "");
        let mut all = vec!["--config", settings.to_str().unwrap()];
        all.extend_from_slice(args);
        let mount = MountProcess::start(&self.mountpoint(), &all, &[]);
        // By its type: a bind-mounted mountpoint is a mount point before sfmount mounts.
        let root = self.mountpoint();
        let fuse = || mount_type(&root).is_some_and(|t| t.starts_with("fuse"));
        assert!(
            wait_until(PATIENCE, fuse).is_some() && wait_for_mount(&root, PATIENCE),
            "not mounted: {}",
            mount.log_text()
        );
        mount
    }
}

/// `cat FILE` as the user `nobody`: its output, or its error text.
fn cat_as_nobody(file: &Path) -> Result<String, String> {
    let output = Command::new("setpriv")
        .args([
            "--reuid",
            NOBODY,
            "--regid",
            NOBODY,
            "--clear-groups",
            "cat",
        ])
        .arg(file)
        .output()
        .expect("setpriv");
    match output.status.success() {
        true => Ok(String::from_utf8_lossy(&output.stdout).to_string()),
        false => Err(String::from_utf8_lossy(&output.stderr).to_string()),
    }
}

fn first_account(root: &Path) -> PathBuf {
    let folder = root.join("Standard Objects/Account");
    let name = names(&folder)
        .into_iter()
        .find(|n| n.ends_with(".json") && !n.starts_with('.'))
        .expect("an Account file");
    folder.join(name)
}

#[test]
fn another_user_reads_with_allow_other_and_is_refused_without() {
    if !fuse_available("another_user_reads_with_allow_other_and_is_refused_without") {
        return;
    }
    let setup = Setup::new();
    let root = setup.mountpoint();
    let mut mount = setup.mount(&[]);
    let file = first_account(&root);
    let refused = cat_as_nobody(&file).unwrap_err();
    assert!(refused.contains("Permission denied"), "{refused}");
    mount.stop();

    let mut mount = setup.mount(&["--allow-other"]);
    let read = cat_as_nobody(&file).expect("nobody reads with --allow-other");
    assert_eq!(read.as_bytes(), std::fs::read(&file).unwrap());
    mount.stop();

    // The modes still apply: with 0440 files of group 0, nobody is refused again.
    let mut mount = setup.mount(&["--allow-other", "--file-mode", "0440", "--gid", "0"]);
    let refused = cat_as_nobody(&file).unwrap_err();
    assert!(refused.contains("Permission denied"), "{refused}");
    mount.stop();
}

#[test]
fn owner_group_and_modes_show_in_stat() {
    if !fuse_available("owner_group_and_modes_show_in_stat") {
        return;
    }
    let setup = Setup::new();
    let root = setup.mountpoint();
    let mut mount = setup.mount(&[
        "--uid",
        "1234",
        "--gid",
        "5678",
        "--file-mode",
        "0440",
        "--dir-mode",
        "0550",
        "--umask",
        "0010",
    ]);
    let file = first_account(&root);
    let meta = std::fs::metadata(&file).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (1234, 5678));
    assert_eq!(meta.mode() & 0o7777, 0o440);
    let folder = std::fs::metadata(root.join("Standard Objects")).unwrap();
    assert_eq!(folder.mode() & 0o7777, 0o540, "0550 less the umask 0010");
    assert_eq!((folder.uid(), folder.gid()), (1234, 5678));
    // stat(1) agrees with std.
    let output = Command::new("stat")
        .args(["-c", "%a %u %g"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout), "440 1234 5678\n");
    mount.stop();
}

#[test]
fn a_bind_mounted_mountpoint_is_accepted_and_a_live_fuse_mount_refused() {
    if !fuse_available("a_bind_mounted_mountpoint_is_accepted_and_a_live_fuse_mount_refused") {
        return;
    }
    let setup = Setup::new();
    let root = setup.mountpoint();
    let volume = setup.dir.path().join("volume");
    std::fs::create_dir(&volume).unwrap();
    let status = Command::new("mount")
        .arg("--bind")
        .arg(&volume)
        .arg(&root)
        .status()
        .unwrap();
    assert!(status.success(), "bind mount");
    struct Unbind(PathBuf);
    impl Drop for Unbind {
        fn drop(&mut self) {
            force_unmount(&self.0);
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
    let _unbind = Unbind(root.clone());

    let mut mount = setup.mount(&[]);
    assert_eq!(mount_type(&root).as_deref(), Some("fuse.sfmount"));
    assert!(names(&root).contains(&"Standard Objects".to_string()));

    // A second mount on the live FUSE mount is refused before any login.
    let logins = setup.org.stats().requests.token;
    let settings = setup.dir.path().join("sfmount.toml");
    let output = Command::new(env!("CARGO_BIN_EXE_sfmount"))
        .arg("mount")
        .arg(&root)
        .arg("--config")
        .arg(&settings)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("already has a FUSE mount"), "{stderr}");
    assert!(stderr.contains("umount -l"), "{stderr}");
    assert_eq!(setup.org.stats().requests.token, logins);

    // SIGTERM alone: the guard's stop would also lazily unmount what is left there.
    mount.signal(libc::SIGTERM);
    assert!(
        mount.child.wait().unwrap().success(),
        "{}",
        mount.log_text()
    );
    // The volume is still there under it, untouched.
    assert!(is_mounted(&root), "the bind mount was taken away");
    assert_eq!(
        mount_type(&root).as_deref(),
        Some(mount_type_of_volume(&volume).as_str())
    );
}

/// The filesystem type the bind mount shows: the one its source folder lives on.
fn mount_type_of_volume(volume: &Path) -> String {
    let output = Command::new("findmnt")
        .args(["-n", "-o", "FSTYPE", "--target"])
        .arg(volume)
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// GET http://addr/metrics with std: the body.
fn scrape(addr: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).expect("metrics listener");
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    write!(stream, "GET /metrics HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP answer");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("openmetrics-text"), "{head}");
    body.to_string()
}

/// Prometheus text: every sample line as `name{labels}` → value; checks the syntax.
fn parse_metrics(text: &str) -> BTreeMap<String, f64> {
    assert!(text.ends_with("# EOF\n"), "{text}");
    let mut samples = BTreeMap::new();
    for line in text.lines() {
        if line.starts_with('#') {
            let words: Vec<&str> = line.split_whitespace().collect();
            assert!(
                matches!(words.get(1), Some(&"TYPE" | &"HELP" | &"UNIT" | &"EOF")),
                "{line}"
            );
            continue;
        }
        let (name, value) = line.rsplit_once(' ').expect("name and value");
        let metric = name.split('{').next().unwrap();
        assert!(metric.starts_with("sfmount_"), "{line}");
        assert!(
            metric
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{line}"
        );
        samples.insert(name.to_string(), value.parse().expect("a number"));
    }
    samples
}

#[test]
fn metrics_parse_as_prometheus_text_and_count_the_org_s_requests() {
    if !fuse_available("metrics_parse_as_prometheus_text_and_count_the_org_s_requests") {
        return;
    }
    let setup = Setup::new();
    let root = setup.mountpoint();
    // Port 0 would hide the port; pick a free one and give it.
    let addr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().to_string()
    };
    let mut mount = setup.mount(&["--metrics-listen", &addr]);
    // Record files only: not the status file, nor a record's `.files` folder of documents.
    let records = file_names(&root.join("Standard Objects/Account"))
        .iter()
        .filter(|n| !n.starts_with('.'))
        .count();
    // Settled once the listing's requests are all counted (the org counts on arrival, the
    // client once the answer is read).
    // The org's counts are taken with each scrape and compared with that scrape only: a
    // background refresh tick may add calls between two reads.
    let mut samples = BTreeMap::new();
    let mut stats = setup.org.stats().requests;
    let settled = wait_until(PATIENCE, || {
        samples = parse_metrics(&scrape(&addr));
        stats = setup.org.stats().requests;
        let api = stats_api_calls(&stats);
        samples.get("sfmount_api_requests_total{kind=\"api\"}") == Some(&(api as f64))
    });
    assert!(settled.is_some(), "{samples:?} vs {stats:?}");
    assert_eq!(
        samples["sfmount_api_requests_total{kind=\"token\"}"],
        stats.token as f64
    );
    assert_eq!(
        samples["sfmount_api_requests_total{kind=\"api\"}"],
        stats_api_calls(&stats) as f64
    );
    assert_eq!(
        samples["sfmount_records{object=\"Account\"}"],
        records as f64
    );
    assert_eq!(samples["sfmount_folders"], 1.0);
    assert_eq!(samples["sfmount_folders_listed"], 1.0);
    assert_eq!(samples["sfmount_refresh_consecutive_failures"], 0.0);
    assert_eq!(samples["sfmount_api_daily_limit"], 100_000.0);
    assert_eq!(
        samples["sfmount_api_daily_used"],
        setup.org.stats().api_usage as f64
    );
    assert!(samples.contains_key("sfmount_refresh_lag_seconds"));
    // The listing above came through FUSE: readdir(plus) and lookups were counted.
    let listings = samples["sfmount_fuse_requests_total{operation=\"readdir\"}"]
        + samples["sfmount_fuse_requests_total{operation=\"readdirplus\"}"];
    assert!(listings >= 1.0, "{samples:?}");
    assert!(samples["sfmount_fuse_requests_total{operation=\"lookup\"}"] >= 1.0);

    // Reading every record file once: each read is timed, and the bytes served are the
    // files' bytes (each file read once, so the kernel's page cache hides no read).
    let folder = root.join("Standard Objects/Account");
    let before = parse_metrics(&scrape(&addr));
    let names: Vec<String> = file_names(&folder)
        .into_iter()
        .filter(|n| !n.starts_with('.'))
        .collect();
    let read: u64 = names
        .iter()
        .map(|name| std::fs::read(folder.join(name)).unwrap().len() as u64)
        .sum();
    assert!(read > 0);
    let after = parse_metrics(&scrape(&addr));
    let moved = |name: &str| after[name] - before.get(name).copied().unwrap_or(0.0);
    let reads = "sfmount_fuse_request_duration_seconds_count{operation=\"read\"}";
    assert!(moved(reads) >= names.len() as f64, "{after:?}");
    assert_eq!(
        after[reads], after["sfmount_fuse_requests_total{operation=\"read\"}"],
        "every counted read is timed once"
    );
    assert_eq!(moved("sfmount_read_bytes_total"), read as f64);
    assert!(moved("sfmount_fuse_request_duration_seconds_sum{operation=\"read\"}") > 0.0);
    let infinite = "sfmount_fuse_request_duration_seconds_bucket{le=\"+Inf\",operation=\"read\"}";
    assert_eq!(after[infinite], after[reads], "buckets are cumulative");
    // Every body came from somewhere: memory, the store, or the org.
    let bodies: f64 = ["memory", "store", "salesforce"]
        .iter()
        .map(|source| moved(&format!("sfmount_body_reads_total{{source=\"{source}\"}}")))
        .sum();
    assert!(bodies >= names.len() as f64, "{after:?}");
    assert_eq!(after["sfmount_document_download_failures_total"], 0.0);

    // Scraping spends nothing.
    let before = setup.org.stats().requests;
    scrape(&addr);
    assert_eq!(setup.org.stats().requests, before);
    mount.stop();
}

/// Requests to the REST API (under /services/data): everything but logins and identity.
fn stats_api_calls(stats: &sfmount::fake_org::RequestCounts) -> u64 {
    let all = serde_json::to_value(stats).unwrap();
    all.as_object()
        .unwrap()
        .iter()
        .filter(|(kind, _)| !matches!(kind.as_str(), "token" | "identity"))
        .map(|(_, count)| count.as_u64().unwrap())
        .sum()
}

#[test]
fn a_mount_is_typed_fuse_sfmount_and_never_shown_full() {
    if !fuse_available("a_mount_is_typed_fuse_sfmount_and_never_shown_full") {
        return;
    }
    let setup = Setup::new();
    let root = setup.mountpoint();
    // A plain mount (mount(2) itself when root), then one through fusermount3 (which
    // auto-unmount always uses).
    for args in [&[][..], &["--auto-unmount", "--allow-other"][..]] {
        let mut mount = setup.mount(args);
        let fstype = Command::new("findmnt")
            .args(["-n", "-o", "FSTYPE"])
            .arg(&root)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&fstype.stdout).trim(),
            "fuse.sfmount",
            "{args:?}"
        );
        // List a folder first, so its files count as used.
        assert!(!file_names(&root.join("Standard Objects/Account")).is_empty());
        let df = Command::new("df")
            .arg("--output=pcent,used")
            .arg(&root)
            .output()
            .unwrap();
        assert!(df.status.success(), "{df:?}");
        let text = String::from_utf8_lossy(&df.stdout).to_string();
        let row = text.lines().nth(1).expect("a df row");
        let mut columns = row.split_whitespace();
        let percent: u32 = columns
            .next()
            .and_then(|p| p.trim_end_matches('%').parse().ok())
            .expect("a percentage");
        let used: u64 = columns.next().and_then(|u| u.parse().ok()).expect("used");
        assert!(percent < 100, "{text}");
        assert!(used > 0, "the listed files count as used: {text}");
        mount.stop();
    }
}
