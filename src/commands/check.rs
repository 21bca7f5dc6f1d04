//! `sfmount check`.

use crate::cli::CheckArgs;

pub fn run(_args: CheckArgs) -> anyhow::Result<()> {
    anyhow::bail!("`sfmount check` is not built yet")
}
