package leads

import (
	"context"
	"time"

	"github.com/gradpath/gradpath/internal/calendar"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/observability"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Requests that arrive while a batch is being written wait together and go in the next one:
// one transaction, a few statements, one commit for all of them. Under light load a batch is
// one request. A batch that cannot commit (say, another replica stored one of its idempotency
// keys first) is retried request by request, so batching never changes an answer.

// maxBatch bounds the requests of one batch.
const maxBatch = 128

type pending struct {
	ctx  context.Context
	a    *gradpath.Actor
	in   Input
	key  string
	hash string
	now  time.Time
	cal  calendar.Calendar
	res  Result
	err  error
	done chan struct{}
}

func (s *Service) submit(ctx context.Context, p *pending) (Result, error) {
	s.batchOnce.Do(func() {
		s.queue = make(chan *pending)
		for range max(s.cfg.BatchWorkers, 1) {
			go s.batchLoop()
		}
	})
	p.done = make(chan struct{})
	select {
	case s.queue <- p:
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	// Once taken, the request's fate is its batch's: wait for it even if the client left.
	<-p.done
	return p.res, p.err
}

func (s *Service) batchLoop() {
	batch := make([]*pending, 0, maxBatch)
	for {
		batch = append(batch[:0], <-s.queue)
	gather:
		for len(batch) < maxBatch {
			select {
			case p := <-s.queue:
				batch = append(batch, p)
			default:
				break gather
			}
		}
		s.runBatch(batch)
	}
}

func (s *Service) runBatch(batch []*pending) {
	var probe Probe
	for i, p := range batch {
		if p.key != "" {
			probe.Keys = append(probe.Keys, p.key)
		}
		if p.in.nonce != "" {
			probe.Nonces = append(probe.Nonces, p.in.nonce)
		}
		if p.in.Phone != "" {
			probe.Phones = append(probe.Phones, p.in.Phone)
		}
		if p.in.Email != "" {
			probe.Emails = append(probe.Emails, p.in.Email)
		}
		if since := p.now.Add(-s.cfg.MergeWindow); i == 0 || since.Before(probe.Since) {
			probe.Since = since
		}
	}
	// The batch's transaction is a span of the first request's trace, linked from the others.
	ctx := trace.ContextWithSpanContext(context.Background(), trace.SpanContextFromContext(batch[0].ctx))
	var links []trace.Link
	for _, p := range batch[1:] {
		links = append(links, trace.LinkFromContext(p.ctx))
	}
	ctx, span := observability.Tracer().Start(ctx, "leads.batch", trace.WithLinks(links...), trace.WithAttributes(attribute.Int("gradpath.batch.requests", len(batch))))
	defer span.End()
	err := s.store.Batch(ctx, probe, func(tx BatchTx) error {
		for _, p := range batch {
			if err := p.ctx.Err(); err != nil {
				p.err = err
				continue
			}
			p.res = Result{}
			p.err = tx.Request(func(tx Tx) error { return s.create(p.ctx, tx, p.a, p.in, p.key, p.hash, p.now, p.cal, &p.res) })
		}
		return nil
	})
	for _, p := range batch {
		if err != nil {
			p.res, p.err = s.createAlone(p)
		}
		close(p.done)
	}
}
