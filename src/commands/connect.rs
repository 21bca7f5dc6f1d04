//! The start every command against an org shares: settings from the process, then log in,
//! describeGlobal and the object selection, one API call each way (tests count them).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;

use crate::catalog::{select_objects, OrgObject, Selection};
use crate::config::{ConfigError, Layer, Settings};
use crate::salesforce::{DescribeGlobal, SalesforceClient, SfError};

/// The org could not be reached or refused us (down, over its API limit, credentials
/// refused): `mount` can still serve a local store. The message is the user's.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub(crate) struct OrgUnreachable {
    pub message: String,
}

impl OrgUnreachable {
    /// Whether `error` came from an org out of reach rather than from wrong settings.
    pub(crate) fn in_chain(error: &anyhow::Error) -> bool {
        error.chain().any(|cause| cause.is::<OrgUnreachable>())
    }
}

/// The user's words for `error`, marked [`OrgUnreachable`] when it is one.
fn classify(error: SfError) -> anyhow::Error {
    let unreachable = matches!(
        error,
        SfError::Timeout { .. }
            | SfError::Unavailable { .. }
            | SfError::LimitExceeded { .. }
            | SfError::Auth { .. }
    ) || matches!(&error, SfError::Http { status, .. } if *status >= 500);
    let message = super::flag_hints::user_message(&error);
    if unreachable {
        anyhow::Error::new(OrgUnreachable { message })
    } else {
        anyhow::Error::msg(message)
    }
}

/// Settings from the `--config` file, the process environment and the flags' `layer`.
pub(crate) fn settings_from_process(
    config_file: Option<&Path>,
    flags: &Layer,
) -> Result<Settings, ConfigError> {
    Settings::resolve(config_file, flags, &|name| std::env::var(name).ok())
}

/// How a command words a failed step for its reader (`check` and `mount` say it differently,
/// and users see those words).
pub(crate) struct StepWording {
    pub login: &'static str,
    pub describe_global: &'static str,
    /// `None`: the selection error stands on its own.
    pub selection: Option<&'static str>,
}

/// A logged-in client, the org's object list, and what of it the settings select.
pub(crate) struct ConnectedOrg {
    pub client: SalesforceClient,
    pub global: Arc<DescribeGlobal>,
    pub selection: Selection,
}

/// Logs in, lists the org's objects and selects those to mount. `on_login` runs once the
/// login succeeded, before anything else is asked (`check` reports the login there).
pub(crate) async fn connect_and_select(
    settings: &Settings,
    wording: &StepWording,
    on_login: impl FnOnce(&SalesforceClient) -> anyhow::Result<()>,
) -> anyhow::Result<ConnectedOrg> {
    let client = SalesforceClient::connect(settings.client_settings())
        .await
        .map_err(classify)
        .context(wording.login)?;
    on_login(&client)?;
    let global = client
        .describe_global()
        .await
        .map_err(classify)
        .context(wording.describe_global)?;
    let org: Vec<OrgObject> = global.sobjects.iter().map(OrgObject::from).collect();
    let selection = select_objects(&settings.objects, &org);
    let selection = match wording.selection {
        Some(context) => selection.context(context)?,
        None => selection?,
    };
    Ok(ConnectedOrg {
        client,
        global,
        selection,
    })
}
