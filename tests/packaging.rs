//! What ships beside the binary: the Containerfile copies only paths that exist and runs the
//! binary its build stage makes; the systemd unit and the Kubernetes example are consistent
//! with the binary's flags; completions and the man page come out of the binary; the README
//! says how to install; LICENSE matches Cargo.toml.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_sfmount");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(ROOT).join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The instructions of a Containerfile, continuation lines joined.
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut joined = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.is_empty() && current.is_empty() {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(head) => current.push_str(head),
            None => {
                current.push_str(line);
                joined.push(std::mem::take(&mut current));
            }
        }
    }
    joined
        .into_iter()
        .filter(|line| !line.is_empty())
        .map(|line| {
            let (word, rest) = line.split_once(' ').unwrap_or((&line, ""));
            (word.to_uppercase(), rest.trim().to_string())
        })
        .collect()
}

#[test]
fn the_containerfile_builds_from_existing_paths_and_runs_the_built_binary() {
    let steps = instructions(&read("Containerfile"));
    let stages: Vec<&String> = steps
        .iter()
        .filter(|(word, _)| word == "FROM")
        .map(|(_, rest)| rest)
        .collect();
    assert_eq!(stages.len(), 2, "a build stage and a run stage: {stages:?}");
    assert!(stages[0].ends_with("AS build"), "{stages:?}");
    let mut from_build = Vec::new();
    for (word, rest) in &steps {
        if word != "COPY" {
            continue;
        }
        let parts: Vec<&str> = rest.split_whitespace().collect();
        if let Some(stage) = parts[0].strip_prefix("--from=") {
            assert_eq!(stage, "build");
            from_build.push(parts[1].to_string());
            continue;
        }
        for source in &parts[..parts.len() - 1] {
            assert!(
                Path::new(ROOT).join(source).exists(),
                "COPY {source}: not in the repository"
            );
        }
    }
    assert_eq!(from_build, ["/src/target/release/sfmount"]);
    let build = steps
        .iter()
        .find(|(word, rest)| word == "RUN" && rest.contains("cargo build"))
        .expect("a cargo build step");
    assert!(
        build.1.contains("--locked") && build.1.contains("--release"),
        "{build:?}"
    );
    assert!(steps
        .iter()
        .any(|(word, rest)| word == "RUN" && rest.contains("install") && rest.contains("fuse3")));
    // Every target Cargo.toml names is copied, or cargo refuses the manifest.
    let manifest = read("Cargo.toml");
    for line in manifest.lines().filter(|l| l.starts_with("name = ")) {
        let name = line.trim_start_matches("name = ").trim_matches('"');
        let test = Path::new(ROOT).join("tests").join(format!("{name}.rs"));
        let example = Path::new(ROOT).join("examples").join(format!("{name}.rs"));
        assert!(
            name == "sfmount" || test.exists() || example.exists(),
            "{name}"
        );
    }
}

#[test]
fn the_systemd_unit_and_the_kubernetes_example_use_flags_the_binary_has() {
    let unit = read("contrib/systemd/sfmount@.service");
    assert!(unit.contains("Type=notify"));
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("ExecStart");
    assert!(
        !exec.contains("--daemon"),
        "Type=notify runs in the foreground"
    );
    let help = Command::new(BIN)
        .args(["mount", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout).to_string();
    let manifest = read("contrib/k8s/sfmount-sidecar.yaml");
    assert!(manifest.contains("mountPropagation: Bidirectional"));
    assert!(manifest.contains("mountPropagation: HostToContainer"));
    let k8s_args = manifest
        .lines()
        .find_map(|l| l.trim().strip_prefix("args: "))
        .expect("the sidecar's args");
    for text in [exec, k8s_args] {
        for flag in text
            .split(|c: char| c.is_whitespace() || c == '"' || c == ',' || c == '[')
            .filter(|w| w.starts_with("--"))
        {
            assert!(help.contains(flag), "{flag} is not a mount flag");
        }
    }
}

#[test]
fn completions_and_the_man_page_come_from_the_binary() {
    let bash = Command::new(BIN)
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert!(bash.status.success());
    let bash = String::from_utf8_lossy(&bash.stdout);
    assert!(
        bash.contains("_sfmount") && bash.contains("--allow-other"),
        "{bash}"
    );
    let man = Command::new(BIN).arg("man").output().unwrap();
    assert!(man.status.success());
    let man = String::from_utf8_lossy(&man.stdout);
    assert!(man.contains(".TH sfmount"), "{man}");
    assert!(man.contains("SFMOUNT MOUNT"));
}

#[test]
fn readme_says_how_to_install_and_the_licence_matches_the_manifest() {
    let readme = read("README.md");
    assert!(readme.contains("cargo install --locked --path ."));
    assert!(readme.contains("docs/running.md"));
    let manifest = read("Cargo.toml");
    assert!(manifest.contains("license = \"MIT\""));
    assert!(read("LICENSE").starts_with("MIT License"));
}
