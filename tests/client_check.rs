//! `sfmount check` as a user runs it: the built binary against an in-process fake org.

use std::process::{Command, Output};

use sfmount::catalog::DEFAULT_STANDARD_OBJECTS as STANDARD_OBJECTS;
use sfmount::fake_org::{FakeOrg, FakeOrgConfig, Faults};

/// `sfmount check ARGS` with no connection settings from the environment, logging at every
/// level: nothing secret may appear even in trace output.
fn check_command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sfmount"));
    cmd.arg("check")
        .args(args)
        .env("RUST_LOG", "trace")
        .env_remove("SFMOUNT_DOMAIN")
        .env_remove("SFMOUNT_CLIENT_ID")
        .env_remove("SFMOUNT_CLIENT_SECRET");
    cmd
}

fn run_check(org: &FakeOrg, secret_env: Option<&str>, extra: &[&str]) -> Output {
    let base_url = org.base_url();
    let mut cmd = check_command(&[
        "--login-url",
        &base_url,
        "--client-id",
        org.client_id(),
        "--request-timeout",
        "20",
    ]);
    cmd.args(extra);
    if let Some(secret) = secret_env {
        cmd.env("SFMOUNT_CLIENT_SECRET", secret);
    }
    cmd.output().unwrap()
}

/// The `sfmount check` table row of `object`, split into columns.
fn row<'a>(stdout: &'a str, object: &str) -> Option<Vec<&'a str>> {
    stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|columns| columns.get(2) == Some(&object))
}

/// An access token is the 15-character org Id, `!`, then an opaque string.
fn contains_token(text: &str, org_id: &str) -> bool {
    text.contains(&format!("{}!", &org_id[..15]))
}

#[test]
fn check_lists_objects_counts_fields_and_usage() {
    let org = FakeOrg::start(FakeOrgConfig {
        records: 150,
        ..FakeOrgConfig::default()
    })
    .unwrap();
    let out = run_check(&org, Some(org.client_secret()), &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stdout.contains("Authenticated: http://127.0.0.1"),
        "{stdout}"
    );
    for object in STANDARD_OBJECTS {
        let count = org.with_store(|s| s.record_count(object));
        let columns =
            row(&stdout, object).unwrap_or_else(|| panic!("no line for {object}:\n{stdout}"));
        assert_eq!(columns[3], count.to_string(), "{columns:?}");
        assert!(columns[4].parse::<usize>().unwrap() > 5, "{columns:?}");
    }
    assert!(
        stdout.contains("Feeds"),
        "Case lists its Feeds subquery:\n{stdout}"
    );
    let usage = stdout
        .lines()
        .find(|l| l.starts_with("API usage: "))
        .unwrap();
    assert!(usage.contains("/100000"), "{usage}");
    let org_id = org.with_store(|s| s.org_id().to_string());
    for text in [&stdout, &stderr] {
        assert!(!text.contains(org.client_secret()), "secret printed");
        assert!(!contains_token(text, &org_id), "token printed");
    }
}

#[test]
fn check_fails_with_the_actionable_message() {
    let org = FakeOrg::start(FakeOrgConfig {
        records: 10,
        ..FakeOrgConfig::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("secret");
    std::fs::write(&secret_file, "wrong-secret-4a7f\n").unwrap();
    let out = run_check(
        &org,
        None,
        &["--client-secret-file", secret_file.to_str().unwrap()],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(stderr.contains("Consumer Secret"), "{stderr}");
    assert!(!stderr.contains("wrong-secret-4a7f") && !stdout.contains("wrong-secret-4a7f"));

    org.set_faults(Faults {
        no_run_as_user: Some(true),
        ..Faults::default()
    });
    let out = run_check(&org, Some(org.client_secret()), &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Run As user"));

    let out = run_check(&org, None, &[]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("SFMOUNT_CLIENT_SECRET"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn check_warns_when_the_api_floor_is_near() {
    let org = FakeOrg::start(FakeOrgConfig {
        records: 10,
        ..FakeOrgConfig::default()
    })
    .unwrap();
    org.set_faults(Faults {
        api_remaining: Some(500),
        ..Faults::default()
    });
    let out = run_check(&org, Some(org.client_secret()), &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("warning: 80% or more of the daily API limit is used; a mount would pause background refreshes"),
        "{stdout}"
    );
}

#[test]
fn check_reads_everything_from_a_settings_file() {
    let org = FakeOrg::start(FakeOrgConfig {
        records: 20,
        ..FakeOrgConfig::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("sfmount.toml");
    std::fs::write(
        &config,
        format!(
            "login_url = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\nstandard_objects_to_sync = [\"Case\", \"Account\"]\nrequest_timeout = 20\n",
            org.base_url(),
            org.client_id(),
            org.client_secret()
        ),
    )
    .unwrap();
    let out = check_command(&["--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    for object in STANDARD_OBJECTS {
        let listed = row(&stdout, object).is_some();
        assert_eq!(
            listed,
            object == "Case" || object == "Account",
            "{object}:\n{stdout}"
        );
    }
    assert!(!stdout.contains(org.client_secret()) && !stderr.contains(org.client_secret()));
}
