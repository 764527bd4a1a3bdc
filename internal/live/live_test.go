package live_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/live"
	"github.com/gradpath/gradpath/internal/storetest"
)

func next(t *testing.T, ch <-chan live.Event) (live.Event, bool) {
	t.Helper()
	select {
	case ev := <-ch:
		return ev, true
	case <-time.After(3 * time.Second):
		return live.Event{}, false
	}
}

// In one process: subscribers hear the types they asked for, a repeated event once.
func TestHub(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := live.NewHub()
	leads := h.Subscribe(ctx, "lead.created")
	apps := h.Subscribe(ctx, "application.status_changed")
	for range 2 { // at least once: the worker may run an event twice
		if err := h.Publish(ctx, live.Event{ID: "ev1", Type: "lead.created", Data: []byte(`{"lead_id":"l1"}`)}); err != nil {
			t.Fatal(err)
		}
	}
	if ev, ok := next(t, leads); !ok || ev.ID != "ev1" {
		t.Fatalf("lead subscriber: %+v %v", ev, ok)
	}
	select {
	case ev := <-leads:
		t.Errorf("a repeated event came twice: %+v", ev)
	case ev := <-apps:
		t.Errorf("an application subscriber heard a lead event: %+v", ev)
	case <-time.After(200 * time.Millisecond):
	}
}

// Replicas on one PostgreSQL database hear each other, and only those in the same schema.
func TestHubAcrossReplicas(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url, other := storetest.PostgresURL(t), storetest.PostgresURL(t)
	storetest.OpenPostgres(t) // the test server is there (fails in CI when it is not)
	logger := slog.New(slog.DiscardHandler)
	a, b, c := live.NewHub(), live.NewHub(), live.NewHub()
	for h, u := range map[*live.Hub]string{a: url, b: url, c: other} {
		if err := h.UsePostgres(ctx, u, logger); err != nil {
			t.Fatal(err)
		}
	}
	onB, onC, onA := b.Subscribe(ctx, "lead.created"), c.Subscribe(ctx, "lead.created"), a.Subscribe(ctx, "lead.created")
	if err := a.Publish(ctx, live.Event{ID: "ev2", Type: "lead.created", Data: []byte(`{"lead_id":"l2"}`)}); err != nil {
		t.Fatal(err)
	}
	if ev, ok := next(t, onB); !ok || string(ev.Data) != `{"lead_id":"l2"}` {
		t.Fatalf("the other replica: %+v %v", ev, ok)
	}
	if _, ok := next(t, onA); !ok {
		t.Fatal("the publishing replica's own subscriber heard nothing")
	}
	select {
	case ev := <-onC:
		t.Errorf("a deployment in another schema heard the event: %+v", ev)
	case <-time.After(300 * time.Millisecond):
	}
}
