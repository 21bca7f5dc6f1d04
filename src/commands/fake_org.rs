//! `sfmount fake-org`: serves a fake Salesforce org until SIGINT or SIGTERM.

use std::io::Write;
use std::time::Duration;

use anyhow::Context;

use crate::cli::FakeOrgArgs;
use crate::fake_org::{FakeOrg, FakeOrgConfig, Faults};

pub fn run(args: FakeOrgArgs) -> anyhow::Result<()> {
    let config = FakeOrgConfig {
        listen: args.listen,
        records: args.records,
        seed: args.seed,
        client_id: args.client_id,
        client_secret: args.client_secret,
        latency_ms: args.latency_ms,
        api_limit: args.api_limit,
        token_ttl: (args.token_ttl > 0).then(|| Duration::from_secs(args.token_ttl)),
    };
    // The fault flags are the same knobs as `POST /_fake/faults`, checked the same way.
    let faults = Faults {
        error_rate: args.error_rate,
        fail_next: args.fail_next,
        api_remaining: args.api_remaining,
        no_run_as_user: args.no_run_as_user.then_some(true),
        ..Faults::default()
    };
    if let Some(problem) = faults.invalid_setting() {
        anyhow::bail!("{problem}");
    }
    let listen = config.listen;
    let org =
        FakeOrg::start(config).with_context(|| format!("cannot start the fake org on {listen}"))?;
    org.set_faults(faults);
    // The signals are watched before the URL is printed: a script that reads the URL and
    // stops the org at once must find it stopping cleanly, not killed by the signal.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the signal runtime")?;
    let stop = {
        let _context = runtime.enter();
        StopSignals::watch()?
    };
    // The first line is for scripts (they read the URL from it) and for people. Printing the
    // secret is intended: it is the fake org's own demo credential, not a real one.
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "sfmount fake-org listening on {} client_id={} client_secret={}",
        org.base_url(),
        org.client_id(),
        org.client_secret()
    )
    .and_then(|()| stdout.flush())
    .context("cannot write to stdout")?;
    drop(stdout);

    let signal = runtime.block_on(stop.wait());
    tracing::info!("{signal}: stopping the fake org");
    org.shutdown();
    Ok(())
}

/// SIGTERM and SIGINT, watched from the moment this is made.
struct StopSignals {
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

impl StopSignals {
    /// Must run inside a tokio runtime's context.
    fn watch() -> anyhow::Result<StopSignals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(StopSignals {
            terminate: signal(SignalKind::terminate()).context("cannot watch SIGTERM")?,
            interrupt: signal(SignalKind::interrupt()).context("cannot watch SIGINT")?,
        })
    }

    async fn wait(mut self) -> &'static str {
        tokio::select! {
            _ = self.terminate.recv() => "SIGTERM",
            _ = self.interrupt.recv() => "SIGINT",
        }
    }
}
