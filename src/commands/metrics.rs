//! `--metrics-listen` (or `--metrics-addr`): Prometheus metrics at `http://ADDR/metrics`, every name starting
//! `sfmount_`. The text is encoded by `prometheus-client` (the OpenMetrics text format,
//! which Prometheus reads); each scrape reads the figures the client and the index already
//! keep, so serving metrics costs no API call and adds no bookkeeping to the layers.
//!
//! The HTTP side is a small std `TcpListener` loop on one thread rather than axum: axum is
//! only built with the fake org, a mount-only build must still serve metrics, and one GET
//! route needs no router.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use prometheus_client::encoding::{EncodeLabelSet, EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};

use crate::fs::requests::LatencySnapshot;
use crate::fs::Filesystem;
use crate::index::Index;
use crate::salesforce::SalesforceClient;

/// A scraper that stops sending mid-request must not hold the one serving thread: it gets
/// this long to send its request line and headers.
const REQUEST_DEADLINE: Duration = Duration::from_secs(5);

/// What the metrics are read from.
#[derive(Clone)]
pub struct MetricsSources {
    pub client: SalesforceClient,
    pub index: Index,
    /// The filesystem, for its per-operation request counter.
    pub fs: Arc<Filesystem>,
}

/// Binds `addr` (so a taken port fails the start, before the mount is reported ready) and
/// serves on a background thread for the life of the process. Returns the bound address.
pub fn start(addr: SocketAddr, sources: MetricsSources) -> anyhow::Result<SocketAddr> {
    let listener =
        TcpListener::bind(addr).with_context(|| format!("cannot serve metrics on {addr}"))?;
    let bound = listener.local_addr()?;
    std::thread::Builder::new()
        .name("sfmount-metrics".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                if let Err(error) = answer(stream, &sources) {
                    tracing::debug!(%error, "metrics request failed");
                }
            }
        })
        .context("cannot start the metrics thread")?;
    tracing::info!(address = %bound, "metrics at http://{bound}/metrics");
    Ok(bound)
}

