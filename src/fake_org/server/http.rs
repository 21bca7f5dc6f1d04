//! The axum glue: every request goes to one handler that turns it into an [`Incoming`],
//! runs the router on the blocking pool (queries are CPU work) and writes the [`Reply`].

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Router;

use super::dispatch::{self, Incoming};
use super::pretty;
use super::reply::{ApiError, Payload, Reply};
use super::state::Shared;

/// Largest request body read; real REST bodies (records, composite) are far smaller.
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// The Content-Type Salesforce sends on JSON; jsforce parses bodies only when it matches.
const JSON_CONTENT_TYPE: &str = "application/json;charset=UTF-8";

pub(crate) async fn serve(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    stop: tokio::sync::oneshot::Receiver<()>,
    grace: Duration,
) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(err) => {
            tracing::error!(%err, "fake org: cannot register the listener");
            return;
        }
    };
    let app = Router::new().fallback(handle).with_state(shared);
    let (graceful_tx, graceful_rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = graceful_rx.await;
    });
    // On stop: ask for a graceful shutdown, and give in-flight requests `grace` to finish
    // before the runtime is dropped (a keep-alive client must not hold the server open).
    let deadline = async move {
        let _ = stop.await;
        let _ = graceful_tx.send(());
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        result = server => {
            if let Err(err) = result {
                tracing::error!(%err, "fake org server stopped");
            }
        }
        () = deadline => {}
    }
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_string();
    if path.starts_with("/services") || path.starts_with("/id/") {
        let latency = shared.latency();
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
    }
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => bytes.to_vec(),
        Err(_) => {
            return into_response(
                ApiError::new(
                    413,
                    "REQUEST_TOO_LARGE",
                    format!("The request body is larger than {MAX_BODY_BYTES} bytes."),
                )
                .into_reply(),
                false,
            )
        }
    };
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let header_bytes = parts
        .headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    let incoming = Incoming {
        // HEAD is answered as GET; hyper sends the headers without the body.
        method: if parts.method == axum::http::Method::HEAD {
            "GET".to_string()
        } else {
            parts.method.as_str().to_ascii_uppercase()
        },
        path,
        query: parts.uri.query().map(str::to_string),
        authorization: header("authorization"),
        query_options: header("sforce-query-options"),
        if_modified_since: header("if-modified-since"),
        body,
        header_bytes,
    };
    let range = header("range");
    let pretty = header("x-prettyprint")
        .is_some_and(|v| v.trim() == "1" || v.trim().eq_ignore_ascii_case("true"));
    // For the access log: the path only (headers carry the token, query strings carry data).
    let (method, logged_path) = (incoming.method.clone(), incoming.path.clone());
    let started = std::time::Instant::now();
    let reply = tokio::task::spawn_blocking(move || dispatch::handle(&shared, &incoming)).await;
    match reply {
        Ok(reply) => {
            tracing::debug!(
                %method,
                path = %logged_path,
                status = reply.status,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "fake org request"
            );
            match reply.payload {
                Payload::Blob { blob, content_type } => {
                    let mut response = blob_response(blob, content_type, range.as_deref());
                    add_headers(response.headers_mut(), reply.headers);
                    response
                }
                _ => into_response(reply, pretty),
            }
        }
        Err(err) => {
            tracing::error!(%err, "fake org handler failed");
            into_response(
                ApiError::new(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred.")
                    .into_reply(),
                pretty,
            )
        }
    }
}

/// `pretty`: the request carried `X-PrettyPrint: 1`.
fn into_response(reply: Reply, pretty: bool) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (body, content_type) = match reply.payload {
        Payload::Json(value) => {
            let bytes = if pretty {
                pretty::to_vec_pretty(&value)
            } else {
                serde_json::to_vec(&value)
            };
            match bytes {
                Ok(bytes) => (Body::from(bytes), Some(JSON_CONTENT_TYPE.to_string())),
                Err(err) => {
                    tracing::error!(%err, "fake org could not serialise a reply");
                    (Body::empty(), None)
                }
            }
        }
        Payload::Bytes { data, content_type } => (Body::from(data), Some(content_type)),
        Payload::Blob { blob, content_type } => (Body::from(blob.to_vec()), Some(content_type)),
        Payload::Empty => (Body::empty(), None),
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Some(value) = content_type.and_then(|ct| HeaderValue::from_str(&ct).ok()) {
        headers.insert(axum::http::header::CONTENT_TYPE, value);
    }
    add_headers(headers, reply.headers);
    response
}

