//! `sfmount completions SHELL` and `sfmount man`: generated from the clap definitions at run
//! time, so they always match the binary's own flags (no build step, nothing to keep in
//! sync in the repository).

use clap::CommandFactory;

use crate::cli::Cli;

pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<()> {
    let mut command = Cli::command();
    clap_complete::generate(shell, &mut command, "sfmount", &mut std::io::stdout());
    Ok(())
}

pub fn man_page() -> anyhow::Result<()> {
    let page = render_man_page()?;
    use std::io::Write;
    std::io::stdout().write_all(&page)?;
    Ok(())
}

/// The roff text of sfmount(1), its subcommands included.
fn render_man_page() -> anyhow::Result<Vec<u8>> {
    let command = Cli::command();
    let mut page = Vec::new();
    let man = clap_mangen::Man::new(command.clone());
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    man.render_options_section(&mut page)?;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        page.extend_from_slice(
            format!(".SH \"SFMOUNT {}\"\n", sub.get_name().to_uppercase()).as_bytes(),
        );
        if let Some(about) = sub.get_about() {
            page.extend_from_slice(format!("{}\n", roff_escape(&about.to_string())).as_bytes());
        }
        for arg in sub.get_arguments().filter(|a| !a.is_hide_set()) {
            let name = match (arg.get_short(), arg.get_long()) {
                (_, Some(long)) => format!("\\-\\-{long}"),
                (Some(short), None) => format!("\\-{short}"),
                (None, None) => arg.get_id().to_string().to_uppercase(),
            };
            page.extend_from_slice(format!(".TP\n\\fB{name}\\fR\n").as_bytes());
            if let Some(help) = arg.get_help() {
                page.extend_from_slice(format!("{}\n", roff_escape(&help.to_string())).as_bytes());
            }
        }
    }
    man.render_version_section(&mut page)?;
    Ok(page)
}

/// roff treats a leading `.` or `'` as a request and `\` as an escape.
fn roff_escape(text: &str) -> String {
    let text = text.replace('\\', "\\e").replace('-', "\\-");
    match text.chars().next() {
        Some('.' | '\'') => format!("\\&{text}"),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_man_page_documents_every_subcommand_and_the_mount_flags() {
        let page = String::from_utf8(render_man_page().unwrap()).unwrap();
        assert!(
            page.starts_with(".ie") || page.contains(".TH sfmount"),
            "{page}"
        );
        for needle in [
            "SFMOUNT MOUNT",
            "SFMOUNT COMPLETIONS",
            "\\-\\-daemon",
            "\\-\\-allow\\-other",
        ] {
            assert!(page.contains(needle), "{needle} missing");
        }
    }
}
