//! Real third-party clients (simple-salesforce, jsforce 3) against `sfmount fake-org`.
//! They need Python and Node packages from their registries, so the test runs only when
//! `SFMOUNT_CONFORMANCE=1` or `CI` is set; otherwise it says it was skipped.

use std::path::Path;
use std::process::Command;

#[test]
fn third_party_clients_work_against_the_fake_org() {
    let wanted = std::env::var_os("SFMOUNT_CONFORMANCE").is_some_and(|v| v != "0")
        || std::env::var_os("CI").is_some();
    if !wanted {
        eprintln!(
            "skipped: set SFMOUNT_CONFORMANCE=1 (or CI) to run tests/conformance/run.sh \
             (simple-salesforce and jsforce against the fake org)"
        );
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/run.sh");
    let status = Command::new("bash")
        .arg(&script)
        // The binary Cargo built for this test run, so the script tests this very code.
        .env("SFMOUNT_BIN", env!("CARGO_BIN_EXE_sfmount"))
        .status()
        .expect("bash runs tests/conformance/run.sh");
    assert!(status.success(), "conformance run failed: {status}");
}
