//! The one place where the index turns a record into a title, file names and bytes, through
//! the catalog's naming rules and the renderers.

use super::source::Record;
use super::FileFormat;

/// How records of one object are presented.
#[derive(Debug, Clone)]
pub struct Presenter {
    pub object: String,
    pub instance_url: String,
    pub name_field: Option<String>,
}

impl Presenter {
    pub fn title(&self, record: &Record) -> String {
        crate::catalog::record_title(&self.object, record, self.name_field.as_deref())
    }

    pub fn file_name(&self, title: &str, id: &str, format: FileFormat) -> String {
        crate::catalog::file_name(title, id, format.extension())
    }

    pub fn render(&self, record: &Record, title: &str, format: FileFormat) -> Vec<u8> {
        match format {
            FileFormat::Json => crate::render::render_json(record),
            FileFormat::Text => {
                let context = crate::render::TextContext {
                    instance_url: &self.instance_url,
                    title,
                    name_field: self.name_field.as_deref(),
                };
                crate::render::render_text(&self.object, record, &context)
            }
        }
    }
}
