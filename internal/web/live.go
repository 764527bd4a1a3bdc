package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gradpath/gradpath/internal/live"
)

// queueEvents streams the changes of the signed-in counsellor's lead queue as server-sent
// events (the same events as GraphQL's leadQueue subscription): each names the lead and what
// happened, for the page to refresh its table. Leads outside the viewer's queue are not sent.
func (p *Pages) queueEvents(w http.ResponseWriter, r *http.Request) error {
	a, _, ok := p.staff(w, r)
	if !ok {
		return nil
	}
	if p.Live == nil {
		http.Error(w, "live updates are not set up on this server", http.StatusServiceUnavailable)
		return nil
	}
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // the stream lasts while the page is open
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: pass each event on as it comes
	w.WriteHeader(http.StatusOK)
	ctx := r.Context()
	events := p.Live.Subscribe(ctx, live.LeadQueue...)
	// A comment at once and then every 25 s keeps proxies from closing an idle stream.
	fmt.Fprint(w, ": the lead queue, live\nretry: 5000\n\n")
	if err := rc.Flush(); err != nil {
		return nil
	}
	beat := time.NewTicker(25 * time.Second)
	defer beat.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-beat.C:
			fmt.Fprint(w, ": still here\n\n")
		case ev, open := <-events:
			if !open {
				return nil
			}
			var d struct {
				LeadID string `json:"lead_id"`
			}
			if json.Unmarshal(ev.Data, &d) != nil || d.LeadID == "" {
				continue
			}
			l, err := p.Leads.Queued(ctx, a, d.LeadID)
			if err != nil {
				continue
			}
			b, _ := json.Marshal(map[string]string{"type": ev.Type, "lead": l.ID, "status": string(l.Status)})
			fmt.Fprintf(w, "event: lead\nid: %s\ndata: %s\n\n", ev.ID, b)
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
	}
}
