package observability

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// tracing is set once StartTracing has installed an exporter.
var tracing atomic.Bool

// Tracing reports whether spans are exported: without it the edge starts no span at all, and
// a request's path costs nothing more.
func Tracing() bool { return tracing.Load() }

// Tracer is where gradpath's spans come from. Until StartTracing installs an exporter it is
// OpenTelemetry's no-op tracer, so a span costs next to nothing.
func Tracer() trace.Tracer { return otel.Tracer("github.com/gradpath/gradpath") }

// TracingConfig says where traces go.
type TracingConfig struct {
	// Endpoint is the OTLP/HTTP collector's base URL (http://127.0.0.1:4318); traces are sent
	// to its /v1/traces.
	Endpoint string
	// SampleRatio is the share of new traces kept (1 keeps all); a request that arrives with
	// a sampled traceparent is kept whatever it is.
	SampleRatio float64
	Service     string
	Version     string
	Instance    string
}

// StartTracing exports spans over OTLP/HTTP in batches and reads and writes W3C trace
// context. The returned function flushes what is pending and stops.
func StartTracing(ctx context.Context, cfg TracingConfig) (func(context.Context) error, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("otlp_endpoint %q: give the collector's base URL, such as http://127.0.0.1:4318", cfg.Endpoint)
	}
	opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(strings.TrimSuffix(cfg.Endpoint, "/") + "/v1/traces")}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("otlp exporter: %w", err)
	}
	res := resource.NewSchemaless(attribute.String("service.name", cfg.Service), attribute.String("service.version", cfg.Version),
		attribute.String("service.instance.id", cfg.Instance))
	ratio := cfg.SampleRatio
	if ratio <= 0 || ratio > 1 {
		ratio = 1
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	tracing.Store(true)
	return tp.Shutdown, nil
}

// Span starts a span named after the calling function (leads.(*Service).Create), for the
// services' and stores' work; end it with End(span, err).
func Span(ctx context.Context, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	return spanAt(ctx, 3, attrs)
}

// CallerSpan is Span named after the function that called the caller: for a store's
// transaction helper, the store method it runs for.
func CallerSpan(ctx context.Context, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	return spanAt(ctx, 4, attrs)
}

func spanAt(ctx context.Context, skip int, attrs []attribute.KeyValue) (context.Context, trace.Span) {
	if !trace.SpanFromContext(ctx).IsRecording() {
		return ctx, trace.SpanFromContext(ctx) // nothing is traced: no name to look up
	}
	return Tracer().Start(ctx, caller(skip), trace.WithAttributes(attrs...))
}

// End ends a span, marking it failed when err is not nil. The error's text is not recorded:
// a refusal may quote what a person typed, and traces keep no personal data; the request id
// of the span leads to the log line.
func End(span trace.Span, err error) {
	if err != nil {
		span.SetStatus(codes.Error, "")
		span.SetAttributes(attribute.String("error.type", fmt.Sprintf("%T", err)))
	}
	span.End()
}

// caller is the short name of the function skip frames up: package.(*Type).Method.
func caller(skip int) string {
	pc, _, _, ok := runtime.Caller(skip)
	if !ok {
		return "unknown"
	}
	name := runtime.FuncForPC(pc).Name()
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	return name
}

// traceHandler adds the trace and span ids of the record's context to every line logged
// with one, so that a log line leads to its trace.
type traceHandler struct{ slog.Handler }

func (h traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h traceHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return traceHandler{h.Handler.WithAttrs(as)}
}
func (h traceHandler) WithGroup(name string) slog.Handler {
	return traceHandler{h.Handler.WithGroup(name)}
}

// Traceparent is the W3C traceparent of ctx's span, or "" when it has none.
func Traceparent(ctx context.Context) string {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ""
	}
	c := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, c)
	return c["traceparent"]
}
