//! Command-line interface: argument definitions, and their conversion into the settings'
//! plain [`Layer`] (so the settings never see clap). Each command's behaviour lives in
//! `crate::commands`, so this file stays a table of what the user can type.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};

use crate::config::{DurationValue, Layer, SizeValue};
use crate::render::{parse_format_setting, FileFormat, FORMAT_SETTING_VALUES};

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
    #[command(flatten)]
    pub log: LogArgs,
}

/// How much is logged and where. Process options, not settings: they apply before the
/// settings file is read, so its errors are logged too.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Logging")]
pub struct LogArgs {
    /// More log lines: -v is debug, -vv trace (instead of --log-level).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "log_level")]
    pub verbose: u8,
    /// Log level or filter: error, warn, info, debug, trace, or a RUST_LOG filter such as
    /// `sfmount=debug` [default: RUST_LOG, else info].
    #[arg(long, global = true, value_name = "LEVEL")]
    pub log_level: Option<String>,
    /// Append the log to FILE (created 0600) instead of stderr [default: stderr; with
    /// --daemon, the system log].
    #[arg(long, global = true, value_name = "FILE")]
    pub log_file: Option<PathBuf>,
}

// One value, parsed once at start: the size of its largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Mount an org at MOUNTPOINT and serve until SIGINT/SIGTERM or `umount` (in the
    /// foreground, or in the background with --daemon).
    #[command(after_help = SETTINGS_ORDER_HELP, after_long_help = MOUNT_LONG_HELP)]
    Mount(Box<MountArgs>),
    /// Start the built-in fake org on loopback and mount it at MOUNTPOINT.
    Demo(DemoArgs),
    /// Authenticate, list what would be mounted with record counts, print API usage.
    #[command(after_help = SETTINGS_ORDER_HELP)]
    Check(CheckArgs),
    /// Run the fake Salesforce org (REST API on loopback) until SIGINT/SIGTERM.
    FakeOrg(FakeOrgArgs),
    /// Show or remove the local stores under the cache folder (no login needed).
    #[command(subcommand)]
    Cache(CacheCommand),
    /// Print a shell completion script (e.g. `sfmount completions bash > /etc/bash_completion.d/sfmount`).
    Completions(CompletionsArgs),
    /// Print the man page (roff) to stdout (e.g. `sfmount man > /usr/local/share/man/man1/sfmount.1`).
    Man,
}

#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `sfmount cache ...`: the stores on disk, looked at without connecting to any org.
#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// List every store: org, user, instance, size on disk, and per folder its records,
    /// files, body bytes, whether its listing is complete and when it was last refreshed.
    Info(CacheInfoArgs),
    /// Remove stores (all, or one org's) and the login pointers to them; refused while a
    /// mount is using a store.
    Clear(CacheClearArgs),
}

