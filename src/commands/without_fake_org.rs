//! `demo` and `fake-org` in a binary built without the `fake-org` feature: the commands stay
//! in the command table (so `--help` and scripts see the same commands) and explain why
//! they cannot run.

fn not_built_in(command: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "`sfmount {command}` was not built into this binary (it was built without the \
         `fake-org` feature); rebuild with the default features to use it"
    )
}

pub mod demo {
    pub fn run(_args: crate::cli::DemoArgs) -> anyhow::Result<()> {
        Err(super::not_built_in("demo"))
    }
}

pub mod fake_org {
    pub fn run(_args: crate::cli::FakeOrgArgs) -> anyhow::Result<()> {
        Err(super::not_built_in("fake-org"))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_missing_commands_say_how_to_get_them() {
        let message = super::not_built_in("demo").to_string();
        assert!(message.contains("sfmount demo"), "{message}");
        assert!(message.contains("not built into this binary"), "{message}");
        assert!(message.contains("default features"), "{message}");
    }
}
