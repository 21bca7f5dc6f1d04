//! Command-line interface: argument definitions only. Each command's behaviour lives in
//! `crate::commands`, so this file stays a table of what the user can type.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "sfmount",
    version,
    about = "Mount a Salesforce org as a read-only filesystem",
    long_about = "Mount a Salesforce org as a read-only FUSE filesystem: one folder per object \
type, one file per record. `sfmount demo` mounts a built-in fake org so you can try it \
without a Salesforce account."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Mount an org at MOUNTPOINT and serve in the foreground until SIGINT/SIGTERM.
    Mount(MountArgs),
    /// Start the built-in fake org on loopback and mount it at MOUNTPOINT.
    Demo(DemoArgs),
    /// Authenticate, list what would be mounted with record counts, print API usage.
    Check(CheckArgs),
    /// Run the fake Salesforce org (REST API on loopback) until SIGINT/SIGTERM.
    FakeOrg(FakeOrgArgs),
}

/// How to reach and authenticate to an org. Later sources win: config file, then
/// environment (SFMOUNT_DOMAIN, SFMOUNT_CLIENT_ID, SFMOUNT_CLIENT_SECRET), then flags.
#[derive(Debug, Clone, Default, Args)]
pub struct ConnectionArgs {
    /// TOML settings file (keys: domain, client_id, client_secret, interval,
    /// standard_objects_to_sync, sync_custom_objects, custom_objects_to_sync).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// My Domain: `mycompany`, `mycompany.my.salesforce.com` or `mycompany--dev.sandbox`.
    #[arg(long, value_name = "DOMAIN", conflicts_with = "login_url")]
    pub domain: Option<String>,
    /// Base URL of the login host, overriding --domain (e.g. a fake org's http://127.0.0.1:PORT).
    #[arg(long, value_name = "URL")]
    pub login_url: Option<String>,
    /// Connected App consumer key.
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// File holding the consumer secret (or set SFMOUNT_CLIENT_SECRET).
    #[arg(long, value_name = "FILE")]
    pub client_secret_file: Option<PathBuf>,
    /// Deadline for each API request, in seconds.
    #[arg(long, value_name = "SECS")]
    pub request_timeout: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum FormatArg {
    #[default]
    Json,
    Text,
    Both,
}

#[derive(Debug, Clone, Args)]
pub struct MountArgs {
    /// Empty directory to mount on.
    pub mountpoint: PathBuf,
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Background refresh interval, e.g. `30s`, `5m`.
    #[arg(long, value_name = "DURATION")]
    pub interval: Option<String>,
    /// Comma-separated standard objects (default: Account,Opportunity,Contact,Lead,Campaign,Case).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub standard_objects: Option<Vec<String>>,
    /// Also mount custom objects.
    #[arg(long)]
    pub sync_custom_objects: Option<bool>,
    /// Comma-separated custom objects (names ending in __c), or `*` for all.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub custom_objects: Option<Vec<String>>,
    /// Record file format.
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Empty directory to mount on (created if missing).
    pub mountpoint: PathBuf,
    /// About this many records of each standard object.
    #[arg(long, default_value_t = 200)]
    pub records: usize,
    /// Seed for the fake org's data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Record file format.
    #[arg(long, value_enum, default_value_t = FormatArg::Json)]
    pub format: FormatArg,
    /// Background refresh interval, e.g. `30s`.
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pub interval: String,
}

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

#[derive(Debug, Clone, Args)]
pub struct FakeOrgArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// About this many records of each standard object (Accounts at least this many).
    #[arg(long, default_value_t = 200)]
    pub records: usize,
    /// Seed for deterministic data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Consumer key the token endpoint accepts.
    #[arg(long, default_value = "sfmount-demo-client")]
    pub client_id: String,
    /// Consumer secret the token endpoint accepts.
    #[arg(long, default_value = "sfmount-demo-secret")]
    pub client_secret: String,
    /// Added delay for every request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Daily API request limit.
    #[arg(long, default_value_t = 100_000)]
    pub api_limit: u64,
    /// Access tokens expire after this many seconds (0: never).
    #[arg(long, default_value_t = 0)]
    pub token_ttl: u64,
}
