//! A fleet of real mounts (`sfmount mount` binaries) of one fake org through one real
//! PostgreSQL database (`--store`): together they spend the API calls of one mount, a
//! change in the org shows on every mount, a leader killed with SIGKILL is replaced, and a
//! database restart mid-run loses nothing.
//!
//! Needs the throwaway cluster `scripts/test` starts (`SFMOUNT_TEST_POSTGRES`); see
//! `pg_support`.

mod mount_support;
mod pg_support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use sfmount::fake_org::{FakeOrg, FakeOrgConfig};

use mount_support::rest::Rest;
use mount_support::*;

const OBJECTS: &str = "Account,Contact";
/// How long a test waits for something the fleet should do within an interval or two.
const WAIT: Duration = Duration::from_secs(60);

/// One mount of the fleet: its mountpoint, cache folder and process.
struct Member {
    mountpoint: tempfile::TempDir,
    _cache: tempfile::TempDir,
    process: MountProcess,
}

impl Member {
    fn start(org: &FakeOrg, store: &str, interval: &str) -> Member {
        let mountpoint = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        let base_url = org.base_url();
        let cache_dir = cache.path().to_str().unwrap().to_string();
        let args = [
            "--login-url",
            base_url.as_str(),
            "--client-id",
            org.client_id(),
            "--standard-objects",
            OBJECTS,
            "--cache-dir",
            cache_dir.as_str(),
            "--store",
            store,
            "--interval",
            interval,
        ];
        let process = MountProcess::start(
            mountpoint.path(),
            &args,
            &[
                ("SFMOUNT_CLIENT_SECRET", org.client_secret()),
                ("RUST_LOG", "info,sfmount::salesforce=debug"),
            ],
        );
        assert!(
            wait_for_mount(mountpoint.path(), Duration::from_secs(30)),
            "not mounted: {}",
            process.log_text()
        );
        Member {
            mountpoint,
            _cache: cache,
            process,
        }
    }

    fn root(&self) -> &Path {
        self.mountpoint.path()
    }

    fn folder(&self, object: &str) -> PathBuf {
        self.root().join("Standard Objects").join(object)
    }

