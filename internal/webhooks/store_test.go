package webhooks_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/sqlstore"
	"github.com/gradpath/gradpath/internal/storetest"
	"github.com/gradpath/gradpath/internal/webhooks"
)

// After a day of failures the last attempt switches the endpoint off, says why and tells the
// admins; switched on again it takes events. A rotated secret signs beside the previous one
// for a day. Both engines.
func TestEndpointLifecycle(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		var sigs []string
		down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sigs = append(sigs, r.Header.Get("webhook-signature"))
			http.Error(w, "maintenance", http.StatusBadGateway)
		}))
		defer down.Close()
		now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
		svc := webhooks.NewService(sqlstore.NewWebhookStore(db), webhooks.Addresses{AllowPrivate: true}, func() time.Time { return now })
		var told []webhooks.Endpoint
		svc.Disabled = func(_ context.Context, e webhooks.Endpoint) { told = append(told, e) }
		attempts := map[string]int{}
		svc.Delivered = func(event, outcome string) { attempts[event+"/"+outcome]++ }
		admin := &gradpath.Actor{UserID: "usr_admin", Roles: []gradpath.Role{gradpath.RoleAdmin}}
		c, err := svc.Create(ctx, admin, webhooks.Input{URL: down.URL, Events: []string{webhooks.LeadCreated}})
		if err != nil {
			t.Fatal(err)
		}
		if !svc.Listening(webhooks.LeadCreated) || svc.Listening(webhooks.ApplicationStatusChanged) {
			t.Error("listening does not follow the endpoint's events")
		}
		ev, _ := webhooks.NewEvent(webhooks.LeadCreated, now, map[string]string{"lead_id": "lead_1"})

		// A rotation: both secrets sign for a day.
		rot, err := svc.Rotate(ctx, admin, c.ID)
		if err != nil || rot.Secret == c.Secret || !rot.PreviousUntil.Equal(now.Add(24*time.Hour)) {
			t.Fatalf("rotate: %v %+v", err, rot)
		}
		if err := svc.Deliver(ctx, c.ID, ev, 1); err == nil {
			t.Fatal("a 502 is not an error for the queue to retry")
		}
		if f := strings.Fields(sigs[0]); len(f) != 2 {
			t.Errorf("during the overlap: %q, want two signatures", sigs[0])
		}
		now = now.Add(25 * time.Hour)
		_ = svc.Deliver(ctx, c.ID, ev, 2)
		if f := strings.Fields(sigs[1]); len(f) != 1 {
			t.Errorf("after the overlap: %q, want one signature", sigs[1])
		}

		// The last attempt fails: switched off, with the reason, and the admins told.
		if err := svc.Deliver(ctx, c.ID, ev, webhooks.MaxAttempts); err != nil {
			t.Errorf("the last attempt: %v (the endpoint is switched off instead of retried)", err)
		}
		eps, _ := svc.List(ctx, admin)
		if len(eps) != 1 || eps[0].Active || !strings.Contains(eps[0].DisabledReason, "502") || len(told) != 1 {
			t.Fatalf("after a day of failures: %+v, %d told", eps, len(told))
		}
		if svc.Listening(webhooks.LeadCreated) {
			t.Error("a switched-off endpoint still listens")
		}
		if len(attempts) != 1 || attempts[webhooks.LeadCreated+"/failed"] != 3 {
			t.Errorf("the metrics heard %v, want 3 failed attempts", attempts)
		}
		n := len(sigs)
		if err := svc.Deliver(ctx, c.ID, ev, 1); err != nil || len(sigs) != n {
			t.Errorf("a switched-off endpoint got a delivery: %v", err)
		}
		e, err := svc.SetActive(ctx, admin, c.ID, true)
		if err != nil || !e.Active || e.DisabledReason != "" || !svc.Listening(webhooks.LeadCreated) {
			t.Errorf("switched on again: %v %+v", err, e)
		}
		log, err := svc.Deliveries(ctx, admin, c.ID, 10)
		if err != nil || len(log) != 3 || log[0].Attempt != webhooks.MaxAttempts || log[0].Code != 502 {
			t.Errorf("the log: %v %+v", err, log)
		}
		if _, err := svc.Rotate(ctx, &gradpath.Actor{UserID: "usr_c", Roles: []gradpath.Role{gradpath.RoleCounsellor}}, c.ID); gradpath.ErrorCode(err) != gradpath.CodeForbidden {
			t.Errorf("a counsellor rotates a secret: %v", err)
		}
	})
}
