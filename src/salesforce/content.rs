//! The bytes of attached files: a ContentVersion's `VersionData`.

use reqwest::Method;

use super::client::{Meter, SalesforceClient};
use super::error::SfError;
use super::transport::{Answer, Call};

impl SalesforceClient {
    /// The bytes of ContentVersion `version_id`, which must be exactly `expected_len` long
    /// (the `ContentSize` the listing showed): a download cut short, or one of another
    /// version, is an error rather than a file of the wrong length. One API call (more
    /// only on transient failures), under the request deadline like every call.
    pub async fn version_data(
        &self,
        version_id: &str,
        expected_len: u64,
    ) -> Result<Vec<u8>, SfError> {
        let what = format!("download of ContentVersion {version_id}");
        // The Id goes into the path: only a well-formed Id may (no `/`, `?` or `..`).
        let id = crate::sfid::to_18(version_id)
            .ok_or_else(|| SfError::NotFound { what: what.clone() })?;
        let call = Call {
            method: Method::GET,
            path: format!(
                "{}/sobjects/ContentVersion/{id}/VersionData",
                self.data_path()
            ),
            body: None,
            safe: true,
            what: what.clone(),
            if_modified_since: None,
            raw: true,
        };
        let bytes = match self.call(call, &Meter::default()).await? {
            Answer::Body { bytes, .. } => bytes,
            Answer::NotModified => Vec::new(),
        };
        if bytes.len() as u64 != expected_len {
            return Err(SfError::Malformed {
                what,
                detail: format!(
                    "{} bytes arrived where the document's size is {expected_len}",
                    bytes.len()
                ),
            });
        }
        Ok(bytes)
    }
}
