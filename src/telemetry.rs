//! Logging and tracing: `tracing` to stdout, JSON in production, filtered by
//! `RUST_LOG` (default `info`); and, when `OTEL_EXPORTER_OTLP_ENDPOINT` is
//! set, the same spans exported as OpenTelemetry traces over OTLP/HTTP
//! (JSON), sampled by `OTEL_TRACES_SAMPLER_ARG` (parent-based: a request
//! whose `traceparent` is sampled is always traced).
//!
//! W3C trace context crosses process boundaries here: [`set_parent_from`]
//! continues the trace of an incoming `traceparent`/`tracestate` (HTTP
//! headers or AMQP message headers), [`inject_current`] passes the current
//! one on (to the auth-service). With tracing off none of this runs: one
//! relaxed atomic load per call ([`enabled`]).

use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, registry::LookupSpan};

use crate::config::PlatformConfig;

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Whether spans are exported (set once [`otel_layer`] built a layer).
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Where and how traces are exported.
#[derive(Debug, Clone)]
pub struct OtelSettings {
    /// The collector's OTLP/HTTP base URL (`/v1/traces` is appended).
    pub endpoint: String,
    /// The share of new traces sampled, 0.0 to 1.0.
    pub sample_ratio: f64,
    pub service_name: String,
}

impl OtelSettings {
    /// The settings of the configuration; `None` while no endpoint is set.
    pub fn from_config(config: &PlatformConfig) -> Option<Self> {
        let endpoint = config.otel_exporter_otlp_endpoint.as_deref()?;
        Some(Self {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            sample_ratio: config.otel_traces_sampler_arg.clamp(0.0, 1.0),
            service_name: config.otel_service_name.clone(),
        })
    }
}

/// The tracing layer that exports spans, and its provider (flush it with
/// `force_flush`, stop it with `shutdown`, on a thread that may block).
pub fn otel_layer<S>(
    settings: &OtelSettings,
) -> Result<(impl Layer<S> + use<S>, SdkTracerProvider), opentelemetry_otlp::ExporterBuildError>
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span>,
{
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpJson)
        .with_endpoint(format!("{}/v1/traces", settings.endpoint))
        .build()?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
            settings.sample_ratio,
        ))))
        .with_resource(
            Resource::builder()
                .with_service_name(settings.service_name.clone())
                .build(),
        )
        .build();
    let tracer = provider.tracer("user-service");
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    ENABLED.store(true, Ordering::Relaxed);
    Ok((tracing_opentelemetry::layer().with_tracer(tracer), provider))
}

/// Installs the global subscriber; call once at start-up. With `otel`, the
/// spans are exported too: keep the provider and `shutdown` it on exit.
pub fn init_with(
    json: bool,
    otel: Option<&OtelSettings>,
) -> Result<Option<SdkTracerProvider>, opentelemetry_otlp::ExporterBuildError> {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=info"));
    let (otel_layer, provider) = match otel {
        Some(settings) => {
            let (layer, provider) = otel_layer(settings)?;
            (Some(layer), Some(provider))
        }
        None => (None, None),
    };
    let registry = tracing_subscriber::registry().with(otel_layer).with(filter);
    let result = if json {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true),
            )
            .try_init()
    } else {
        registry.with(tracing_subscriber::fmt::layer()).try_init()
    };
    // A second init (tests) keeps the first subscriber.
    drop(result);
    Ok(provider)
}

/// Installs the global subscriber without tracing export.
pub fn init(json: bool) {
    // Without OTLP settings nothing can fail.
    let _ = init_with(json, None);
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

struct HeaderInjector<'a>(&'a mut http::HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// Makes `span` continue the trace named by `traceparent`/`tracestate` in
/// `headers` (no-op with tracing off, or without a valid `traceparent`).
pub fn set_parent_from(span: &tracing::Span, headers: &http::HeaderMap) {
    if !enabled() || !headers.contains_key("traceparent") {
        return;
    }
    let parent = TraceContextPropagator::new().extract(&HeaderExtractor(headers));
    let _ = span.set_parent(parent);
}

/// The W3C trace context of the current span, to send on (empty with
/// tracing off).
pub fn current_context_headers() -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    if enabled() {
        let context = tracing::Span::current().context();
        TraceContextPropagator::new().inject_context(&context, &mut HeaderInjector(&mut headers));
    }
    headers
}

/// Makes `span` continue the trace a message's AMQP headers carry (string
/// values `traceparent`/`tracestate`, as publishers with OpenTelemetry set
/// them).
pub fn set_parent_from_amqp(span: &tracing::Span, table: Option<&lapin::types::FieldTable>) {
    if !enabled() {
        return;
    }
    let Some(table) = table else {
        return;
    };
    let mut headers = http::HeaderMap::new();
    for (key, value) in table.inner() {
        let text = match value {
            lapin::types::AMQPValue::LongString(text) => {
                String::from_utf8_lossy(text.as_bytes()).into_owned()
            }
            lapin::types::AMQPValue::ShortString(text) => text.as_str().to_owned(),
            _ => continue,
        };
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(key.as_str().as_bytes()),
            http::HeaderValue::from_str(&text),
        ) {
            headers.insert(name, value);
        }
    }
    set_parent_from(span, &headers);
}

/// The current trace context as AMQP headers, for messages this service
/// publishes (dead letters carry the trace of the delivery they came from).
pub fn inject_amqp(table: &mut lapin::types::FieldTable) {
    for (name, value) in &current_context_headers() {
        if let Ok(value) = value.to_str() {
            table.insert(
                name.as_str().to_owned().into(),
                lapin::types::AMQPValue::LongString(value.to_owned().into()),
            );
        }
    }
}