/// A reply's extra headers (`Sforce-Limit-Info`, `Location`...) onto its response.
fn add_headers(headers: &mut axum::http::HeaderMap, extra: Vec<(&'static str, String)>) {
    for (name, value) in extra {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            headers.insert(name, value);
        }
    }
}

/// Pieces a blob is sent in: small enough that a 500 MB file never sits in memory, large
/// enough that a download is not a million tiny writes.
const BLOB_PIECE: usize = 64 * 1024;

/// A file's bytes, streamed. A `Range: bytes=START-[END]` header is honoured as the
/// Salesforce blob endpoints do (206 with `Content-Range`; 416 past the end); anything else
/// gets the whole file with 200.
fn blob_response(
    blob: crate::fake_org::store::Blob,
    content_type: String,
    range: Option<&str>,
) -> Response {
    let len = blob.len();
    let (status, start, end) = match range.map(|r| parse_range(r, len)) {
        None | Some(RangeAsked::Ignored) => (StatusCode::OK, 0, len),
        Some(RangeAsked::Bytes(start, end)) => (StatusCode::PARTIAL_CONTENT, start, end),
        Some(RangeAsked::Unsatisfiable) => {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{len}")) {
                response
                    .headers_mut()
                    .insert(axum::http::header::CONTENT_RANGE, value);
            }
            return response;
        }
    };
    let stream = futures_util::stream::unfold(start, move |at| {
        let blob = blob.clone();
        async move {
            if at >= end {
                return None;
            }
            let mut piece = vec![0u8; BLOB_PIECE.min((end - at) as usize)];
            let n = blob.fill(at, &mut piece);
            piece.truncate(n);
            Some((
                Ok::<_, std::io::Error>(axum::body::Bytes::from(piece)),
                at + n as u64,
            ))
        }
    });
    let mut response = Response::new(Body::from_stream(stream));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&content_type) {
        headers.insert(axum::http::header::CONTENT_TYPE, value);
    }
    headers.insert(
        axum::http::header::CONTENT_LENGTH,
        HeaderValue::from(end - start),
    );
    headers.insert(
        axum::http::header::ACCEPT_RANGES,
        HeaderValue::from_static("bytes"),
    );
    if status == StatusCode::PARTIAL_CONTENT {
        if let Ok(value) =
            HeaderValue::from_str(&format!("bytes {start}-{}/{len}", end.saturating_sub(1)))
        {
            headers.insert(axum::http::header::CONTENT_RANGE, value);
        }
    }
    response
}

#[derive(Debug, PartialEq, Eq)]
enum RangeAsked {
    /// From START to END (exclusive).
    Bytes(u64, u64),
    Unsatisfiable,
    /// Not a single byte range this server reads (several ranges, suffix ranges): the
    /// whole file is sent, which HTTP allows.
    Ignored,
}

fn parse_range(header: &str, len: u64) -> RangeAsked {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return RangeAsked::Ignored;
    };
    let Some((first, last)) = spec.split_once('-') else {
        return RangeAsked::Ignored;
    };
    let Ok(start) = first.trim().parse::<u64>() else {
        return RangeAsked::Ignored;
    };
    let end = match last.trim() {
        "" => len,
        last => match last.parse::<u64>() {
            Ok(last) if last >= start => (last + 1).min(len),
            _ => return RangeAsked::Ignored,
        },
    };
    if start >= len {
        return RangeAsked::Unsatisfiable;
    }
    RangeAsked::Bytes(start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_ranges_are_read_as_http_says() {
        assert_eq!(parse_range("bytes=0-", 10), RangeAsked::Bytes(0, 10));
        assert_eq!(parse_range("bytes=4-6", 10), RangeAsked::Bytes(4, 7));
        assert_eq!(parse_range("bytes=4-60", 10), RangeAsked::Bytes(4, 10));
        assert_eq!(parse_range("bytes=10-", 10), RangeAsked::Unsatisfiable);
        assert_eq!(parse_range("bytes=-5", 10), RangeAsked::Ignored);
        assert_eq!(parse_range("bytes=1-2,4-5", 10), RangeAsked::Ignored);
        assert_eq!(parse_range("items=1-2", 10), RangeAsked::Ignored);
    }
}