fn answer(stream: TcpStream, sources: &MetricsSources) -> std::io::Result<()> {
    stream.set_read_timeout(Some(REQUEST_DEADLINE))?;
    stream.set_write_timeout(Some(REQUEST_DEADLINE))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // The headers are read and dropped: nothing in them changes the answer.
    let mut header = String::new();
    while reader.read_line(&mut header)? > 2 {
        header.clear();
    }
    let mut words = request_line.split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let path = path.split('?').next().unwrap_or("");
    let (status, content_type, body) = match (method, path) {
        ("GET", "/metrics") => (
            "200 OK",
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            render(sources),
        ),
        ("GET", _) => ("404 Not Found", "text/plain", "try /metrics\n".to_string()),
        _ => (
            "405 Method Not Allowed",
            "text/plain",
            "GET only\n".to_string(),
        ),
    };
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabel {
    operation: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ObjectLabel {
    object: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SourceLabel {
    source: String,
}

/// Every operation's latency histogram, taken from the filesystem's fixed buckets (the
/// crate's own `Histogram` only grows by observation, so a snapshot is encoded directly).
#[derive(Debug)]
struct LatencyFamily(Vec<(OperationLabel, LatencySnapshot)>);

impl EncodeMetric for LatencyFamily {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        for (label, latency) in &self.0 {
            encoder
                .encode_family(label)?
                .encode_histogram::<NoLabelSet>(
                    latency.sum_seconds,
                    latency.count,
                    &latency.buckets,
                    None,
                )?;
        }
        Ok(())
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}

/// Adds a counter that stands at `value`.
fn counter(registry: &mut Registry, name: &str, help: &str, value: u64) {
    let metric: Counter<u64, AtomicU64> = Counter::default();
    metric.inc_by(value);
    registry.register(name, help, metric);
}

/// Adds a gauge that stands at `value`.
fn gauge(registry: &mut Registry, name: &str, help: &str, value: i64) {
    let metric: Gauge = Gauge::default();
    metric.set(value);
    registry.register(name, help, metric);
}

fn seconds_between(later: SystemTime, earlier: SystemTime) -> i64 {
    later
        .duration_since(earlier)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}

/// The metrics as they stand now, in the OpenMetrics text format.
pub fn render(sources: &MetricsSources) -> String {
    let mut registry = Registry::with_prefix("sfmount");
    let client = &sources.client;
    let requests: Family<KindLabel, Counter> = Family::default();
    requests
        .get_or_create(&KindLabel { kind: "api".into() })
        .inc_by(client.api_calls_made());
    requests
        .get_or_create(&KindLabel {
            kind: "token".into(),
        })
        .inc_by(client.token_requests_made());
    registry.register(
        "api_requests",
        "Requests this mount sent to Salesforce: api (counted against the daily limit, retries included) and token (logins)",
        requests,
    );
    if let Some(usage) = client.api_usage() {
        gauge(
            &mut registry,
            "api_daily_used",
            "API calls of the org's daily limit used, as the org last reported",
            usage.used as i64,
        );
        gauge(
            &mut registry,
            "api_daily_limit",
            "The org's daily API call limit, as the org last reported",
            usage.max as i64,
        );
        gauge(
            &mut registry,
            "api_daily_remaining",
            "API calls left today, as the org last reported",
            usage.max.saturating_sub(usage.used) as i64,
        );
    }

    let index = &sources.index;
    let overview = index.refresh_overview();
    let now = SystemTime::now();
    counter(
        &mut registry,
        "refresh_ticks",
        "Background refresh ticks run",
        overview.ticks,
    );
    gauge(
        &mut registry,
        "refresh_consecutive_failures",
        "Refresh ticks failed in a row (0 once one succeeds)",
        i64::from(overview.consecutive_failures),
    );
    // Before the first success, the lag counts from the mount: that is how old the data
    // served may be.
    let since = overview.last_success.unwrap_or_else(|| index.mounted_at());
    gauge(
        &mut registry,
        "refresh_lag_seconds",
        "Seconds since the last successful refresh tick (since the mount before the first)",
        seconds_between(now, since),
    );
    gauge(
        &mut registry,
        "offline",
        "1 while the mount serves the local store because the org was out of reach at start",
        i64::from(overview.offline.is_some()),
    );

    let records: Family<ObjectLabel, Gauge> = Family::default();
    let mut listed = 0;
    for folder in 0..index.folder_count() {
        let (Some(spec), Some(listing)) = (index.folder_spec(folder), index.peek_listing(folder))
        else {
            continue;
        };
        listed += 1;
        records
            .get_or_create(&ObjectLabel {
                object: spec.object.clone(),
            })
            .set(listing.record_count() as i64);
    }
    gauge(
        &mut registry,
        "folders",
        "Object folders mounted",
        index.folder_count() as i64,
    );
    gauge(
        &mut registry,
        "folders_listed",
        "Object folders whose listing has been read",
        listed,
    );
    registry.register("records", "Records in each listed folder", records);
    let (bytes, entries) = index.body_cache_usage();
    gauge(
        &mut registry,
        "body_cache_bytes",
        "Bytes of rendered bodies kept in memory",
        bytes as i64,
    );
    gauge(
        &mut registry,
        "body_cache_entries",
        "Rendered bodies kept in memory",
        entries as i64,
    );

    let operations: Family<OperationLabel, Counter> = Family::default();
    let requests = sources.fs.requests();
    for (name, count) in requests.counts() {
        operations
            .get_or_create(&OperationLabel {
                operation: name.to_string(),
            })
            .inc_by(count);
    }
    registry.register(
        "fuse_requests",
        "FUSE requests the mount answered, by operation",
        operations,
    );
    counter(
        &mut registry,
        "fuse_offloaded",
        "FUSE operations moved to their own thread because they waited on Salesforce",
        requests.offloaded(),
    );
    let latencies = requests
        .latencies()
        .map(|(name, latency)| {
            let label = OperationLabel {
                operation: name.to_string(),
            };
            (label, latency)
        })
        .collect();
    registry.register_with_unit(
        "fuse_request_duration",
        "Time from a FUSE request's arrival to its reply, by operation",
        Unit::Seconds,
        LatencyFamily(latencies),
    );
    let read_bytes: Counter = Counter::default();
    read_bytes.inc_by(requests.bytes_read());
    registry.register_with_unit(
        "read",
        "Bytes returned by FUSE reads (the kernel's page cache answers repeats unseen)",
        Unit::Bytes,
        read_bytes,
    );

    let stats = index.body_stats();
    let bodies: Family<SourceLabel, Counter> = Family::default();
    for (source, count) in [
        ("memory", stats.memory_hits),
        ("store", stats.store_hits),
        ("salesforce", stats.fetched),
    ] {
        bodies
            .get_or_create(&SourceLabel {
                source: source.into(),
            })
            .inc_by(count);
    }
    registry.register(
        "body_reads",
        "Record bodies the filesystem asked the index for, by where they came from: memory (a cache hit), the local store, or a fetch from Salesforce",
        bodies,
    );
    counter(
        &mut registry,
        "document_downloads",
        "Attached files' downloads started (one API call each)",
        stats.document_downloads,
    );
    counter(
        &mut registry,
        "document_download_failures",
        "Attached files' downloads that failed",
        stats.document_download_failures,
    );

    let mut text = String::new();
    if let Err(error) = prometheus_client::encoding::text::encode(&mut text, &registry) {
        tracing::warn!(%error, "cannot encode the metrics");
    }
    text
}
