//! The `catalog` layer (docs/architecture.md). Which objects are mounted, what a listing of each
//! selects, per-object content rules, record titles and file names. Pure logic apart from
//! `plan`, which reads the describes it decides from through the client; no FUSE.

mod attachments;
mod content;
mod documents;
mod names;
mod plan;
mod select;

pub use content::{
    content_fields, content_rules, ContentRule, ADDRESS_KEYS, CASE_FEED_FIELDS,
    EMAIL_MESSAGE_FIELDS, EVENT_FIELDS, FEED_COMMENT_FIELDS, TASK_FIELDS,
};
pub use documents::{
    attached_documents, files_folder_name, AttachedDocument, FILES_FOLDER_EXTENSION,
};
pub use names::{file_name, id_from_file_name, record_title, MAX_FILE_NAME_BYTES};
pub use plan::listing_plan;
pub use select::{
    select_objects, CatalogError, CustomObjects, Group, MountedObject, ObjectChoice, OrgObject,
    Selection, DEFAULT_STANDARD_OBJECTS,
};
