package leads_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/calendar"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/leads"
	"github.com/gradpath/gradpath/internal/outbox"
	"github.com/gradpath/gradpath/internal/sqlstore"
	"github.com/gradpath/gradpath/internal/storetest"
)

// While a webhook listens, every change of a lead's life queues its event with the change:
// created, assigned, contacted, overdue, consent withdrawn, erased; the data names leads and
// counsellors by id and never carries a name, phone or email. Nobody listening, nothing is
// queued. Both engines.
func TestLeadEvents(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		listening := false
		cfg := leads.DefaultConfig(func() time.Time { return f.now })
		cfg.Listening = func(string) bool { return listening }
		seen := &observer{received: map[string]int{}}
		cfg.Observer = seen
		f.svc = leads.NewService(f.store, calendar.Default(), cfg)
		if _, err := f.svc.PutProfile(ctx, f.admin, leads.Profile{UserID: f.ids["asha@agency.in"], Active: true}); err != nil {
			t.Fatal(err)
		}
		events := func() map[string][]map[string]any {
			out := map[string][]map[string]any{}
			for _, j := range f.jobs.All() {
				if j.Kind != outbox.Event {
					continue
				}
				b, _ := json.Marshal(j.Data)
				for _, pii := range []string{"Kavya", "98450", "kavya@example.in"} {
					if strings.Contains(string(b), pii) {
						t.Errorf("%s carries %q: %s", j.Event, pii, b)
					}
				}
				var m map[string]any
				json.Unmarshal(b, &m)
				out[j.Event] = append(out[j.Event], m)
			}
			return out
		}
		f.create(t, request("Quiet", "+91 98450 00001", "quiet@example.in", "GB"), "")
		if n := len(events()); n != 0 {
			t.Fatalf("%d event types queued with nobody listening", n)
		}
		listening = true
		r := f.create(t, request("Kavya", "+91 98450 12345", "kavya@example.in", "GB"), "")
		got := events()
		if len(got[outbox.LeadCreated]) != 1 || got[outbox.LeadCreated][0]["lead_id"] != r.ID || len(got[outbox.LeadAssigned]) != 1 ||
			got[outbox.LeadAssigned][0]["assignee"] != f.ids["asha@agency.in"] {
			t.Fatalf("created and assigned: %v", got)
		}
		d, _ := f.svc.Get(ctx, f.admin, r.ID)
		contacted := leads.StatusContacted
		if _, err := f.svc.Update(ctx, &gradpath.Actor{UserID: d.Assignee, Roles: []gradpath.Role{gradpath.RoleCounsellor}}, r.ID, leads.Patch{Status: &contacted}, d.Version); err != nil {
			t.Fatal(err)
		}
		late := f.create(t, request("Late", "+91 98450 00002", "late@example.in", "GB"), "")
		if err := f.svc.CheckSLA(ctx, late.ID, leads.StageBreach); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.CheckSLA(ctx, late.ID, leads.StageBreach); err != nil { // once only
			t.Fatal(err)
		}
		f.create(t, request("Late again", "+91 98450 00002", "late@example.in", "GB"), "")
		if len(seen.contacts) != 1 || seen.contacts[0] < 0 {
			t.Errorf("the observer heard first contacts %v, want one in time", seen.contacts)
		}
		if seen.breaches != 1 || seen.received["callback/created"] != 3 || seen.received["callback/merged"] != 1 {
			t.Errorf("the observer heard %d breaches and %v, want 1 breach, 3 created and 1 merged", seen.breaches, seen.received)
		}
		if err := f.svc.Withdraw(ctx, visitor, leads.WithdrawInput{Email: "kavya@example.in", Purpose: leads.PurposeContact}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Erase(ctx, f.admin, r.ID); err != nil {
			t.Fatal(err)
		}
		got = events()
		for typ, want := range map[string]string{outbox.LeadContacted: r.ID, outbox.LeadOverdue: late.ID} {
			if len(got[typ]) != 1 || got[typ][0]["lead_id"] != want {
				t.Errorf("%s: %v", typ, got[typ])
			}
		}
		if c := got[outbox.ConsentWithdrawn]; len(c) != 1 || !strings.Contains(mustJSON(c[0]["lead_ids"]), r.ID) || c[0]["purpose"] != leads.PurposeContact {
			t.Errorf("consent withdrawn: %v", c)
		}
		if e := got[outbox.PersonErased]; len(e) != 1 || !strings.Contains(mustJSON(e[0]["lead_ids"]), r.ID) {
			t.Errorf("person erased: %v", e)
		}
	})
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// observer counts what a leads.Observer hears.
type observer struct {
	received map[string]int
	breaches int
	contacts []time.Duration
}

func (o *observer) LeadReceived(source, outcome string) { o.received[source+"/"+outcome]++ }
func (o *observer) SLABreached()                        { o.breaches++ }
func (o *observer) FirstContact(wait time.Duration, within bool) {
	if within {
		o.contacts = append(o.contacts, wait)
	}
}
