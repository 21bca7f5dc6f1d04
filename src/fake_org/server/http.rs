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
            into_response(reply, pretty)
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
        Payload::Empty => (Body::empty(), None),
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Some(value) = content_type.and_then(|ct| HeaderValue::from_str(&ct).ok()) {
        headers.insert(axum::http::header::CONTENT_TYPE, value);
    }
    for (name, value) in reply.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            headers.insert(name, value);
        }
    }
    response
}
