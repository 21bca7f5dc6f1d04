//! The `render` layer (docs/architecture.md). A record becomes JSON bytes or text bytes; the same
//! input always gives the same bytes, so file sizes can be computed before anyone reads.

mod format;
mod html;
mod story;
mod text;

pub use format::{parse_format_setting, FileFormat, FORMAT_SETTING_VALUES};
pub use text::{render_text, TextContext};

use serde_json::{Map, Value};

/// The record pretty-printed (two-space indent) exactly as the client handed it over, ending
/// in a newline. `attributes` blocks are kept: they carry the object type of polymorphic
/// relationships (an `Owner` may be a `User` or a `Group`) and make the file match what the
/// REST API returns. Key order is the input's (Salesforce's SELECT order, then
/// `ContentDocumentLinks`, `Feeds`, `EmailMessages`, then `Tasks` and `Events` as attached by the
/// client), so output is deterministic.
/// Control characters inside values are escaped by JSON itself (`\u0000`), so the output is
/// always valid UTF-8 JSON.
pub fn render_json(record: &Map<String, Value>) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(record)
        .expect("a JSON map of JSON values always serialises into a Vec");
    bytes.push(b'\n');
    bytes
}

#[cfg(test)]
mod tests;
