use std::process::ExitCode;

use clap::Parser;

use sfmount::cli::{Cli, Command};
use sfmount::commands::{exit, fstab};

/// jemalloc rather than glibc malloc: glibc kept the memory of freed query pages and
/// evicted bodies, so the mount's resident size only grew (figures in Cargo.toml). Set in
/// the binary only: the library leaves the choice to whoever links it.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's settings, read before `main` (jemalloc looks this symbol up by name; the
/// environment's `_RJEM_MALLOC_CONF` still overrides it). One arena rather than four a
/// core: the mount's work hops between tokio and FUSE threads, and each arena kept its own
/// freed pages (peak RSS at 130,000 records: 313 MiB with the default, 296 with two arenas,
/// 235 with one, at no visible cost in `grep -r` time; threads keep their small caches).
/// Freed pages go back to the system after a second instead of ten, so one listing's query
/// pages are not still held while the next folder loads.
#[export_name = "_rjem_malloc_conf"]
static JEMALLOC_CONF: &[u8; 47] = b"narenas:1,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

fn main() -> ExitCode {
    // `sfmount CONFIG MOUNTPOINT -o OPTIONS` (as mount(8) calls it) becomes `sfmount mount`.
    let argv = match fstab::command_line(std::env::args_os().collect()) {
        Ok(argv) => argv,
        Err(error) => {
            eprintln!("sfmount: {error:#}");
            return ExitCode::from(exit::USAGE as u8);
        }
    };
    let mut cli = Cli::parse_from(argv);
    if let Err(error) = sfmount::commands::prepare(&mut cli) {
        return exit::finish(Err(error));
    }
    let result = match cli.command {
        Command::Mount(args) => sfmount::commands::mount::run(*args),
        Command::Demo(args) => sfmount::commands::demo::run(args),
        Command::Check(args) => sfmount::commands::check::run(args),
        Command::FakeOrg(args) => sfmount::commands::fake_org::run(args),
        Command::Cache(command) => sfmount::commands::cache::run(command),
        Command::Completions(args) => sfmount::commands::manual::completions(args.shell),
        Command::Man => sfmount::commands::manual::man_page(),
    };
    exit::finish(result)
}
