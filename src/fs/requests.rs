//! The per-operation request counter: how many FUSE requests of each kind the mount
//! answered, so a benchmark shows a gain in round trips as well as in time. Served as
//! `.sfmount-requests.json` at the root (found by name, not listed).

use std::sync::atomic::{AtomicU64, Ordering};

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

#[derive(Default)]
pub struct RequestCounts {
    counts: [AtomicU64; OPS.len()],
    /// Operations handed to a waiting thread because they waited on Salesforce.
    offloaded: AtomicU64,
}

impl RequestCounts {
    pub fn count(&self, op: Op) {
        self.counts[op as usize].fetch_add(1, Ordering::Relaxed);
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
}
