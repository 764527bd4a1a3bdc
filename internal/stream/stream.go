// Package stream publishes gradpath's domain events to NATS JetStream, for other systems to
// consume (a data warehouse, a marketing tool): every event on the subject
// <prefix>.<event type> of one stream, with Nats-Msg-Id set to the event's id, so that a
// publish repeated after a crash (between the publish and its job's completion) is stored
// once. gradpath's own work stays on its job queue; nothing in gradpath consumes the stream.
package stream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gradpath/gradpath/internal/webhooks"
)

// Config says where events go.
type Config struct {
	URL string
	// Stream is the JetStream stream's name; Prefix starts its subjects.
	Stream, Prefix string
	// MaxAge is how long the stream keeps events (consumers that fall further behind miss
	// them); Duplicates is the window in which a repeated Nats-Msg-Id is dropped.
	MaxAge, Duplicates time.Duration
}

// Publisher publishes events to the stream.
type Publisher struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	prefix string
}

// Open connects and makes sure the stream exists with its settings: file storage (events
// survive a NATS restart), limits retention (consumers read at their own pace, nothing is
// deleted when read), the subjects <prefix>.>, and a duplicate window for Nats-Msg-Id.
func Open(ctx context.Context, c Config) (*Publisher, error) {
	nc, err := nats.Connect(c.URL, nats.Name("gradpath"), nats.MaxReconnects(-1), nats.ReconnectWait(time.Second))
	if err != nil {
		return nil, fmt.Errorf("NATS at %s: %w", c.URL, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	if c.MaxAge == 0 {
		c.MaxAge = 7 * 24 * time.Hour
	}
	if c.Duplicates == 0 {
		c.Duplicates = 10 * time.Minute
	}
	_, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        c.Stream,
		Description: "gradpath's domain events (leads, bookings, applications, consent, erasure)",
		Subjects:    []string{c.Prefix + ".>"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      c.MaxAge,
		Duplicates:  c.Duplicates,
		Discard:     jetstream.DiscardOld,
	})
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("JetStream stream %s: %w", c.Stream, err)
	}
	return &Publisher{nc: nc, js: js, prefix: c.Prefix}, nil
}

// Publish stores an event in the stream and waits for JetStream's acknowledgement; an error
// leaves the job to be retried, and a repeat within the duplicate window is dropped by NATS.
func (p *Publisher) Publish(ctx context.Context, ev webhooks.Event) error {
	if ev.ID == "" || ev.Type == "" {
		return errors.New("stream: an event needs an id and a type")
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	msg := &nats.Msg{Subject: p.Subject(ev.Type), Data: body, Header: nats.Header{}}
	msg.Header.Set("Content-Type", "application/json")
	_, err = p.js.PublishMsg(ctx, msg, jetstream.WithMsgID(ev.ID))
	return err
}

// Subject is where events of a type go.
func (p *Publisher) Subject(eventType string) string { return p.prefix + "." + eventType }

// Close drains the connection.
func (p *Publisher) Close() error { return p.nc.Drain() }
