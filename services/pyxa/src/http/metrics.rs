//! Prometheus metrics, served at `/metrics`. Only the HTTP layer records them.

use std::sync::LazyLock;

use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry, TextEncoder};

pub static REGISTRY: LazyLock<Registry> = LazyLock::new(Registry::new);

fn register<C: prometheus::core::Collector + Clone + 'static>(c: C) -> C {
    // Registering twice only happens in tests that build several apps in one process.
    let _ = REGISTRY.register(Box::new(c.clone()));
    c
}

pub static HTTP_REQUESTS: LazyLock<HistogramVec> = LazyLock::new(|| {
    register(
        HistogramVec::new(
            HistogramOpts::new("pyxa_http_request_duration_seconds", "HTTP request latency by route and status")
                .buckets(vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0]),
            &["route", "status"],
        )
        .expect("valid histogram"),
    )
});

pub static ERRORS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register(
        IntCounterVec::new(Opts::new("pyxa_errors_total", "Errors returned, by stable code"), &["code"]).expect("valid counter"),
    )
});

pub static ASKS: LazyLock<IntCounter> =
    LazyLock::new(|| register(IntCounter::new("pyxa_answers_total", "Answers produced").expect("valid counter")));

pub static ITEMS_INGESTED: LazyLock<IntCounter> = LazyLock::new(|| {
    register(IntCounter::new("pyxa_items_ingested_total", "Items added to collections").expect("valid counter"))
});

pub fn record_error(code: &str) {
    ERRORS.with_label_values(&[code]).inc();
}

pub fn render() -> String {
    LazyLock::force(&HTTP_REQUESTS);
    LazyLock::force(&ERRORS);
    LazyLock::force(&ASKS);
    LazyLock::force(&ITEMS_INGESTED);
    let mut buf = Vec::new();
    let _ = TextEncoder::new().encode(&REGISTRY.gather(), &mut buf);
    String::from_utf8(buf).unwrap_or_default()
}
