//! `sfmount demo`.

use crate::cli::DemoArgs;

pub fn run(_args: DemoArgs) -> anyhow::Result<()> {
    anyhow::bail!("`sfmount demo` is not built yet")
}
