// Package live tells the people watching a screen that something on it changed: a lead arrived
// in a counsellor's queue, a student's application moved. It carries domain events (their
// type and the ids in their data, never a person's details) from the worker that handles them
// to every replica's subscribers — the GraphQL subscriptions and the queue page's event
// stream — which read the record again with the watcher's own access rules. On PostgreSQL the
// replicas hear each other through LISTEN/NOTIFY on the database they share; a single process
// delivers in memory. Delivery is best effort and at least once: a watcher that missed an event
// sees the change on its next read.
package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gradpath/gradpath/internal/outbox"
)

// LeadQueue are the events of a lead queue; ApplicationMoved is a student's application's.
var (
	LeadQueue        = []string{outbox.LeadCreated, outbox.LeadAssigned, outbox.LeadContacted, outbox.LeadOverdue}
	ApplicationMoved = outbox.ApplicationStatusChanged
)

// Event is a change: its id (the same for a repeated delivery), its type (lead.created …) and
// its data (ids and states).
type Event struct {
	ID   string          `json:"id"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// Hub fans events out to this process's subscribers, and through its transport to other
// replicas'.
type Hub struct {
	mu        sync.Mutex
	subs      map[*subscription]struct{}
	seen      map[string]time.Time // recent event ids, to deliver a repeat once
	transport func(context.Context, Event) error
}

type subscription struct {
	types map[string]bool
	ch    chan Event
}

// NewHub returns a hub that delivers in this process.
func NewHub() *Hub {
	return &Hub{subs: map[*subscription]struct{}{}, seen: map[string]time.Time{}}
}

// Publish sends ev to every subscriber of its type, on every replica.
func (h *Hub) Publish(ctx context.Context, ev Event) error {
	if h.transport != nil {
		return h.transport(ctx, ev)
	}
	h.deliver(ev)
	return nil
}

// Subscribe returns a channel of the events of those types until ctx ends. A subscriber that
// does not keep up loses events rather than holding back others.
func (h *Hub) Subscribe(ctx context.Context, types ...string) <-chan Event {
	s := &subscription{types: map[string]bool{}, ch: make(chan Event, 64)}
	for _, t := range types {
		s.types[t] = true
	}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	go func() {
		<-ctx.Done()
		h.mu.Lock()
		delete(h.subs, s)
		close(s.ch)
		h.mu.Unlock()
	}()
	return s.ch
}

func (h *Hub) deliver(ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	if ev.ID != "" {
		if _, dup := h.seen[ev.ID]; dup {
			return
		}
		if len(h.seen) > 10_000 {
			for id, at := range h.seen {
				if now.Sub(at) > time.Minute {
					delete(h.seen, id)
				}
			}
		}
		h.seen[ev.ID] = now
	}
	for s := range h.subs {
		if !s.types[ev.Type] {
			continue
		}
		select {
		case s.ch <- ev:
		default: // a slow subscriber misses this one
		}
	}
}

// UsePostgres makes the hub publish through NOTIFY on the database at url and deliver what
// every replica publishes, LISTENing on a channel of the connection's schema (so that
// deployments, and tests, that share a database in different schemas do not hear each other).
// It listens until ctx ends, reconnecting after an error.
func (h *Hub) UsePostgres(ctx context.Context, url string, logger *slog.Logger) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("live updates: %w", err)
	}
	var schema string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		conn.Close(ctx)
		return fmt.Errorf("live updates: %w", err)
	}
	channel := "gradpath_live_" + schema
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		conn.Close(ctx)
		return fmt.Errorf("live updates: %w", err)
	}
	var (
		mu     sync.Mutex
		sender *pgx.Conn // NOTIFY's own connection: the listener's is busy waiting
	)
	h.transport = func(ctx context.Context, ev Event) error {
		b, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		if len(b) > 7900 {
			return errors.New("live updates: an event over NOTIFY's 8000 bytes")
		}
		mu.Lock()
		defer mu.Unlock()
		for attempt := 0; attempt < 2; attempt++ {
			if sender == nil || sender.IsClosed() {
				if sender, err = pgx.Connect(ctx, url); err != nil {
					return fmt.Errorf("live updates: %w", err)
				}
			}
			if _, err = sender.Exec(ctx, `SELECT pg_notify($1, $2)`, channel, string(b)); err == nil {
				return nil
			}
			sender.Close(ctx)
			sender = nil
		}
		return fmt.Errorf("live updates: %w", err)
	}
	go func() {
		defer func() {
			conn.Close(context.Background())
			mu.Lock()
			if sender != nil {
				sender.Close(context.Background())
			}
			mu.Unlock()
		}()
		for ctx.Err() == nil {
			n, err := conn.WaitForNotification(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				logger.Warn("live updates: listening again after an error", "error", err.Error())
				conn.Close(context.Background())
				for ctx.Err() == nil {
					if c, err := pgx.Connect(ctx, url); err == nil {
						if _, err := c.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err == nil {
							conn = c
							break
						}
						c.Close(ctx)
					}
					select {
					case <-ctx.Done():
						return
					case <-time.After(time.Second):
					}
				}
				continue
			}
			var ev Event
			if json.Unmarshal([]byte(n.Payload), &ev) == nil {
				h.deliver(ev)
			}
		}
	}()
	return nil
}
