//! The bytes of attached files: a ContentVersion's `VersionData` or a legacy Attachment's
//! `Body`, streamed the same way.
//!
//! A download is opened at a byte offset with an HTTP `Range` header and read piece by
//! piece, so a 2 GB file never sits in memory and a read far into a file does not fetch
//! what comes before it. Salesforce's REST guide does not document `Range` on blob
//! resources; an org (or a proxy) that ignores it answers 200 with the whole file, which
//! [`VersionStream::start`] reports, and the caller keeps the bytes from 0 instead.
//!
//! Deadlines: opening (headers) is one request under the request deadline, with the usual
//! re-authentication and retries; after that every piece must arrive within the request
//! deadline too (a deadline on the whole body would fail any large file on a slow line,
//! while a stalled connection still fails within one deadline).

use std::time::Duration;

use reqwest::{header, StatusCode};

use super::client::SalesforceClient;
use super::error::{api_error, SfError};
use super::transport::{transport_error, Attempts};

/// An open download of one version's bytes, from [`VersionStream::start`] to its end.
#[derive(Debug)]
pub struct VersionStream {
    response: reqwest::Response,
    start: u64,
    position: u64,
    size: u64,
    idle: Duration,
    what: String,
}

impl VersionStream {
    /// The offset of the first byte this stream delivers: the offset asked for, or 0 when
    /// the org ignored the range and sends the whole file.
    pub fn start(&self) -> u64 {
        self.start
    }

    /// The next piece, in order; `None` once the document's last byte has arrived. An
    /// answer that ends before the document's size, or runs past it, is an error, never a
    /// short file.
    pub async fn next_piece(&mut self) -> Result<Option<Vec<u8>>, SfError> {
        let piece = match tokio::time::timeout(self.idle, self.response.chunk()).await {
            Err(_) => {
                return Err(SfError::Timeout {
                    what: self.what.clone(),
                    after: self.idle,
                })
            }
            Ok(Err(error)) => return Err(transport_error(error, &self.what, self.idle)),
            Ok(Ok(piece)) => piece,
        };
        match piece {
            None if self.position == self.size => Ok(None),
            None => Err(SfError::Malformed {
                what: self.what.clone(),
                detail: format!(
                    "the download ended after byte {} of {}",
                    self.position, self.size
                ),
            }),
            Some(piece) if self.position + piece.len() as u64 > self.size => {
                Err(SfError::Malformed {
                    what: self.what.clone(),
                    detail: format!("more than the document's {} bytes arrived", self.size),
                })
            }
            Some(piece) => {
                self.position += piece.len() as u64;
                // Usually without a copy: the piece owns its buffer.
                Ok(Some(Vec::from(piece)))
            }
        }
    }
}

impl SalesforceClient {
    /// Opens the download of ContentVersion (or Attachment) `version_id` from byte `from`; the document is
    /// `size` bytes long (the `ContentSize` the listing showed), and an answer that says
    /// otherwise (another version, a cut) is refused before any byte is kept. One API call.
    pub async fn version_stream(
        &self,
        version_id: &str,
        from: u64,
        size: u64,
    ) -> Result<VersionStream, SfError> {
        let (object, field) = blob_field(version_id);
        let what = format!("download of {object} {version_id}");
        // The Id goes into the path: only a well-formed Id may (no `/`, `?` or `..`).
        let id = crate::sfid::to_18(version_id)
            .ok_or_else(|| SfError::NotFound { what: what.clone() })?;
        let path = format!("{}/sobjects/{object}/{id}/{field}", self.data_path());
        let settings = &self.inner.settings;
        let mut attempts = Attempts::new(settings.request_timeout, settings.max_retries);
        let mut reauthenticated = false;
        if self.session().generation == 0 {
            self.reauthenticate(0).await?;
        }
        loop {
            if let Some(message) = self.limit_latched() {
                return Err(SfError::LimitExceeded { message });
            }
            let session = self.session();
            let remaining = attempts.remaining(&what)?;
            let mut request = self
                .inner
                .http
                .get(format!("{}{path}", session.instance_url))
                .bearer_auth(session.access_token.expose())
                .header(header::ACCEPT, "*/*");
            // A range from 0 is the whole file: asked plainly, so no server can refuse it.
            if from > 0 {
                request = request.header(header::RANGE, format!("bytes={from}-"));
            }
            tracing::debug!(what = %what, from, "Salesforce download");
            let sent = tokio::time::timeout(remaining, request.send()).await;
            let response = match sent {
                Err(_) => Err(attempts.timed_out(&what)),
                Ok(Err(error)) => Err(transport_error(error, &what, settings.request_timeout)),
                Ok(Ok(response)) => Ok(response),
            };
            let error = match response {
                Ok(response) => {
                    self.count_call(&response);
                    let status = response.status();
                    if status == StatusCode::UNAUTHORIZED && !reauthenticated {
                        reauthenticated = true;
                        let left = attempts.remaining(&what)?;
                        tokio::time::timeout(left, self.reauthenticate(session.generation))
                            .await
                            .map_err(|_| attempts.timed_out(&what))??;
                        continue;
                    }
                    if status.is_success() {
                        let start = answered_start(&response, from, size).map_err(|detail| {
                            SfError::Malformed {
                                what: what.clone(),
                                detail,
                            }
                        })?;
                        return Ok(VersionStream {
                            response,
                            start,
                            position: start,
                            size,
                            idle: settings.request_timeout,
                            what,
                        });
                    }
                    // An error body is small JSON; it gets what is left of the deadline.
                    let left = attempts.remaining(&what)?;
                    let body = tokio::time::timeout(left, response.bytes())
                        .await
                        .ok()
                        .and_then(Result::ok)
                        .unwrap_or_default();
                    let error = api_error(status, &body, &what);
                    if let SfError::LimitExceeded { message } = &error {
                        self.latch_limit(message);
                    }
                    error
                }
                Err(error) => error,
            };
            let Some(wait) = attempts.retry_wait(error.is_transient()) else {
                return Err(error);
            };
            tracing::debug!(what = %what, error = %error, retry = attempts.retries(), "transient failure; retrying");
            tokio::time::sleep(wait).await;
        }
    }

