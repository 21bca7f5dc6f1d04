//! A faithful fake Salesforce org: REST server, SOQL engine, seeded data, faults and
//! call counters. Used by the tests, the benchmarks and `sfmount demo`.

pub mod model;
pub mod server;
pub mod soql;
pub mod store;

pub use server::{FakeOrg, FakeOrgConfig, FakeStats, Faults, RequestCounts};
