//! What operators see of the traffic: Prometheus metrics (`prometheus-client`) and one
//! access-log line per request ([`super::access_log`]). [`observe`] wraps every other layer, so it also sees the warm
//! path's answers; handlers and layers mark a response with [`FromCache`] (answered from
//! memory) or [`Shed`] (503, all workers and the queue full). Scrape-time values (caches,
//! workers, records) come from [`Gauges`], which reads the state when `/metrics` is asked.

use super::access_log::{AccessLog, Entry};
use super::AppState;
use crate::stats::Stats;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::encoding::{MetricEncoder, NoLabelSet};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::Registry;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Marks a response answered from memory (the warm path or the response cache).
#[derive(Debug, Clone, Copy)]
pub struct FromCache;

/// Marks a 503 given because every worker was busy and the queue full.
#[derive(Debug, Clone, Copy)]
pub struct Shed;

/// The route families requests are counted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteFamily {
    /// Image API images (and the base URI's redirect).
    Image,
    /// Image API info.json.
    Info,
    /// Presentation API manifests and their parts.
    Manifest,
    /// Presentation API collections.
    Collection,
    /// The collection browser's pages and their static files.
    Page,
    /// Everything else (health, metrics, image records, unknown paths).
    Other,
}

const FAMILIES: [RouteFamily; 6] = [
    RouteFamily::Image,
    RouteFamily::Info,
    RouteFamily::Manifest,
    RouteFamily::Collection,
    RouteFamily::Page,
    RouteFamily::Other,
];

impl RouteFamily {
    /// The label value.
    pub fn name(self) -> &'static str {
        match self {
            RouteFamily::Image => "image",
            RouteFamily::Info => "info",
            RouteFamily::Manifest => "manifest",
            RouteFamily::Collection => "collection",
            RouteFamily::Page => "page",
            RouteFamily::Other => "other",
        }
    }

    /// The family of a request path, with `prefix` the Image API's.
    pub fn of(path: &str, prefix: &str) -> RouteFamily {
        let rest = path.strip_prefix('/').unwrap_or(path);
        if let Some(image) = rest.strip_prefix(prefix).and_then(|r| r.strip_prefix('/')) {
            return if image.ends_with("/info.json") {
                RouteFamily::Info
            } else {
                RouteFamily::Image
            };
        }
        let first = rest.split('/').next().unwrap_or("");
        match first {
            "manifests" => RouteFamily::Manifest,
            "collections" => RouteFamily::Collection,
            "" | "objects" | "static" => RouteFamily::Page,
            _ => RouteFamily::Other,
        }
    }
}

const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// The request metrics, their registry, and whether each kind of output is on.
pub struct Observe {
    registry: Registry,
    requests: Vec<[Counter; 5]>,
    latency: Vec<Latency>,
    bytes: Vec<Counter>,
    shed: Counter,
    /// Whether `/metrics` is served and requests are counted.
    pub metrics: bool,
    /// Where each request is logged, if it is.
    pub access_log: Option<AccessLog>,
}

type Labels = Vec<(&'static str, &'static str)>;

impl Observe {
    /// The metrics, with `gauges` read at each scrape.
    pub fn new(metrics: bool, access_log: Option<AccessLog>, gauges: Gauges) -> Observe {
        let mut registry = Registry::with_prefix("tessera");
        let requests = Family::<Labels, Counter>::default();
        let latency = Family::<Labels, Latency>::default();
        let bytes = Family::<Labels, Counter>::default();
        let shed = Counter::default();
        registry.register(
            "requests",
            "HTTP requests answered, by route family and status class",
            requests.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Time from a request's arrival to its response's headers, by route family",
            latency.clone(),
        );
        registry.register(
            "response_body_bytes",
            "Bytes of response bodies sent, by route family",
            bytes.clone(),
        );
        registry.register(
            "requests_shed",
            "Requests answered 503 because every worker was busy and the queue full",
            shed.clone(),
        );
        registry.register_collector(Box::new(gauges));
        let family = |f: RouteFamily| vec![("family", f.name())];
        Observe {
            requests: FAMILIES
                .iter()
                .map(|&f| {
                    CLASSES.map(|c| {
                        let mut l = family(f);
                        l.push(("class", c));
                        requests.get_or_create(&l).clone()
                    })
                })
                .collect(),
            latency: FAMILIES
                .iter()
                .map(|&f| latency.get_or_create(&family(f)).clone())
                .collect(),
            bytes: FAMILIES
                .iter()
                .map(|&f| bytes.get_or_create(&family(f)).clone())
                .collect(),
            shed,
            registry,
            metrics,
            access_log,
        }
    }