/// Where the stores are: as `mount` finds them (--cache-dir, else the --config file's
/// `cache_dir`, else $XDG_CACHE_HOME/sfmount, else ~/.cache/sfmount).
#[derive(Debug, Clone, Args)]
pub struct CacheDirArgs {
    /// TOML settings file whose `cache_dir` names the folder (other keys are checked, not used).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Folder of the local stores [default: $XDG_CACHE_HOME/sfmount, else ~/.cache/sfmount].
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

impl CacheDirArgs {
    pub fn settings_layer(&self) -> Layer {
        Layer {
            cache_dir: self.cache_dir.clone(),
            ..Layer::default()
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct CacheInfoArgs {
    #[command(flatten)]
    pub location: CacheDirArgs,
    /// Print JSON (one object with a `stores` array) instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct CacheClearArgs {
    #[command(flatten)]
    pub location: CacheDirArgs,
    /// Remove only the stores of this org (its 15- or 18-character Id); default: all.
    #[arg(long, value_name = "ORG_ID")]
    pub org: Option<String>,
}

/// Where settings come from, shown under the options of `mount` and `check`.
const SETTINGS_ORDER_HELP: &str = "Settings are read from the --config file, then the \
environment (SFMOUNT_DOMAIN, SFMOUNT_CLIENT_ID, SFMOUNT_CLIENT_SECRET), then the flags; a later \
source wins key by key. Everything is checked before mounting.";

/// Under `mount --help`: the settings' sources, the mount(8) form and the exit codes.
const MOUNT_LONG_HELP: &str = "Settings are read from the --config file, then the \
environment (SFMOUNT_DOMAIN, SFMOUNT_CLIENT_ID, SFMOUNT_CLIENT_SECRET), then the flags; a later \
source wins key by key. Everything is checked before mounting.

As a mount(8) helper: `mount -t fuse.sfmount CONFIG MOUNTPOINT -o ro,...` (or source \
`sfmount#CONFIG` with type `fuse`) runs `sfmount CONFIG MOUNTPOINT -o OPTIONS`, which mounts \
in the background; see docs/running.md.

Exit codes: 0 mounted and served (or, with --daemon, mounted); 1 the mount failed or ended \
with an error; 2 bad command line or settings.";

/// How to reach and authenticate to an org. Later sources win: config file, then
/// environment (SFMOUNT_DOMAIN, SFMOUNT_CLIENT_ID, SFMOUNT_CLIENT_SECRET), then flags.
#[derive(Debug, Clone, Default, Args)]
pub struct ConnectionArgs {
    /// TOML settings file: the connector's keys (domain, client_id, client_secret, interval,
    /// standard_objects_to_sync, sync_custom_objects, custom_objects_to_sync) and sfmount's
    /// own (login_url, format, ...); every key is in docs/configuration.md.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// My Domain: `mycompany`, `mycompany.my.salesforce.com` or `mycompany--dev.sandbox`
    /// (or set SFMOUNT_DOMAIN).
    #[arg(long, value_name = "DOMAIN", conflicts_with = "login_url")]
    pub domain: Option<String>,
    /// Base URL of the login host, instead of a domain (e.g. a fake org's http://127.0.0.1:PORT).
    #[arg(long, value_name = "URL")]
    pub login_url: Option<String>,
    /// Connected App consumer key (or set SFMOUNT_CLIENT_ID).
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// File holding the consumer secret (or set SFMOUNT_CLIENT_SECRET).
    #[arg(long, value_name = "FILE")]
    pub client_secret_file: Option<PathBuf>,
    /// Deadline for each API request, in seconds [default: 30].
    #[arg(long, value_name = "SECS")]
    pub request_timeout: Option<u64>,
}

impl ConnectionArgs {
    /// These flags as a settings layer (the `--config` file is read by the settings).
    pub fn settings_layer(&self) -> Layer {
        Layer {
            domain: self.domain.clone(),
            login_url: self.login_url.clone(),
            client_id: self.client_id.clone(),
            client_secret_file: self.client_secret_file.clone(),
            // As text, whole seconds parse to exactly that many seconds, whatever their size.
            request_timeout: self
                .request_timeout
                .map(|secs| DurationValue::Text(secs.to_string())),
            ..Layer::default()
        }
    }
}

/// `--format`: the setting's values, listed in the help and checked by clap as the settings
/// file's `format` key is (the settings parse the text with the same function).
fn format_values() -> PossibleValuesParser {
    PossibleValuesParser::new(FORMAT_SETTING_VALUES)
}

/// `--format` of the demo, which has no settings layers: the formats themselves.
fn file_formats() -> impl TypedValueParser<Value = &'static [FileFormat]> {
    format_values().map(|text| {
        parse_format_setting(&text).expect("every value clap accepts is a format setting")
    })
}

#[derive(Debug, Clone, Args)]
pub struct MountArgs {
    /// Empty directory to mount on.
    pub mountpoint: PathBuf,
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Background refresh interval: `30s`, `5m`, `1h30m` or seconds; at least 5s [default: 30s].
    #[arg(long, value_name = "DURATION")]
    pub interval: Option<String>,
    /// Comma-separated standard objects; an empty value mounts none
    /// [default: Account,Opportunity,Contact,Lead,Campaign,Case].
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub standard_objects: Option<Vec<String>>,
    /// Also mount custom objects (`--sync-custom-objects` alone means true; --custom-objects
    /// turns it on unless this says false) [default: false].
    #[arg(
        long,
        value_name = "BOOL",
        num_args = 0..=1,
        default_missing_value = "true"
    )]
    pub sync_custom_objects: Option<bool>,
    /// Comma-separated custom objects (names ending in __c), or `*` for every custom object.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub custom_objects: Option<Vec<String>>,
    /// Record file format: `json` (the record as the API returns it), `text` (for reading and
    /// grep) or `both` (two files per record) [default: json].
    #[arg(long, value_parser = format_values())]
    pub format: Option<String>,
    /// Folder of the local store of record bodies, one per org and user
    /// [default: $XDG_CACHE_HOME/sfmount, else ~/.cache/sfmount].
    #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
    pub cache_dir: Option<PathBuf>,
    /// Keep everything in memory: no local store on disk (as `cache_dir = ""`).
    #[arg(long)]
    pub no_cache: bool,
    /// Memory for rendered records, e.g. `64MiB`, `1GiB`; records beyond it are read back
    /// from the local store (or, with --no-cache, from Salesforce) [default: 64MiB].
    #[arg(long, value_name = "SIZE")]
    pub memory_cache_size: Option<String>,
    /// Bound on record bodies in the local store, e.g. `1GiB`; over it the least recently
    /// used are dropped and fetched again when read (listings are always kept)
    /// [default: unlimited].
    #[arg(long, value_name = "SIZE", conflicts_with = "no_cache")]
    pub max_cache_size: Option<String>,
    /// Keep the store in PostgreSQL, shared by every mount of the org:
    /// `postgres://USER@HOST:PORT/DB?sslmode=require` (a password is better given in
    /// SFMOUNT_STORE than on the command line) [default: the local store].
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// How long the kernel trusts a file's or folder's attributes: `1m`, `10s` or seconds
    /// [default: 1m].
    #[arg(long, value_name = "DURATION")]
    pub attr_timeout: Option<String>,
    /// How long the kernel trusts names and folder listings; a refresh that changes them
    /// tells it at once, so this bounds only a lost notice [default: 5m].
    #[arg(long, value_name = "DURATION")]
    pub dir_cache_time: Option<String>,
    #[command(flatten)]
    pub run: RunArgs,
}

/// How the mount is run for the system around it: in the background, for which users,
/// with which owner and modes, watched how.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Running")]
pub struct RunArgs {
    /// Go to the background: exit 0 once the mount serves, or non-zero with the reason.
    #[arg(long)]
    pub daemon: bool,
    /// Unmount even if sfmount is killed (SIGKILL): mounts through fusermount3, which stays
    /// to unmount; as a user, also give --allow-root or --allow-other (fusermount3's rule).
    #[arg(long)]
    pub auto_unmount: bool,
    /// Let every user into the mount, each still checked against the modes (as a user,
    /// needs user_allow_other in /etc/fuse.conf).
    #[arg(long, conflicts_with = "allow_root")]
    pub allow_other: bool,
    /// Let root in besides the mounting user.
    #[arg(long)]
    pub allow_root: bool,
    /// Owner (numeric uid) shown on every file and folder [default: the mounting user].
    #[arg(long, value_name = "UID")]
    pub uid: Option<u32>,
    /// Group (numeric gid) shown on every file and folder [default: the mounting user's].
    #[arg(long, value_name = "GID")]
    pub gid: Option<u32>,
    /// Mode of files, octal [default: 0444]; write bits are refused (read-only mount).
    #[arg(long, value_name = "MODE")]
    pub file_mode: Option<String>,
    /// Mode of folders, octal [default: 0555].
    #[arg(long, value_name = "MODE")]
    pub dir_mode: Option<String>,
    /// Bits taken off both modes, octal, e.g. 0027 [default: 0].
    #[arg(long, value_name = "MASK")]
    pub umask: Option<String>,
    /// Serve Prometheus metrics at http://ADDR/metrics, e.g. 127.0.0.1:9187 [default: off].
    #[arg(long = "metrics-listen", value_name = "ADDR", alias = "metrics-addr")]
    pub metrics_addr: Option<String>,
}

impl RunArgs {
    /// The flags that are settings, as a layer (the others are read by the command).
    fn apply(&self, layer: Layer) -> Layer {
        Layer {
            allow_other: self.allow_other.then_some(true),
            allow_root: self.allow_root.then_some(true),
            uid: self.uid,
            gid: self.gid,
            file_mode: self.file_mode.clone(),
            dir_mode: self.dir_mode.clone(),
            umask: self.umask.clone(),
            auto_unmount: self.auto_unmount.then_some(true),
            metrics_addr: self.metrics_addr.clone(),
            ..layer
        }
    }
}

impl MountArgs {
    /// These flags as a settings layer, over the connection flags.
    pub fn settings_layer(&self) -> Layer {
        Layer {
            interval: self.interval.clone().map(DurationValue::Text),
            standard_objects: self.standard_objects.clone(),
            // Naming custom objects on the command line is intent: it turns syncing on
            // unless --sync-custom-objects says otherwise (a file's list does not).
            sync_custom_objects: self
                .sync_custom_objects
                .or(self.custom_objects.is_some().then_some(true)),
            custom_objects: self.custom_objects.clone(),
            format: self.format.clone(),
            // An empty folder is the settings' word for "no store".
            cache_dir: match self.no_cache {
                true => Some(PathBuf::new()),
                false => self.cache_dir.clone(),
            },
            memory_cache_size: self.memory_cache_size.clone().map(SizeValue::Text),
            max_cache_size: self.max_cache_size.clone().map(SizeValue::Text),
            store: self.store.clone(),
            attr_timeout: self.attr_timeout.clone().map(DurationValue::Text),
            dir_cache_time: self.dir_cache_time.clone().map(DurationValue::Text),
            ..self.run.apply(self.connection.settings_layer())
        }
    }

