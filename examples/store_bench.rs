//! Generation time and memory of the fake org's store.
//!
//! `cargo run --example store_bench -- [RECORDS]` (default 10,000). Prints figures as ratios
//! against a baseline measured in the same run (a store of RECORDS/10), never as pass/fail.

use std::time::Instant;

use sfmount::fake_org::store::{GenerateOptions, Store};

/// Resident memory of this process in bytes, from /proc (Linux only; 0 elsewhere).
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * u64::try_from(page_size).unwrap_or(4096)
}

fn measure(records: usize) -> (f64, u64, Store) {
    let before = resident_bytes();
    let started = Instant::now();
    let store = Store::generate(&GenerateOptions { records, seed: 42 });
    let seconds = started.elapsed().as_secs_f64();
    let grown = resident_bytes().saturating_sub(before);
    (seconds, grown, store)
}

fn main() {
    let records: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let baseline_records = (records / 10).max(1);
    let (base_seconds, base_bytes, base_store) = measure(baseline_records);
    drop(base_store);
    let (seconds, bytes, store) = measure(records);
    let total: usize = [
        "Account",
        "Contact",
        "Lead",
        "Opportunity",
        "Campaign",
        "Case",
        "FeedItem",
        "FeedComment",
        "CaseComment",
        "EmailMessage",
        "ContentDocument",
        "ContentVersion",
        "ContentDocumentLink",
        "Invoice__c",
        "Project__c",
        "Wide_Object__c",
    ]
    .iter()
    .map(|o| store.record_count(o))
    .sum();
    println!(
        "baseline: {baseline_records} per object in {base_seconds:.3} s, {:.1} MiB",
        base_bytes as f64 / 1048576.0
    );
    println!(
        "measured: {records} per object ({total} records) in {seconds:.3} s ({:.1}x the baseline time for 10x the records)",
        seconds / base_seconds.max(1e-9)
    );
    println!(
        "memory:   {:.1} MiB resident growth, {:.0} bytes per record ({:.1}x the baseline per-record figure)",
        bytes as f64 / 1048576.0,
        bytes as f64 / total as f64,
        (bytes as f64 / total as f64) / (base_bytes as f64 / (total as f64 / 10.0)).max(1e-9)
    );
}
