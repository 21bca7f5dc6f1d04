//! Attachment, the files records had before Salesforce Files (reference: Salesforce's
//! Attachment object, trimmed to the fields sfmount and its tests use). Its `ParentId` may
//! name any record that can hold files, and its bytes are the `Body` blob, served at
//! `/sobjects/Attachment/{Id}/Body` like a ContentVersion's `VersionData`.

use super::{audit_fields, field, id_field, is_deleted, owner, table, with, FieldExt, Table};
use crate::fake_org::model::FieldType as T;

/// The Attachment table.
pub(super) fn attachment_table() -> Table {
    table(
        "Attachment",
        "Attachment",
        "Attachments",
        "00P",
        with(
            vec![
                id_field("Attachment"),
                field("ParentId", "Parent ID", T::Reference)
                    .refs(super::LINKABLE, "Parent")
                    .required(),
                field("Name", "File Name", T::String)
                    .required()
                    .name_field(),
                field("ContentType", "Content Type", T::String).len(120),
                field("BodyLength", "Body Length", T::Int),
                field("Body", "Body", T::Base64),
                field("IsPrivate", "Private", T::Boolean),
                field("Description", "Description", T::TextArea).long_text(500),
                owner(&["User"]),
                is_deleted(),
            ],
            audit_fields(),
        ),
    )
}