    /// The whole of ContentVersion `version_id`, exactly `expected_len` bytes (see
    /// [`Self::version_stream`]); for small files and tools: the mount streams instead.
    pub async fn version_data(
        &self,
        version_id: &str,
        expected_len: u64,
    ) -> Result<Vec<u8>, SfError> {
        let mut stream = self.version_stream(version_id, 0, expected_len).await?;
        let mut bytes = Vec::new();
        while let Some(piece) = stream.next_piece().await? {
            bytes.extend_from_slice(&piece);
        }
        Ok(bytes)
    }

    /// Counts one answered request, and keeps the usage figure it carries.
    fn count_call(&self, response: &reqwest::Response) {
        self.inner
            .api_calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let usage = response
            .headers()
            .get("Sforce-Limit-Info")
            .and_then(|v| v.to_str().ok())
            .and_then(super::limits::parse_limit_info);
        if let Some(usage) = usage {
            *crate::sync::lock(&self.inner.usage) = Some(usage);
        }
    }
}

/// Key prefix of Attachment Ids, fixed by Salesforce for every org (as `068` is for
/// ContentVersion).
const ATTACHMENT_KEY_PREFIX: &str = "00P";

/// The object and blob field holding the bytes of record `id`: an Attachment's `Body`, or
/// else a ContentVersion's `VersionData`. Decided by the Id's key prefix, so an attached
/// file is known by one Id everywhere (index, store chunks, sources) whichever kind it is.
fn blob_field(id: &str) -> (&'static str, &'static str) {
    if id.starts_with(ATTACHMENT_KEY_PREFIX) {
        ("Attachment", "Body")
    } else {
        ("ContentVersion", "VersionData")
    }
}

/// Where the bytes of a 2xx answer start, checked against what was asked: a 206 must cover
/// `from` to the end of a document of `size` bytes; a 200 is the whole file, which must be
/// `size` long when the answer says its length.
fn answered_start(response: &reqwest::Response, from: u64, size: u64) -> Result<u64, String> {
    let headers = response.headers();
    if response.status() == StatusCode::PARTIAL_CONTENT {
        let range = headers
            .get(header::CONTENT_RANGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        return match parse_content_range(range) {
            Some((start, end, total)) if start == from && end + 1 == size && total == size => {
                Ok(start)
            }
            _ => Err(format!(
                "asked for bytes {from}- of {size}, the org sent the range {range:?}"
            )),
        };
    }
    match response.content_length() {
        Some(length) if length != size => Err(format!(
            "{length} bytes announced where the document's size is {size}"
        )),
        _ => Ok(0),
    }
}

/// `bytes START-END/TOTAL` (END inclusive).
fn parse_content_range(value: &str) -> Option<(u64, u64, u64)> {
    let (range, total) = value.trim().strip_prefix("bytes ")?.split_once('/')?;
    let (start, end) = range.split_once('-')?;
    Some((start.parse().ok()?, end.parse().ok()?, total.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachments_download_their_body_and_versions_their_data() {
        assert_eq!(blob_field("00P5g00000ABCDeEAH"), ("Attachment", "Body"));
        assert_eq!(
            blob_field("0685g00000ABCDeEAH"),
            ("ContentVersion", "VersionData")
        );
    }

    #[test]
    fn content_ranges_are_read_with_an_inclusive_end() {
        assert_eq!(parse_content_range("bytes 0-9/10"), Some((0, 9, 10)));
        assert_eq!(
            parse_content_range("bytes 1048576-2097151/5000000"),
            Some((1_048_576, 2_097_151, 5_000_000))
        );
        assert_eq!(parse_content_range("bytes */10"), None);
        assert_eq!(parse_content_range("items 0-9/10"), None);
    }
}
