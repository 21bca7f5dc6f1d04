//! A real PostgreSQL server for the tests: the throwaway cluster `scripts/test` starts
//! (`scripts/pg-cluster`), named by `SFMOUNT_TEST_POSTGRES`; `SFMOUNT_TEST_PG_CTL` is the
//! command that restarts it. Each test gets a database of its own, so tests run in
//! parallel. Without a server a test is skipped (and listed, like an unmountable
//! real-mount test) — except under CI, where it fails: CI must run them.

#![allow(dead_code)]

pub mod fixtures;

use std::process::Command;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// The server's URL (a superuser, trusted on loopback).
pub const ENV_SERVER: &str = "SFMOUNT_TEST_POSTGRES";
/// A shell command that restarts the server.
pub const ENV_RESTART: &str = "SFMOUNT_TEST_PG_CTL";

/// Tests that restart the server hold this exclusively; every other test of the binary
/// holds it shared, so a restart never cuts into another test's calls.
static SERVER: RwLock<()> = RwLock::new(());

/// Where skipped tests are listed (the same list `scripts/test` prints after the run).
const SKIPPED_LIST: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/skipped-real-mount-tests");

enum Hold {
    Shared(RwLockReadGuard<'static, ()>),
    Exclusive(RwLockWriteGuard<'static, ()>),
}

/// A database of one test on the server.
pub struct TestDb {
    /// postgres://postgres@127.0.0.1:PORT/<name>
    pub url: String,
    pub name: String,
    server: String,
    hold: Hold,
}

/// A fresh database for `test`, or `None` (skipped, and listed) without a server. A test
/// holds one at a time: the hold is shared, and a second shared hold asked for while a
/// restart test waits for the exclusive one would wait forever (drop the first).
pub fn database(test: &str) -> Option<TestDb> {
    let hold = Hold::Shared(SERVER.read().unwrap_or_else(|p| p.into_inner()));
    open(test, hold)
}

/// As [`database`], for a test that restarts the server: no other test of this binary
/// runs meanwhile.
pub fn database_for_restart(test: &str) -> Option<TestDb> {
    let hold = Hold::Exclusive(SERVER.write().unwrap_or_else(|p| p.into_inner()));
    open(test, hold)
}

fn open(test: &str, hold: Hold) -> Option<TestDb> {
    let server = server_url(test)?;
    let name = format!(
        "sfm_{}_{}",
        test.chars()
            .map(|c| if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            })
            .take(40)
            .collect::<String>(),
        std::process::id()
    );
    let mut admin = postgres::Client::connect(&server, postgres::NoTls)
        .unwrap_or_else(|error| panic!("cannot reach the test server {server}: {error}"));
    // Two statements, not one batch: a batch is one transaction, which these refuse.
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let url = with_database(&server, &name);
    Some(TestDb {
        url,
        name,
        server,
        hold,
    })
}

/// The server's URL, or `None` after recording the skip; under CI a missing server fails.
fn server_url(test: &str) -> Option<String> {
    match std::env::var(ENV_SERVER) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var_os("CI").is_some() {
                panic!("{test}: {ENV_SERVER} is not set, and CI must run the PostgreSQL tests (scripts/test starts a server)");
            }
            println!(
                "SKIP {test}: no PostgreSQL ({ENV_SERVER} is not set; scripts/test starts one)"
            );
            record_skip(test, &format!("no PostgreSQL ({ENV_SERVER} is not set)"));
            None
        }
    }
}

fn record_skip(test: &str, reason: &str) {
    use std::io::Write;
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(SKIPPED_LIST)
    {
        let _ = writeln!(file, "{test}: {reason}");
    }
}

/// `server` with its database replaced by `name`.
fn with_database(server: &str, name: &str) -> String {
    let mut url = url::Url::parse(server).expect("the test server's URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

impl TestDb {
    /// A superuser session on this test's database.
    pub fn admin(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).expect("the test database")
    }

    /// The URL of this database for `user` with `password` (for the password tests).
    pub fn url_as(&self, user: &str, password: &str) -> String {
        let mut url = url::Url::parse(&self.url).unwrap();
        url.set_username(user).unwrap();
        url.set_password(Some(password)).unwrap();
        url.to_string()
    }

    /// The server's port, for building URLs that point elsewhere on it.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Restarts the server (`SFMOUNT_TEST_PG_CTL`) and returns once it accepts
    /// connections again. Only for a database from [`database_for_restart`].
    pub fn restart_server(&self) {
        assert!(
            matches!(self.hold, Hold::Exclusive(_)),
            "restart only from database_for_restart"
        );
        let command = std::env::var(ENV_RESTART)
            .unwrap_or_else(|_| panic!("{ENV_RESTART} is not set: cannot restart the server"));
        let status = Command::new("sh").arg("-c").arg(&command).status().unwrap();
        assert!(status.success(), "{command}: {status}");
    }
}

/// The certificate the test server presents (`SFMOUNT_TEST_PG_TLS_ROOT`), or `None` when
/// the server has no TLS (skipped and listed; under CI a failure).
pub fn tls_root(test: &str) -> Option<String> {
    match std::env::var("SFMOUNT_TEST_PG_TLS_ROOT") {
        Ok(path) if !path.is_empty() => Some(path),
        _ => {
            if std::env::var_os("CI").is_some() {
                panic!("{test}: the test server has no TLS (SFMOUNT_TEST_PG_TLS_ROOT is not set; scripts/pg-cluster needs openssl)");
            }
            println!("SKIP {test}: the test server has no TLS");
            record_skip(
                test,
                "the test PostgreSQL has no TLS (no openssl to make it a certificate)",
            );
            None
        }
    }
}
