use clap::Parser;

use sfmount::cli::{Cli, Command};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    sfmount::commands::init_logging();
    let result = match cli.command {
        Command::Mount(args) => sfmount::commands::mount::run(args),
        Command::Demo(args) => sfmount::commands::demo::run(args),
        Command::Check(args) => sfmount::commands::check::run(args),
        Command::FakeOrg(args) => sfmount::commands::fake_org::run(args),
        Command::Cache(command) => sfmount::commands::cache::run(command),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            // `{:#}` prints the context chain on one line: what failed and why.
            eprintln!("sfmount: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
