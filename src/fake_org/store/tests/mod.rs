use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::{json, Map, Value};

use super::*;

fn small() -> Store {
    Store::generate(&GenerateOptions {
        records: 60,
        seed: 7,
    })
}

fn capture(name: &str) -> Value {
    // Copied into the repository (BSD-3 from CumulusCI, see the folder's NOTICE.md).
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/salesforce-captures")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read capture {}: {e}", path.display()));
    serde_json::from_str(&text).expect("captures are JSON")
}

fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect()
}

fn body(value: Value) -> Map<String, Value> {
    value.as_object().expect("test bodies are objects").clone()
}

fn all_records(store: &Store) -> Vec<(String, Record)> {
    store
        .tables
        .iter()
        .filter(|t| matches!(t.storage, Storage::Own(_)))
        .flat_map(|t| {
            store
                .records(&t.def.name)
                .map(|r| (t.def.name.clone(), r.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

mod activities;
mod describe;
mod mutations;
mod seeding;
