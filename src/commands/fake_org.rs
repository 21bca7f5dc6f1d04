//! `sfmount fake-org`.

use crate::cli::FakeOrgArgs;

pub fn run(_args: FakeOrgArgs) -> anyhow::Result<()> {
    anyhow::bail!("`sfmount fake-org` is not built yet")
}
