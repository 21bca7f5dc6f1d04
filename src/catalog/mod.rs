//! See DESIGN.md: the `catalog` layer. Which objects are mounted, per-object content rules,
//! record titles and file names. Pure logic: no HTTP, no FUSE.

mod content;
mod names;
mod select;

pub use content::{
    content_fields, content_rules, ContentRule, ADDRESS_KEYS, CASE_FEED_FIELDS, FEED_COMMENT_FIELDS,
};
pub use names::{file_name, id_from_file_name, record_title, MAX_FILE_NAME_BYTES};
pub use select::{
    select_objects, CatalogError, CustomObjects, Group, MountedObject, ObjectChoice, OrgObject,
    Selection, DEFAULT_STANDARD_OBJECTS,
};
