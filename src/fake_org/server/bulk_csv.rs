//! The CSV of Bulk API 2.0 query results: the job's delimiter and line ending, every value
//! quoted as Salesforce writes it, parent fields as dotted columns (`Owner.Name`).

use serde_json::Value;

use crate::fake_org::model::FieldType;
use crate::fake_org::soql::Column;

/// `columnDelimiter` of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ColumnDelimiter {
    Comma,
    Tab,
    Pipe,
    Semicolon,
    Caret,
    Backquote,
}

impl ColumnDelimiter {
    pub const ALL: [ColumnDelimiter; 6] = [
        ColumnDelimiter::Comma,
        ColumnDelimiter::Tab,
        ColumnDelimiter::Pipe,
        ColumnDelimiter::Semicolon,
        ColumnDelimiter::Caret,
        ColumnDelimiter::Backquote,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ColumnDelimiter::Comma => "COMMA",
            ColumnDelimiter::Tab => "TAB",
            ColumnDelimiter::Pipe => "PIPE",
            ColumnDelimiter::Semicolon => "SEMICOLON",
            ColumnDelimiter::Caret => "CARET",
            ColumnDelimiter::Backquote => "BACKQUOTE",
        }
    }

    fn byte(self) -> u8 {
        match self {
            ColumnDelimiter::Comma => b',',
            ColumnDelimiter::Tab => b'\t',
            ColumnDelimiter::Pipe => b'|',
            ColumnDelimiter::Semicolon => b';',
            ColumnDelimiter::Caret => b'^',
            ColumnDelimiter::Backquote => b'`',
        }
    }

    /// The enum value as a request names it (case-sensitive, as Salesforce reads it).
    pub fn parse(name: &str) -> Option<ColumnDelimiter> {
        ColumnDelimiter::ALL.into_iter().find(|d| d.name() == name)
    }
}

/// `lineEnding` of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LineEnding {
    Lf,
    Crlf,
}

impl LineEnding {
    pub fn name(self) -> &'static str {
        match self {
            LineEnding::Lf => "LF",
            LineEnding::Crlf => "CRLF",
        }
    }

    pub fn parse(name: &str) -> Option<LineEnding> {
        [LineEnding::Lf, LineEnding::Crlf]
            .into_iter()
            .find(|l| l.name() == name)
    }

    fn terminator(self) -> csv::Terminator {
        match self {
            LineEnding::Lf => csv::Terminator::Any(b'\n'),
            LineEnding::Crlf => csv::Terminator::CRLF,
        }
    }
}

/// One CSV column: its header and where its value sits in a projected row.
#[derive(Debug, Clone)]
pub(super) struct CsvColumn {
    /// `Name`, `Owner.Name`, `Account.Owner.Email`.
    pub header: String,
    /// Keys to follow in the JSON row: relationships, then the field.
    path: Vec<String>,
    is_datetime: bool,
}

/// The columns of a result, parent fields flattened to dotted names in SELECT-list order
/// (fields of one relationship stay together, as they do in REST rows).
pub(super) fn csv_columns(columns: &[Column]) -> Vec<CsvColumn> {
    let mut out = Vec::new();
    flatten(columns, &mut Vec::new(), &mut out);
    out
}

fn flatten(columns: &[Column], parents: &mut Vec<String>, out: &mut Vec<CsvColumn>) {
    for column in columns {
        match column {
            Column::Field(field) => {
                let mut path = parents.clone();
                path.push(field.name.clone());
                out.push(CsvColumn {
                    header: path.join("."),
                    path,
                    is_datetime: field.field_type == FieldType::DateTime,
                });
            }
            Column::Parent { hop, columns } => {
                parents.push(hop.relationship.clone());
                flatten(columns, parents, out);
                parents.pop();
            }
            // Refused when the job is created: Bulk queries have no child lists.
            Column::Subquery(_) => {}
        }
    }
}

/// The text of one cell: empty for null (and for a missing parent), `true`/`false`,
/// numbers as JSON writes them, and datetimes in the `2024-01-15T10:30:00.000Z` form Bulk
/// results use (REST rows say `+0000`).
fn cell(row: &Value, column: &CsvColumn) -> String {
    let value = column
        .path
        .iter()
        .try_fold(row, |value, key| value.get(key))
        .unwrap_or(&Value::Null);
    match value {
        Value::Null => String::new(),
        Value::String(text) if column.is_datetime => match text.strip_suffix("+0000") {
            Some(stem) => format!("{stem}Z"),
            None => text.clone(),
        },
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// One page of results: the header line, then a line per row. Every field is quoted, as
/// Salesforce writes Bulk results, so a value holding the delimiter, a quote or a line
/// break reads back intact.
pub(super) fn write_page(
    columns: &[CsvColumn],
    rows: &[Value],
    delimiter: ColumnDelimiter,
    line_ending: LineEnding,
) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .delimiter(delimiter.byte())
        .terminator(line_ending.terminator())
        .quote_style(csv::QuoteStyle::Always)
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail; a failure would be a bug in the csv crate.
    let headers = columns.iter().map(|c| c.header.as_str());
    writer.write_record(headers).expect("CSV into memory");
    for row in rows {
        let cells = columns.iter().map(|c| cell(row, c));
        writer.write_record(cells).expect("CSV into memory");
    }
    writer.into_inner().expect("CSV into memory")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn column(path: &[&str], is_datetime: bool) -> CsvColumn {
        CsvColumn {
            header: path.join("."),
            path: path.iter().map(|s| s.to_string()).collect(),
            is_datetime,
        }
    }

    #[test]
    fn every_value_is_quoted_and_quotes_are_doubled() {
        let columns = [
            column(&["Name"], false),
            column(&["Owner", "Name"], false),
            column(&["CreatedDate"], true),
            column(&["IsDeleted"], false),
        ];
        let rows = [
            json!({"Name": "Say \"hi\", then\nleave", "Owner": {"Name": "Ann"},
                   "CreatedDate": "2024-01-15T10:30:00.000+0000", "IsDeleted": false}),
            json!({"Name": null, "Owner": null, "CreatedDate": null, "IsDeleted": true}),
        ];
        let page = write_page(&columns, &rows, ColumnDelimiter::Comma, LineEnding::Lf);
        assert_eq!(
            String::from_utf8(page).unwrap(),
            "\"Name\",\"Owner.Name\",\"CreatedDate\",\"IsDeleted\"\n\
             \"Say \"\"hi\"\", then\nleave\",\"Ann\",\"2024-01-15T10:30:00.000Z\",\"false\"\n\
             \"\",\"\",\"\",\"true\"\n"
        );
    }

    #[test]
    fn delimiters_and_line_endings_follow_the_job() {
        let columns = [column(&["A"], false), column(&["B"], false)];
        let rows = [json!({"A": "x|y", "B": 2})];
        let page = write_page(&columns, &rows, ColumnDelimiter::Pipe, LineEnding::Crlf);
        assert_eq!(
            String::from_utf8(page).unwrap(),
            "\"A\"|\"B\"\r\n\"x|y\"|\"2\"\r\n"
        );
        for delimiter in ColumnDelimiter::ALL {
            assert_eq!(ColumnDelimiter::parse(delimiter.name()), Some(delimiter));
        }
        assert_eq!(ColumnDelimiter::parse("comma"), None);
        assert_eq!(LineEnding::parse("CRLF"), Some(LineEnding::Crlf));
    }
}