    /// Every path made absolute, so a daemon that changed its directory to `/` finds them.
    pub fn absolutize(&mut self) -> std::io::Result<()> {
        let absolute = |path: &mut PathBuf| -> std::io::Result<()> {
            if !path.as_os_str().is_empty() && path.is_relative() {
                *path = std::env::current_dir()?.join(&*path);
            }
            Ok(())
        };
        absolute(&mut self.mountpoint)?;
        for path in [
            self.connection.config.as_mut(),
            self.connection.client_secret_file.as_mut(),
            self.cache_dir.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            absolute(path)?;
        }
        Ok(())
    }
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
    #[arg(long, value_parser = file_formats(), default_value = "json")]
    pub format: &'static [FileFormat],
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
    /// Added delay for every API request (`/services/...`), in milliseconds (at most 600000).
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Fraction (0 to 1) of API requests that fail with 503 SERVER_UNAVAILABLE.
    #[arg(long, value_name = "FRACTION")]
    pub error_rate: Option<f64>,
    /// The first N API requests fail with 503 SERVER_UNAVAILABLE.
    #[arg(long, value_name = "N")]
    pub fail_next: Option<u64>,
    /// Start with only this many API calls left today (then 403 REQUEST_LIMIT_EXCEEDED).
    #[arg(long, value_name = "N")]
    pub api_remaining: Option<u64>,
    /// Simulate a Connected App without a Run As user (the token endpoint refuses logins).
    #[arg(long)]
    pub no_run_as_user: bool,
    /// Daily API request limit.
    #[arg(long, default_value_t = 100_000)]
    pub api_limit: u64,
    /// Access tokens expire after this many seconds (0: never).
    #[arg(long, default_value_t = 0)]
    pub token_ttl: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse_mount(args: &[&str]) -> MountArgs {
        let argv = ["sfmount", "mount", "/mnt/sf"].iter().chain(args);
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Mount(mount) => *mount,
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn the_command_table_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn sync_custom_objects_takes_an_optional_value() {
        assert_eq!(parse_mount(&[]).sync_custom_objects, None);
        assert_eq!(
            parse_mount(&["--sync-custom-objects"]).sync_custom_objects,
            Some(true)
        );
        assert_eq!(
            parse_mount(&["--sync-custom-objects", "false"]).sync_custom_objects,
            Some(false)
        );
        assert_eq!(
            parse_mount(&["--sync-custom-objects=true"]).sync_custom_objects,
            Some(true)
        );
        // A bare flag followed by another flag does not swallow it.
        let mount = parse_mount(&["--sync-custom-objects", "--custom-objects", "A__c,B__c"]);
        assert_eq!(mount.sync_custom_objects, Some(true));
        assert_eq!(
            mount.custom_objects,
            Some(vec!["A__c".to_string(), "B__c".to_string()])
        );
        let error = Cli::try_parse_from([
            "sfmount",
            "mount",
            "/mnt/sf",
            "--sync-custom-objects",
            "maybe",
        ])
        .unwrap_err()
        .to_string();
        assert!(error.contains("maybe"), "{error}");
    }

    #[test]
    fn custom_objects_flag_turns_syncing_on_unless_told_otherwise() {
        use crate::config::{Settings, ENV_CLIENT_ID, ENV_CLIENT_SECRET, ENV_DOMAIN};
        let env = |name: &str| match name {
            ENV_DOMAIN => Some("acme".to_string()),
            ENV_CLIENT_ID => Some("id".to_string()),
            ENV_CLIENT_SECRET => Some("secret".to_string()),
            _ => None,
        };
        let mount = parse_mount(&["--custom-objects", "Invoice__c"]);
        let s = Settings::resolve(None, &mount.settings_layer(), &env).unwrap();
        assert!(s.objects.sync_custom_objects);
        let mount = parse_mount(&[
            "--custom-objects",
            "Invoice__c",
            "--sync-custom-objects",
            "false",
        ]);
        let s = Settings::resolve(None, &mount.settings_layer(), &env).unwrap();
        assert!(!s.objects.sync_custom_objects);
    }

    #[test]
    fn the_store_flag_becomes_the_store_setting() {
        assert_eq!(parse_mount(&[]).settings_layer().store, None);
        let url = "postgres://fleet@db:5432/sf?sslmode=require";
        assert_eq!(
            parse_mount(&["--store", url])
                .settings_layer()
                .store
                .as_deref(),
            Some(url)
        );
    }

    #[test]
    fn no_cache_and_cache_dir_become_the_cache_dir_setting() {
        assert_eq!(parse_mount(&[]).settings_layer().cache_dir, None);
        assert_eq!(
            parse_mount(&["--cache-dir", "/c"])
                .settings_layer()
                .cache_dir,
            Some(PathBuf::from("/c"))
        );
        assert_eq!(
            parse_mount(&["--no-cache"]).settings_layer().cache_dir,
            Some(PathBuf::new())
        );
        let both = ["sfmount", "mount", "/m", "--no-cache", "--cache-dir", "/c"];
        assert!(Cli::try_parse_from(both).is_err());
    }

    #[test]
    fn memory_cache_size_is_passed_as_text_for_the_settings_to_check() {
        assert_eq!(parse_mount(&[]).settings_layer().memory_cache_size, None);
        assert_eq!(
            parse_mount(&["--memory-cache-size", "16MiB"])
                .settings_layer()
                .memory_cache_size,
            Some(SizeValue::Text("16MiB".into()))
        );
    }

    #[test]
    fn max_cache_size_is_passed_as_text_and_cache_commands_parse() {
        assert_eq!(
            parse_mount(&["--max-cache-size", "1GiB"])
                .settings_layer()
                .max_cache_size,
            Some(SizeValue::Text("1GiB".into()))
        );
        let argv = [
            "sfmount",
            "cache",
            "clear",
            "--org",
            "00D1",
            "--cache-dir",
            "/c",
        ];
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Cache(CacheCommand::Clear(clear)) => {
                assert_eq!(clear.org.as_deref(), Some("00D1"));
                assert_eq!(
                    clear.location.settings_layer().cache_dir,
                    Some(PathBuf::from("/c"))
                );
            }
            other => panic!("parsed as {other:?}"),
        }
        let argv = ["sfmount", "cache", "info", "--json"];
        assert!(matches!(
            Cli::try_parse_from(argv).unwrap().command,
            Command::Cache(CacheCommand::Info(CacheInfoArgs { json: true, .. }))
        ));
    }

    #[test]
    fn an_empty_standard_objects_value_is_accepted() {
        let names = parse_mount(&["--standard-objects", ""]).standard_objects;
        let names = names.expect("given");
        assert!(names.iter().all(|name| name.trim().is_empty()), "{names:?}");
    }

    #[test]
    fn mount_help_names_every_settings_source_and_default() {
        let mut command = Cli::command();
        let help = command
            .find_subcommand_mut("mount")
            .expect("mount command")
            .render_long_help()
            .to_string();
        for needle in [
            "SFMOUNT_DOMAIN",
            "SFMOUNT_CLIENT_ID",
            "SFMOUNT_CLIENT_SECRET",
            "custom_objects_to_sync",
            "docs/configuration.md",
            "[default: 30s]",
            "[default: json]",
            "at least 5s",
            &crate::catalog::DEFAULT_STANDARD_OBJECTS.join(","),
        ] {
            assert!(help.contains(needle), "{needle:?} missing from:\n{help}");
        }
    }
}
