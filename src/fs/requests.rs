//! The per-operation request counter: how many FUSE requests of each kind the mount
//! answered, so a benchmark shows a gain in round trips as well as in time. Served as
//! `.sfmount-requests.json` at the root (found by name, not listed). Beside the counts,
//! each operation's latency (from the request's arrival to its reply, offloaded waits
//! included) in fixed buckets, and the bytes reads returned, for `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The operations counted, in the order the file lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Lookup,
    Getattr,
    Open,
    Read,
    Release,
    Opendir,
    Readdir,
    Readdirplus,
    Releasedir,
    Forget,
    Statfs,
    Getxattr,
    Listxattr,
    Ioctl,
    Flush,
    Other,
}

const OPS: [(Op, &str); 16] = [
    (Op::Lookup, "lookup"),
    (Op::Getattr, "getattr"),
    (Op::Open, "open"),
    (Op::Read, "read"),
    (Op::Release, "release"),
    (Op::Opendir, "opendir"),
    (Op::Readdir, "readdir"),
    (Op::Readdirplus, "readdirplus"),
    (Op::Releasedir, "releasedir"),
    (Op::Forget, "forget"),
    (Op::Statfs, "statfs"),
    (Op::Getxattr, "getxattr"),
    (Op::Listxattr, "listxattr"),
    (Op::Ioctl, "ioctl"),
    (Op::Flush, "flush"),
    (Op::Other, "other"),
];

/// Upper bounds of the latency buckets, in microseconds. The low end is a cached getattr
/// or lookup answered from memory (tens of microseconds); the top is the index's default
/// operation deadline (60 s), past which an operation has failed anyway. Roughly 1-2.5-5
/// steps per decade, the spacing Prometheus' own defaults use.
const LATENCY_BUCKETS_MICROS: [u64; 21] = [
    10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000,
    500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000, 30_000_000, 60_000_000,
];

/// One operation's latencies: a count per bucket (the last one past every bound), and
/// their sum.
#[derive(Default)]
struct Latency {
    buckets: [AtomicU64; LATENCY_BUCKETS_MICROS.len() + 1],
    sum_nanos: AtomicU64,
}

