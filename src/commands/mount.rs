//! `sfmount mount`.

use crate::cli::MountArgs;

pub fn run(_args: MountArgs) -> anyhow::Result<()> {
    anyhow::bail!("`sfmount mount` is not built yet")
}
