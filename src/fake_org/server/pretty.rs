//! `X-PrettyPrint: 1` output in the style Salesforce's Jackson serializer produces:
//! `"key" : value`, two-space indents per object level, arrays inline (`[ {`, `}, {`, ` ]`).
//! simple-salesforce sends the header on every call; no client depends on the layout, but
//! answering as a real org does costs little.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::Formatter;

#[derive(Default)]
struct JacksonFormatter {
    /// Open objects (arrays do not indent: Jackson writes them inline).
    depth: usize,
    /// Per open object or array: whether it already holds a value.
    has_value: Vec<bool>,
}

impl JacksonFormatter {
    fn newline_indent<W: ?Sized + Write>(&self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b"\n")?;
        for _ in 0..self.depth {
            writer.write_all(b"  ")?;
        }
        Ok(())
    }
}

impl Formatter for JacksonFormatter {
    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.depth += 1;
        self.has_value.push(false);
        writer.write_all(b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.depth -= 1;
        if self.has_value.pop().unwrap_or(false) {
            self.newline_indent(writer)?;
            writer.write_all(b"}")
        } else {
            writer.write_all(b" }")
        }
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if !first {
            writer.write_all(b",")?;
        }
        self.newline_indent(writer)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b" : ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        if let Some(last) = self.has_value.last_mut() {
            *last = true;
        }
        Ok(())
    }

    fn begin_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.has_value.push(false);
        writer.write_all(b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.has_value.pop();
        writer.write_all(b" ]")
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        writer.write_all(if first { b" " } else { b", " })
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        if let Some(last) = self.has_value.last_mut() {
            *last = true;
        }
        Ok(())
    }
}

/// Serialises `value` the way Salesforce answers a request carrying `X-PrettyPrint: 1`.
pub(crate) fn to_vec_pretty<T: Serialize>(value: &T) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut serializer =
        serde_json::Serializer::with_formatter(&mut out, JacksonFormatter::default());
    value.serialize(&mut serializer)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn layout_matches_salesforce_pretty_print() {
        let page = json!({
            "totalSize": 1,
            "done": true,
            "records": [{"attributes": {"type": "Account"}, "Id": "001", "Tags": [], "Owner": null}],
            "empty": {},
        });
        let text = String::from_utf8(to_vec_pretty(&page).unwrap()).unwrap();
        let expected = "{\n  \"totalSize\" : 1,\n  \"done\" : true,\n  \"records\" : [ {\n    \
                        \"attributes\" : {\n      \"type\" : \"Account\"\n    },\n    \"Id\" : \"001\",\n    \
                        \"Tags\" : [ ],\n    \"Owner\" : null\n  } ],\n  \"empty\" : { }\n}";
        assert_eq!(text, expected);
    }

    #[test]
    fn pretty_output_parses_back_to_the_same_value() {
        let value = json!([{"a": [1, 2, {"b": "c \" d"}], "e": {"f": [[], [null]]}}, "x", 3.5]);
        let bytes = to_vec_pretty(&value).unwrap();
        let back: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back, value);
    }
}
