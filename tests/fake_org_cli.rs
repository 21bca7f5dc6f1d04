//! `sfmount fake-org` as a process: first stdout line, serving, clean exit on signals.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn stop_with(signal: libc::c_int) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sfmount"))
        .args(["fake-org", "--records", "5", "--client-id", "cli-test-id"])
        .args(["--client-secret", "cli-test-secret"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("sfmount starts");
    let mut first_line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first_line)
        .expect("first line");
    assert!(
        first_line.starts_with("sfmount fake-org listening on http://127.0.0.1:"),
        "{first_line}"
    );
    assert!(first_line.contains("client_id=cli-test-id"), "{first_line}");
    assert!(
        first_line.contains("client_secret=cli-test-secret"),
        "{first_line}"
    );
    let url = first_line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_string();

    // It serves: the version list answers over plain TCP.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let status = runtime.block_on(async {
        reqwest::Client::new()
            .get(format!("{url}/services/data/"))
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .expect("the fake org answers")
            .status()
    });
    assert_eq!(status, 200);

    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: kill(2) on the pid of a child we spawned and have not reaped yet.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("sfmount fake-org did not stop within 10 s of signal {signal}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "{exit}");
}

#[test]
fn prints_its_url_and_credentials_then_stops_cleanly_on_sigterm() {
    stop_with(libc::SIGTERM);
}

#[test]
fn stops_cleanly_on_sigint() {
    stop_with(libc::SIGINT);
}

/// Runs `sfmount fake-org ARGS` expecting it to refuse to start; returns its stderr.
fn refused_start(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_sfmount"))
        .arg("fake-org")
        .args(args)
        .stdin(Stdio::null())
        // Only the error line: no log lines from a RUST_LOG the caller may have set.
        .env("RUST_LOG", "warn")
        .output()
        .expect("sfmount runs");
    assert_eq!(output.status.code(), Some(1), "{args:?}");
    assert!(output.stdout.is_empty(), "no URL line when nothing listens");
    String::from_utf8(output.stderr).expect("utf-8 stderr")
}

#[test]
fn a_busy_port_or_an_absurd_latency_is_a_one_line_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let stderr = refused_start(&["--listen", &address, "--records", "1"]);
    assert!(
        stderr.contains(&format!("cannot start the fake org on {address}"))
            && stderr.contains("in use"),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");

    let too_slow = (sfmount::fake_org::server::MAX_LATENCY_MS + 1).to_string();
    let stderr = refused_start(&["--latency-ms", &too_slow, "--records", "1"]);
    assert!(
        stderr.contains("latency") && stderr.contains(&too_slow),
        "{stderr}"
    );
}

#[test]
fn fault_flags_are_applied_from_the_start_and_checked() {
    // --no-run-as-user: the token endpoint refuses logins with the real error text.
    let mut child = Command::new(env!("CARGO_BIN_EXE_sfmount"))
        .args(["fake-org", "--records", "1", "--no-run-as-user"])
        .args(["--fail-next", "1", "--api-remaining", "7"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("sfmount starts");
    let mut first_line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first_line)
        .expect("first line");
    let url = first_line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("a URL on the first line")
        .to_string();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (status, body) = runtime.block_on(async {
        let response = reqwest::Client::new()
            .post(format!("{url}/services/oauth2/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "sfmount-demo-client"),
                ("client_secret", "sfmount-demo-secret"),
            ])
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .expect("the fake org answers");
        (response.status(), response.text().await.unwrap())
    });
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("no client credentials user enabled"),
        "{body}"
    );

    let stderr = refused_start(&["--error-rate", "3", "--records", "1"]);
    assert!(stderr.contains("error_rate"), "{stderr}");
}