    fn status(&self) -> Value {
        let bytes = std::fs::read(self.root().join(".sfmount-status.json")).unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    fn is_leader(&self) -> bool {
        self.status()["fleet"]["role"] == "leader"
    }

    fn ticks(&self) -> u64 {
        self.status()["refresh"]["ticks"].as_u64().unwrap_or(0)
    }

    /// Lists every folder (`ls -l`) and reads every record file, checking sizes; the number
    /// of files read.
    fn read_everything(&self) -> usize {
        let mut read = 0;
        for object in OBJECTS.split(',') {
            let folder = self.folder(object);
            let ls = std::process::Command::new("ls")
                .arg("-l")
                .arg(&folder)
                .output()
                .unwrap();
            assert!(ls.status.success(), "ls -l {}", folder.display());
            for name in file_names(&folder) {
                let path = folder.join(&name);
                if name.starts_with('.') || path.is_dir() {
                    continue;
                }
                let bytes = std::fs::read(&path).unwrap();
                assert_eq!(std::fs::metadata(&path).unwrap().len(), bytes.len() as u64);
                read += 1;
            }
        }
        read
    }

    /// Sends SIGHUP and waits until one more tick ran and, unless the mount follows, until
    /// its change queries reached the org (one composite call a tick here), so the next
    /// SIGHUP starts a tick of its own.
    fn tick(&self, org: &FakeOrg) {
        let ticks = self.ticks();
        let asked = org.stats().requests.composite;
        let follower = self.status()["fleet"]["role"] == "follower";
        self.process.signal(libc::SIGHUP);
        let ticked = wait_until(WAIT, || {
            self.ticks() > ticks && (follower || org.stats().requests.composite > asked)
        });
        assert!(
            ticked.is_some(),
            "no tick after SIGHUP: {}",
            self.process.log_text()
        );
    }

    /// Whether some Account file's bytes contain `needle`.
    fn shows(&self, needle: &str) -> bool {
        let folder = self.folder("Account");
        file_names(&folder).iter().any(|name| {
            !name.starts_with('.')
                && std::fs::read(folder.join(name))
                    .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
                    .unwrap_or(false)
        })
    }
}

/// Calls the mounts made: every request the fake org counted except the tests' own record
/// changes, with tokens apart.
fn spent(org: &FakeOrg) -> (u64, u64) {
    let counts = serde_json::to_value(org.stats().requests).unwrap();
    let mut calls = 0;
    for (kind, count) in counts.as_object().unwrap() {
        if kind != "token" && kind != "mutation" {
            calls += count.as_u64().unwrap();
        }
    }
    (calls, counts["token"].as_u64().unwrap())
}

fn fake_org() -> FakeOrg {
    FakeOrg::start(FakeOrgConfig {
        records: 300,
        ..FakeOrgConfig::default()
    })
    .expect("fake org")
}

/// A cold listing of every folder, a full read on every mount and ten ticks: what one
/// mount spends, and what three spend through one database.
fn work(org: &FakeOrg, members: &[Member]) {
    std::thread::scope(|scope| {
        for member in members {
            scope.spawn(|| assert!(member.read_everything() > 0));
        }
    });
    for member in members {
        assert!(member.read_everything() > 0);
    }
    for _ in 0..10 {
        for member in members {
            member.tick(org);
        }
    }
}

#[test]
fn three_mounts_spend_the_calls_of_one_and_each_sees_every_change() {
    if !fuse_available("three_mounts_spend_the_calls_of_one_and_each_sees_every_change") {
        return;
    }
    let Some(solo_db) = pg_support::database("fleet_solo") else {
        return;
    };
    let solo_org = fake_org();
    let solo = vec![Member::start(&solo_org, &solo_db.url, "1h")];
    work(&solo_org, &solo);
    let (solo_calls, solo_tokens) = spent(&solo_org);
    let solo_kinds = serde_json::to_value(solo_org.stats().requests).unwrap();
    drop(solo);

    // One test database at a time: each holds the server shared, and a second shared hold
    // taken while the restart test waits for an exclusive one would wait forever.
    drop(solo_db);
    let fleet_db = pg_support::database("fleet_three").unwrap();
    let org = fake_org();
    let fleet: Vec<Member> = (0..3)
        .map(|_| Member::start(&org, &fleet_db.url, "1h"))
        .collect();
    work(&org, &fleet);
    let (calls, tokens) = spent(&org);
    println!(
        "one mount: {solo_calls} calls + {solo_tokens} tokens; three: {calls} calls + {tokens} tokens"
    );
    println!("one mount by kind: {solo_kinds}");
    println!(
        "three by kind: {}",
        serde_json::to_value(org.stats().requests).unwrap()
    );
    if calls > solo_calls {
        for member in &fleet {
            let log = member.process.log_text();
            let lines: Vec<&str> = log
                .lines()
                .filter(|l| l.contains("describe") || l.contains("listed"))
                .collect();
            println!("=== {}\n{}", member.is_leader(), lines.join("\n"));
        }
    }
    assert!(
        calls <= solo_calls,
        "three mounts spent {calls} calls, one mount {solo_calls}"
    );
    assert!(
        tokens <= solo_tokens + 2,
        "three mounts took {tokens} tokens, one mount {solo_tokens}"
    );
    let leaders: Vec<bool> = fleet.iter().map(Member::is_leader).collect();
    assert_eq!(leaders.iter().filter(|l| **l).count(), 1, "{leaders:?}");

    // A change in the org reaches every mount through the leader.
    let id = first_account_id(&fleet[0]);
    let rest = Rest::login(&org);
    rest.update(
        "Account",
        &id,
        serde_json::json!({"Description": "fleet sees 7d21"}),
    );
    let leader = fleet.iter().find(|m| m.is_leader()).unwrap();
    leader.tick(&org);
    for member in &fleet {
        let seen = wait_until(WAIT, || member.shows("fleet sees 7d21"));
        assert!(
            seen.is_some(),
            "a mount missed the change: {}",
            member.process.log_text()
        );
    }
}

fn first_account_id(member: &Member) -> String {
    let names = file_names(&member.folder("Account"));
    let name = names
        .iter()
        .find(|n| n.ends_with(".json") && !n.starts_with('.'))
        .expect("an Account file");
    let open = name.rfind('[').unwrap();
    name[open + 1..open + 19].to_string()
}

#[test]
fn when_the_leader_is_killed_another_mount_takes_over() {
    if !fuse_available("when_the_leader_is_killed_another_mount_takes_over") {
        return;
    }
    let Some(db) = pg_support::database("fleet_takeover") else {
        return;
    };
    let org = fake_org();
    let mut fleet: Vec<Member> = (0..3).map(|_| Member::start(&org, &db.url, "5s")).collect();
    for member in &fleet {
        member.read_everything();
    }
    // The status says who leads as of each mount's last tick.
    let led = wait_until(WAIT, || fleet.iter().any(Member::is_leader));
    assert!(led.is_some(), "no mount leads");
    let leader = fleet.iter().position(Member::is_leader).unwrap();
    let mut dead = fleet.remove(leader);
    dead.process.kill_hard();
    force_unmount(dead.root());

    let took = wait_until(WAIT, || fleet.iter().any(Member::is_leader));
    assert!(took.is_some(), "no mount took the lead");
    println!("the lead was taken {took:?} after the leader died");
    let id = first_account_id(&fleet[0]);
    let rest = Rest::login(&org);
    rest.update(
        "Account",
        &id,
        serde_json::json!({"Description": "after takeover 41aa"}),
    );
    for member in &fleet {
        let seen = wait_until(WAIT, || member.shows("after takeover 41aa"));
        assert!(
            seen.is_some(),
            "a mount missed the change: {}",
            member.process.log_text()
        );
    }
}

#[test]
fn a_database_restart_mid_run_loses_nothing() {
    if !fuse_available("a_database_restart_mid_run_loses_nothing") {
        return;
    }
    let Some(db) = pg_support::database_for_restart("fleet_restart") else {
        return;
    };
    let org = fake_org();
    let fleet: Vec<Member> = (0..2).map(|_| Member::start(&org, &db.url, "5s")).collect();
    let counts: Vec<usize> = fleet.iter().map(Member::read_everything).collect();
    db.restart_server();
    // Served from memory and the kernel while the database was away, and after.
    for (member, count) in fleet.iter().zip(&counts) {
        assert_eq!(member.read_everything(), *count);
    }
    let id = first_account_id(&fleet[0]);
    let rest = Rest::login(&org);
    rest.update(
        "Account",
        &id,
        serde_json::json!({"Description": "after restart 5be0"}),
    );
    for member in &fleet {
        let seen = wait_until(WAIT, || member.shows("after restart 5be0"));
        assert!(
            seen.is_some(),
            "a mount missed the change: {}",
            member.process.log_text()
        );
    }
    let leaders = fleet.iter().filter(|m| m.is_leader()).count();
    assert_eq!(leaders, 1);
}
