//! sfmount: a Salesforce org as a read-only FUSE filesystem.
//!
//! Data flows one way: `fs::fuse -> fs -> index -> (catalog, render) -> salesforce -> HTTP`.
//! `fake_org` is a faithful Salesforce REST server used by tests, benchmarks and `sfmount demo`;
//! it is the default-on `fake-org` feature, so a mount-only build can leave it out.

pub mod catalog;
pub mod cli;
pub mod commands;
pub mod config;
#[cfg(feature = "fake-org")]
pub mod fake_org;
pub mod fs;
pub mod index;
pub mod render;
pub mod salesforce;
pub mod secret;
pub mod sfid;
pub mod sftime;
pub mod sync;