    /// Counts one answered request.
    fn count(
        &self,
        family: RouteFamily,
        status: StatusCode,
        seconds: f64,
        body: Option<u64>,
        shed: bool,
    ) {
        let f = FAMILIES.iter().position(|&x| x == family).unwrap_or(5);
        let class = (usize::from(status.as_u16() / 100)).clamp(1, 5) - 1;
        self.requests[f][class].inc();
        self.latency[f].observe(seconds);
        if let Some(b) = body {
            self.bytes[f].inc_by(b);
        }
        if shed {
            self.shed.inc();
        }
    }

    /// The metrics in the OpenMetrics text format.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }

    /// The metrics in Prometheus' text format 0.0.4, which `promtool check metrics` and
    /// older scrapers read.
    pub fn encode_prometheus(&self) -> Result<String, std::fmt::Error> {
        Ok(prometheus_text(&self.encode()?))
    }
}

/// The upper bounds of the latency histogram's buckets, in seconds (0.1 ms × 2.5ⁿ).
const BOUNDS: [f64; 12] = [
    0.000_1,
    0.000_25,
    0.000_625,
    0.001_562_5,
    0.003_906_25,
    0.009_765_625,
    0.024_414_062_5,
    0.061_035_156_25,
    0.152_587_890_625,
    0.381_469_726_562_5,
    0.953_674_316_406_25,
    2.384_185_791_015_625,
];

/// A latency histogram that observes with atomic additions only (prometheus-client's own
/// takes a lock per observation, which every request would contend for).
#[derive(Debug, Clone, Default)]
pub struct Latency(Arc<LatencyCounts>);

#[derive(Debug, Default)]
struct LatencyCounts {
    /// Observations per bucket (not cumulative), the last one above every bound.
    buckets: [AtomicU64; BOUNDS.len() + 1],
    /// The sum of observations, in nanoseconds.
    sum_ns: AtomicU64,
}

impl Latency {
    /// Counts one observation of `seconds`.
    pub fn observe(&self, seconds: f64) {
        let i = BOUNDS.partition_point(|&b| b < seconds);
        self.0.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.0
            .sum_ns
            .fetch_add((seconds * 1e9) as u64, Ordering::Relaxed);
    }

    /// (sum in seconds, count, per-bucket counts with their upper bounds).
    fn read(&self) -> (f64, u64, Vec<(f64, u64)>) {
        let counts: Vec<u64> = self
            .0
            .buckets
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect();
        let buckets = BOUNDS
            .iter()
            .copied()
            .chain([f64::INFINITY])
            .zip(counts.iter().copied())
            .collect();
        let sum = self.0.sum_ns.load(Ordering::Relaxed) as f64 / 1e9;
        (sum, counts.iter().sum(), buckets)
    }
}

