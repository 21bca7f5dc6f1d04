//! `sfmount check`: authenticates, shows what a mount would list (objects, record counts,
//! fields selected) and the org's API usage, and fails with the actionable message when
//! anything is wrong.

use std::io::Write;

use anyhow::Context;

use super::connect::{connect_and_select, settings_from_process, ConnectedOrg, StepWording};
use super::flag_hints::with_flag_hints;
use crate::catalog::{listing_plan, MountedObject};
use crate::cli::CheckArgs;
use crate::config::Settings;
use crate::salesforce::{SalesforceClient, SfError};

pub fn run(args: CheckArgs) -> anyhow::Result<()> {
    let settings = settings_from_process(
        args.connection.config.as_deref(),
        &args.connection.settings_layer(),
    )
    .context("invalid settings")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let mut stdout = std::io::stdout().lock();
    runtime.block_on(check(&settings, &mut stdout))
}

/// One line per mounted object: counts come from one composite call per five objects.
pub async fn check(settings: &Settings, out: &mut dyn Write) -> anyhow::Result<()> {
    let wording = StepWording {
        login: "cannot log in to Salesforce",
        describe_global: "cannot list the org's objects",
        selection: Some("the object selection needs fixing"),
    };
    let ConnectedOrg {
        client, selection, ..
    } = connect_and_select(settings, &wording, |client| {
        writeln!(
            out,
            "Authenticated: {} (API v{})",
            client.instance_url(),
            client.api_version()
        )?;
        Ok(())
    })
    .await?;
    for (name, reason) in &selection.skipped {
        writeln!(out, "skipped {name}: {reason}")?;
    }
    if selection.objects.is_empty() {
        anyhow::bail!(
            "no object would be mounted; check standard_objects_to_sync and custom_objects_to_sync"
        );
    }

    let failures = print_object_table(&client, &selection.objects, out).await?;
    match client.api_usage() {
        Some(usage) => writeln!(
            out,
            "API usage: {}/{} requests today ({:.1}% remaining)",
            usage.used,
            usage.max,
            usage.remaining_fraction() * 100.0
        )?,
        None => writeln!(out, "API usage: not reported by the org")?,
    }
    // The same rule, with the same setting, that a mount's background refresh applies.
    let floor = settings.api_floor;
    if client
        .api_usage()
        .is_some_and(|usage| floor.is_reached_by(usage))
    {
        writeln!(
            out,
            "warning: {}% or more of the daily API limit is used; a mount would pause background refreshes (refresh_stop_at_api_percent)",
            floor.stop_at_used_percent()
        )?;
    }
    writeln!(
        out,
        "API calls made by this check: {}",
        client.api_calls_made()
    )?;
    out.flush()?;
    if !failures.is_empty() {
        anyhow::bail!(
            "{} object(s) failed: {}",
            failures.len(),
            failures.join("; ")
        );
    }
    Ok(())
}

/// The table of mounted objects with their record counts and query shape. An object that
/// fails gets an error row and is returned among the failures; a limit or login failure
/// ends the check at once, since every further row would fail the same way.
async fn print_object_table(
    client: &SalesforceClient,
    objects: &[MountedObject],
    out: &mut dyn Write,
) -> anyhow::Result<Vec<String>> {
    let names: Vec<String> = objects.iter().map(|o| o.name.clone()).collect();
    let counts = client
        .count_records(&names)
        .await
        .context("cannot count records")?;
    let width = names
        .iter()
        .map(|n| n.len())
        .max()
        .unwrap_or(0)
        .max("object".len());
    writeln!(
        out,
        "{:<16} {:<width$} {:>10} {:>8} {:>10}",
        "folder", "object", "records", "fields", "subqueries"
    )?;
    let mut failures: Vec<String> = Vec::new();
    for (object, count) in objects.iter().zip(counts) {
        let plan = listing_plan(client, &object.name).await;
        match (count, plan) {
            (Ok(count), Ok(plan)) => writeln!(
                out,
                "{:<16} {:<width$} {:>10} {:>8} {:>10}",
                object.group.folder_name(),
                object.name,
                count,
                plan.fields.len() + plan.relationship_fields.len(),
                if plan.subqueries.is_empty() {
                    "-".to_string()
                } else {
                    plan.subqueries.join(",")
                },
            )?,
            (Err(e), _) | (_, Err(e)) => {
                if matches!(e, SfError::LimitExceeded { .. } | SfError::Auth { .. }) {
                    return Err(with_flag_hints(e)).context(format!("checking {}", object.name));
                }
                writeln!(
                    out,
                    "{:<16} {:<width$} error: {e}",
                    object.group.folder_name(),
                    object.name
                )?;
                failures.push(format!("{}: {e}", object.name));
            }
        }
    }
    Ok(failures)
}
