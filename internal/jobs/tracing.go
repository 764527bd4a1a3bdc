package jobs

import (
	"context"
	"encoding/json"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/gradpath/gradpath/internal/observability"
)

// tracing carries a request's trace into the jobs it queues: the job keeps the request's
// traceparent in its metadata, and its run is a span of that trace, however much later and on
// whichever replica it runs.
type tracing struct {
	river.MiddlewareDefaults
}

var (
	_ rivertype.JobInsertMiddleware = (*tracing)(nil)
	_ rivertype.WorkerMiddleware    = (*tracing)(nil)
)

func (*tracing) InsertMany(ctx context.Context, many []*rivertype.JobInsertParams, doInner func(context.Context) ([]*rivertype.JobInsertResult, error)) ([]*rivertype.JobInsertResult, error) {
	if trace.SpanContextFromContext(ctx).IsValid() {
		carrier := propagation.MapCarrier{}
		otel.GetTextMapPropagator().Inject(ctx, carrier)
		for _, p := range many {
			meta := map[string]any{}
			if len(p.Metadata) > 0 {
				if err := json.Unmarshal(p.Metadata, &meta); err != nil {
					continue // not ours to rewrite
				}
			}
			if _, ok := meta["traceparent"]; ok {
				continue // the job knows whose it is (a lead of a batch)
			}
			meta["traceparent"] = carrier["traceparent"]
			if b, err := json.Marshal(meta); err == nil {
				p.Metadata = b
			}
		}
	}
	return doInner(ctx)
}

func (*tracing) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) (err error) {
	var meta struct {
		Traceparent string `json:"traceparent"`
	}
	if len(job.Metadata) > 0 && json.Unmarshal(job.Metadata, &meta) == nil && meta.Traceparent != "" {
		ctx = otel.GetTextMapPropagator().Extract(ctx, propagation.MapCarrier{"traceparent": meta.Traceparent})
	}
	ctx, span := observability.Tracer().Start(ctx, "job "+job.Kind, trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(attribute.String("gradpath.job.kind", job.Kind), attribute.Int64("gradpath.job.id", job.ID), attribute.Int("gradpath.job.attempt", job.Attempt)))
	defer func() { observability.End(span, err) }()
	return doInner(ctx)
}
