package stream_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gradpath/gradpath/internal/storetest"
	"github.com/gradpath/gradpath/internal/stream"
	"github.com/gradpath/gradpath/internal/webhooks"
)

// An event is stored once on its subject, even when its job publishes it twice (a crash
// between the publish and the job's completion); the stream keeps events on disk.
func TestPublishOnce(t *testing.T) {
	url := storetest.NATSURL(t)
	ctx := context.Background()
	name := "T" + strings.ToUpper(strings.TrimSuffix(strings.TrimPrefix(storetest.Prefix(), "gptest:"), ":"))
	prefix := strings.ToLower(name)
	p, err := stream.Open(ctx, stream.Config{URL: url, Stream: name, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	defer js.DeleteStream(ctx, name)

	ev, _ := webhooks.NewEvent(webhooks.LeadCreated, time.Now(), map[string]string{"lead_id": "lead_1"})
	for range 2 {
		if err := p.Publish(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	s, err := js.Stream(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := s.Info(ctx)
	if info.State.Msgs != 1 || info.Config.Storage != jetstream.FileStorage || info.Config.Subjects[0] != prefix+".>" {
		t.Errorf("stream: %d messages, %+v", info.State.Msgs, info.Config)
	}
	m, err := s.GetLastMsgForSubject(ctx, prefix+".lead.created")
	if err != nil || m.Header.Get("Nats-Msg-Id") != ev.ID || !strings.Contains(string(m.Data), `"lead_1"`) {
		t.Errorf("the message: %v %+v %s", err, m, m.Data)
	}
}
