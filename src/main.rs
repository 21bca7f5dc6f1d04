use std::process::ExitCode;

use clap::Parser;

use sfmount::cli::{Cli, Command};
use sfmount::commands::{exit, fstab};

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