impl Latency {
    fn observe(&self, elapsed: Duration) {
        let micros = elapsed.as_micros();
        let bucket = LATENCY_BUCKETS_MICROS
            .iter()
            .position(|bound| micros <= u128::from(*bound))
            .unwrap_or(LATENCY_BUCKETS_MICROS.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    fn snapshot(&self) -> LatencySnapshot {
        let buckets: Vec<(f64, u64)> = self
            .buckets
            .iter()
            .enumerate()
            .map(|(i, count)| {
                let bound = LATENCY_BUCKETS_MICROS
                    .get(i)
                    .map_or(f64::INFINITY, |micros| *micros as f64 / 1e6);
                (bound, count.load(Ordering::Relaxed))
            })
            .collect();
        LatencySnapshot {
            count: buckets.iter().map(|(_, count)| count).sum(),
            buckets,
            sum_seconds: self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9,
        }
    }
}

/// One operation's latency histogram as it stands: each bucket's upper bound in seconds
/// (the last one infinite) with the observations in it alone (not cumulative).
#[derive(Debug, Clone, PartialEq)]
pub struct LatencySnapshot {
    pub buckets: Vec<(f64, u64)>,
    pub count: u64,
    pub sum_seconds: f64,
}

/// Times one request from its arrival until this is dropped, which is after its reply:
/// an operation handed to another thread takes its timer along.
pub struct Timer {
    counts: Arc<RequestCounts>,
    op: Op,
    started: Instant,
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.counts.latency[self.op as usize].observe(self.started.elapsed());
    }
}

#[derive(Default)]
pub struct RequestCounts {
    counts: [AtomicU64; OPS.len()],
    latency: [Latency; OPS.len()],
    /// Operations handed to a waiting thread because they waited on Salesforce.
    offloaded: AtomicU64,
    /// Bytes returned by reads.
    bytes_read: AtomicU64,
}

impl RequestCounts {
    pub fn count(&self, op: Op) {
        self.counts[op as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a request of `op` and times it until the returned timer is dropped.
    pub fn start(self: &Arc<Self>, op: Op) -> Timer {
        self.count(op);
        Timer {
            counts: self.clone(),
            op,
            started: Instant::now(),
        }
    }

    /// Counts the bytes a read returned.
    pub fn count_bytes_read(&self, bytes: usize) {
        self.bytes_read.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.load(Ordering::Relaxed)
    }

    /// Each operation's name and latency histogram (for metrics), in the file's order.
    pub fn latencies(&self) -> impl Iterator<Item = (&'static str, LatencySnapshot)> + '_ {
        OPS.iter()
            .map(|(op, name)| (*name, self.latency[*op as usize].snapshot()))
    }

    pub fn count_offloaded(&self) {
        self.offloaded.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(&self, op: Op) -> u64 {
        self.counts[op as usize].load(Ordering::Relaxed)
    }

    /// Each operation's name and count (for metrics), in the file's order.
    pub fn counts(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        OPS.iter().map(|(op, name)| (*name, self.get(*op)))
    }

    /// Operations handed to a waiting thread so far.
    pub fn offloaded(&self) -> u64 {
        self.offloaded.load(Ordering::Relaxed)
    }

    /// The counts as JSON, with the total and what the filesystem holds for the kernel.
    pub fn to_json(&self, versions: usize, open_handles: usize) -> Vec<u8> {
        let mut requests = serde_json::Map::new();
        let mut total = 0;
        for (op, name) in OPS {
            let count = self.get(op);
            total += count;
            requests.insert(name.to_string(), count.into());
        }
        let document = serde_json::json!({
            "total": total,
            "requests": requests,
            "offloaded": self.offloaded.load(Ordering::Relaxed),
            "inodeVersions": versions,
            "openHandles": open_handles,
        });
        let mut bytes = serde_json::to_vec_pretty(&document).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_has_its_own_slot() {
        let counts = RequestCounts::default();
        for (i, (op, _)) in OPS.iter().enumerate() {
            assert_eq!(*op as usize, i);
            for _ in 0..=i {
                counts.count(*op);
            }
        }
        let document: serde_json::Value = serde_json::from_slice(&counts.to_json(3, 1)).unwrap();
        assert_eq!(document["requests"]["lookup"], 1);
        assert_eq!(document["requests"]["other"], 16);
        assert_eq!(document["total"], (1..=16).sum::<u64>());
        assert_eq!(document["inodeVersions"], 3);
    }

    #[test]
    fn latencies_land_in_the_bucket_of_their_bound() {
        let counts = Arc::new(RequestCounts::default());
        let latency = &counts.latency[Op::Read as usize];
        latency.observe(Duration::from_micros(10));
        latency.observe(Duration::from_micros(11));
        latency.observe(Duration::from_secs(61));
        let read = counts
            .latencies()
            .find(|(name, _)| *name == "read")
            .unwrap()
            .1;
        assert_eq!(read.count, 3);
        assert_eq!(
            read.buckets[0],
            (0.00001, 1),
            "10 µs is within the first bound"
        );
        assert_eq!(read.buckets[1], (0.000025, 1));
        assert_eq!(*read.buckets.last().unwrap(), (f64::INFINITY, 1));
        assert!((read.sum_seconds - 61.000021).abs() < 1e-9);
    }

    #[test]
    fn a_timer_counts_its_request_and_observes_once_when_dropped() {
        let counts = Arc::new(RequestCounts::default());
        let timer = counts.start(Op::Lookup);
        assert_eq!(counts.get(Op::Lookup), 1);
        let lookup = |c: &RequestCounts| c.latencies().next().unwrap().1.count;
        assert_eq!(lookup(&counts), 0, "not observed before the reply");
        drop(timer);
        assert_eq!(lookup(&counts), 1);
        counts.count_bytes_read(10);
        counts.count_bytes_read(5);
        assert_eq!(counts.bytes_read(), 15);
    }
}