impl TypedMetric for Latency {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for Latency {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        let (sum, count, buckets) = self.read();
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

/// Values read when the metrics are scraped.
pub struct Gauges {
    /// The service's caches, with their counters.
    pub caches: crate::cache::Caches,
    /// The warm path's cache.
    pub warm: super::warm::Warm,
    /// Worker slots (`workers` permits) and job slots (workers + queue).
    pub workers: Arc<tokio::sync::Semaphore>,
    /// All job slots: running or waiting.
    pub queue: Arc<tokio::sync::Semaphore>,
    /// The configured number of workers and queue depth.
    pub sizes: (usize, usize),
    /// Records loaded, by shape name.
    pub records: Vec<(&'static str, u64)>,
    /// The image store (its requests, when it is a network store).
    pub storage: crate::storage::Storage,
}

impl std::fmt::Debug for Gauges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gauges").finish_non_exhaustive()
    }
}

/// One metric family of constant values, one per value of the label `by`.
fn labelled<M: EncodeMetric>(
    e: &mut DescriptorEncoder,
    (name, help): (&str, &str),
    by: &str,
    values: Vec<(&str, M)>,
) -> Result<(), std::fmt::Error> {
    let Some(kind) = values.first().map(|(_, m)| m.metric_type()) else {
        return Ok(());
    };
    let mut m = e.encode_descriptor(name, help, None, kind)?;
    for (label, v) in values {
        v.encode(m.encode_family(&[(by, label)])?)?;
    }
    Ok(())
}

/// One metric of a constant value, without labels.
fn plain<M: EncodeMetric>(
    e: &mut DescriptorEncoder,
    (name, help): (&str, &str),
    metric: M,
) -> Result<(), std::fmt::Error> {
    let m = e.encode_descriptor(name, help, None, metric.metric_type())?;
    metric.encode(m)
}

impl Collector for Gauges {
    fn encode(&self, mut e: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let s = &self.caches.stats;
        let c = &self.caches;
        // Entry counts and sizes are settled lazily; settle them for this reading.
        c.encoded.run_pending_tasks();
        c.decoded.run_pending_tasks();
        c.info.run_pending_tasks();
        c.resolved.run_pending_tasks();
        self.warm.settle();
        let counts = [
            ("warm", self.warm.counts.get()),
            ("encoded", s.encoded.get()),
            ("decoded", s.decoded.get()),
            ("info", s.info.get()),
            ("resolved", s.resolved.get()),
        ];
        let counters = |pick: fn(&(u64, u64)) -> u64| -> Vec<(&str, ConstCounter)> {
            counts
                .iter()
                .map(|(name, c)| (*name, ConstCounter::new(pick(c))))
                .collect()
        };
        let hits = ("cache_hits", "Lookups answered from each cache");
        labelled(&mut e, hits, "cache", counters(|c| c.0))?;
        let misses = (
            "cache_misses",
            "Lookups each cache could not answer (the value was made)",
        );
        labelled(&mut e, misses, "cache", counters(|c| c.1))?;
        let g = |v: u64| ConstGauge::new(i64::try_from(v).unwrap_or(i64::MAX));
        let (warm_entries, warm_bytes) = self.warm.size();
        let entries = vec![
            ("warm", g(warm_entries)),
            ("encoded", g(c.encoded.entry_count())),
            ("decoded", g(c.decoded.entry_count())),
            ("info", g(c.info.entry_count())),
            ("resolved", g(c.resolved.entry_count())),
        ];
        labelled(
            &mut e,
            ("cache_entries", "Entries held by each cache"),
            "cache",
            entries,
        )?;
        let bytes = vec![
            ("warm", g(warm_bytes)),
            ("encoded", g(c.encoded.weighted_size() * 1024)),
            ("decoded", g(c.decoded.weighted_size() * 1024)),
        ];
        let about = (
            "cache_bytes",
            "Bytes held by each cache bounded by size (KiB-rounded weights)",
        );
        labelled(&mut e, about, "cache", bytes)?;
        let (workers, depth) = self.sizes;
        let busy = workers.saturating_sub(self.workers.available_permits());
        let taken = (workers + depth).saturating_sub(self.queue.available_permits());
        let about = ("workers_busy", "Image workers running a job");
        plain(&mut e, about, g(busy as u64))?;
        let about = ("jobs_queued", "Image jobs waiting for a worker");
        plain(&mut e, about, g(taken.saturating_sub(busy) as u64))?;
        let about = ("decode_failures", "Sources that could not be decoded");
        plain(
            &mut e,
            about,
            ConstCounter::new(Stats::read(&s.decode_failures)),
        )?;
        let about = ("derivative_builds", "Derivative pyramids built");
        plain(
            &mut e,
            about,
            ConstCounter::new(Stats::read(&s.derivative_builds)),
        )?;
        let about = (
            "derivative_reads",
            "Images made from a derivative pyramid rather than from their source",
        );
        plain(
            &mut e,
            about,
            ConstCounter::new(Stats::read(&s.derivative_reads)),
        )?;
        if let Some(n) = self.storage.requests() {
            let about = ("storage_requests", "Requests sent to the image store (S3)");
            plain(&mut e, about, ConstCounter::new(n))?;
        }
        if let Some(n) = self.storage.bytes_read() {
            let about = (
                "storage_read_bytes",
                "Bytes of images read from the image store (S3)",
            );
            plain(&mut e, about, ConstCounter::new(n))?;
        }
        let records = self.records.iter().map(|(k, v)| (*k, g(*v))).collect();
        let about = ("records_loaded", "Object records loaded, by record shape");
        labelled(&mut e, about, "shape", records)?;
        Ok(())
    }
}

/// Counts and logs each request (the outermost layer).
pub async fn observe(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let o = &st.observe;
    if !o.metrics && o.access_log.is_none() {
        return next.run(req).await;
    }
    let started = Instant::now();
    let method = req.method().clone();
    let family = RouteFamily::of(req.uri().path(), &st.config.prefix);
    let uri = o.access_log.as_ref().map(|_| req.uri().clone());
    let resp = next.run(req).await;
    let elapsed = started.elapsed();
    let seconds = elapsed.as_secs_f64();
    let body = axum::body::HttpBody::size_hint(resp.body()).exact();
    // Whether memory answered: only image requests can be; `-` for the others.
    let cache = if resp.extensions().get::<FromCache>().is_some() {
        "hit"
    } else if matches!(family, RouteFamily::Image) {
        "miss"
    } else {
        "-"
    };
    if o.metrics {
        let shed = resp.extensions().get::<Shed>().is_some();
        o.count(family, resp.status(), seconds, body, shed);
    }
    if let (Some(log), Some(uri)) = (&o.access_log, uri) {
        log.write(&Entry {
            method: &method,
            // The path only: a query may hold an API key.
            path: uri.path(),
            status: resp.status(),
            bytes: body,
            micros: u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            cache,
        });
    }
    resp
}

impl Observe {
    /// Requests counted for a family and status class (`"2xx"`…).
    pub fn requests_of(&self, family: RouteFamily, class: &str) -> u64 {
        let f = FAMILIES.iter().position(|&x| x == family).unwrap_or(5);
        CLASSES
            .iter()
            .position(|&c| c == class)
            .map_or(0, |c| self.requests[f][c].get())
    }
}

/// OpenMetrics text as Prometheus' text format 0.0.4: a counter family `x` (whose samples
/// are `x_total`) is described as `x_total`, and the `# EOF` line goes. Nothing else differs
/// for the metrics written here (no units, no exemplars, no `_created`).
fn prometheus_text(open_metrics: &str) -> String {
    let lines: Vec<&str> = open_metrics.lines().collect();
    let counters: std::collections::HashSet<&str> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(open_metrics.len() + 256);
    for line in lines {
        if line == "# EOF" {
            continue;
        }
        let described = ["# HELP ", "# TYPE "].into_iter().find_map(|p| {
            let rest = line.strip_prefix(p)?;
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(name)
                .then(|| format!("{p}{name}_total {tail}"))
        });
        match described {
            Some(l) => out.push_str(&l),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_metrics_counters_become_prometheus_counters() {
        let om = "# HELP a Things.\n# TYPE a counter\na_total{x=\"1\"} 2\n# HELP g Level.\n# TYPE g gauge\ng 3\n# EOF\n";
        assert_eq!(
            prometheus_text(om),
            "# HELP a_total Things.\n# TYPE a_total counter\na_total{x=\"1\"} 2\n# HELP g Level.\n# TYPE g gauge\ng 3\n"
        );
    }

    #[test]
    fn paths_fall_in_their_families() {
        for (path, want) in [
            ("/iiif/a/full/max/0/default.jpg", RouteFamily::Image),
            ("/iiif/3/a/info.json", RouteFamily::Info),
            ("/iiif/a", RouteFamily::Image),
            ("/iiifx/a", RouteFamily::Other),
            ("/manifests/object/1", RouteFamily::Manifest),
            ("/collections/3/top", RouteFamily::Collection),
            ("/", RouteFamily::Page),
            ("/objects/12", RouteFamily::Page),
            ("/static/tessera.css", RouteFamily::Page),
            ("/metrics", RouteFamily::Other),
            ("/images/1", RouteFamily::Other),
        ] {
            assert_eq!(RouteFamily::of(path, "iiif"), want, "{path}");
        }
    }
}
