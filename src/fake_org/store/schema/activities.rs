//! Task and Event, the activities of a record (reference: Salesforce's Task and Event objects,
//! trimmed to the fields sfmount and its tests use). Both point at their record through the
//! polymorphic `WhatId` (relationship `What`) and at a person through `WhoId` (`Who`).
//! `IsArchived` is set by the platform, never by a client: real orgs archive closed tasks and
//! past events after a year, and `/query` then hides them (only `/queryAll` returns them).

use super::{audit_fields, field, id_field, is_deleted, owner, with, FieldExt, Table};
use crate::fake_org::model::FieldType as T;

/// Objects an activity's `WhatId` may name (the fake org's non-person records).
pub(in crate::fake_org::store) const WHAT_TARGETS: &[&str] = &[
    "Account",
    "Campaign",
    "Case",
    "Invoice__c",
    "Opportunity",
    "Project__c",
];

/// Objects an activity's `WhoId` may name.
pub(in crate::fake_org::store) const WHO_TARGETS: &[&str] = &["Contact", "Lead"];

/// Objects whose archived rows `/query` leaves out.
pub(in crate::fake_org) const ARCHIVING_OBJECTS: &[&str] = &["Task", "Event"];

fn what_and_who() -> Vec<crate::fake_org::model::FieldDef> {
    vec![
        field("WhatId", "Related To ID", T::Reference).refs(WHAT_TARGETS, "What"),
        field("WhoId", "Name ID", T::Reference).refs(WHO_TARGETS, "Who"),
    ]
}

/// The Task and Event tables.
pub(super) fn activity_tables() -> Vec<Table> {
    let task_fields = with(
        vec![id_field("Activity")],
        with(
            what_and_who(),
            with(
                vec![
                    field("Subject", "Subject", T::Combobox),
                    field("ActivityDate", "Due Date Only", T::Date),
                    field("Status", "Status", T::Picklist)
                        .picklist(&[
                            "Not Started",
                            "In Progress",
                            "Completed",
                            "Waiting on someone else",
                            "Deferred",
                        ])
                        .required(),
                    field("Priority", "Priority", T::Picklist)
                        .picklist(&["High", "Normal", "Low"])
                        .required(),
                    field("IsClosed", "Closed", T::Boolean),
                    owner(&["User"]),
                    field("Description", "Description", T::TextArea).long_text(32000),
                    field("TaskSubtype", "Task Subtype", T::Picklist)
                        .picklist(&["Task", "Email", "Call"]),
                    field("CompletedDateTime", "Completed Date/Time", T::DateTime),
                    field("IsArchived", "Archived", T::Boolean),
                    is_deleted(),
                ],
                audit_fields(),
            ),
        ),
    );
    let event_fields = with(
        vec![id_field("Activity")],
        with(
            what_and_who(),
            with(
                vec![
                    field("Subject", "Subject", T::Combobox),
                    field("Location", "Location", T::String),
                    field("IsAllDayEvent", "All-Day Event", T::Boolean),
                    field("ActivityDateTime", "Due Date Time", T::DateTime),
                    field("ActivityDate", "Due Date Only", T::Date),
                    field("StartDateTime", "Start Date Time", T::DateTime),
                    field("EndDateTime", "End Date Time", T::DateTime),
                    field("DurationInMinutes", "Duration", T::Int),
                    owner(&["User"]),
                    field("Description", "Description", T::TextArea).long_text(32000),
                    field("IsArchived", "Archived", T::Boolean),
                    is_deleted(),
                ],
                audit_fields(),
            ),
        ),
    );
    let mut task = super::table("Task", "Task", "Tasks", "00T", task_fields);
    let mut event = super::table("Event", "Event", "Events", "00U", event_fields);
    // Activities have no feed of their own here, and their lists are not scoped.
    for table in [&mut task, &mut event] {
        table.meta.feed_enabled = false;
    }
    vec![task, event]
}
