package graphql

import (
	"context"
	"encoding/json"

	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/live"
)

// Subscription returns the subscription resolvers: each follows the live hub and reads every
// record again through its service, with the subscriber's rights.
func (r *Resolver) Subscription() SubscriptionResolver { return &subscriptionResolver{r} }

type subscriptionResolver struct{ *Resolver }

// follow turns the hub's events into answers: read returns an event's answer, or false to send
// nothing (a record the subscriber may not see, or one gone since).
func follow[T any](ctx context.Context, in <-chan live.Event, read func(live.Event) (T, bool)) <-chan T {
	out := make(chan T)
	go func() {
		defer close(out)
		for ev := range in {
			v, ok := read(ev)
			if !ok {
				continue
			}
			select {
			case out <- v:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

func (r *subscriptionResolver) LeadQueue(ctx context.Context) (<-chan *LeadEvent, error) {
	if r.d.Leads == nil || r.d.Live == nil {
		return nil, unavailable("live updates")
	}
	a := actor(ctx)
	if err := r.d.Leads.CanWatch(a); err != nil {
		return nil, err
	}
	return follow(ctx, r.d.Live.Subscribe(ctx, live.LeadQueue...), func(ev live.Event) (*LeadEvent, bool) {
		var d struct {
			LeadID string `json:"lead_id"`
		}
		if json.Unmarshal(ev.Data, &d) != nil || d.LeadID == "" {
			return nil, false
		}
		l, err := r.d.Leads.Queued(ctx, a, d.LeadID)
		if err != nil {
			return nil, false
		}
		return &LeadEvent{Type: ev.Type, Lead: &Lead{Lead: l}}, true
	}), nil
}

func (r *subscriptionResolver) ApplicationChanges(ctx context.Context, student *string) (<-chan *ApplicationEvent, error) {
	if r.d.Workspace == nil || r.d.Live == nil {
		return nil, unavailable("live updates")
	}
	a, id := actor(ctx), studentOf(ctx, student)
	// The workspace's rule decides who may watch: the student, their counsellor, admins.
	if _, err := r.d.Workspace.Applications(ctx, a, id); err != nil {
		return nil, err
	}
	return follow(ctx, r.d.Live.Subscribe(ctx, live.ApplicationMoved), func(ev live.Event) (*ApplicationEvent, bool) {
		var d struct {
			ApplicationID string `json:"application_id"`
			StudentID     string `json:"student_id"`
		}
		if json.Unmarshal(ev.Data, &d) != nil || d.StudentID != id {
			return nil, false
		}
		app, err := r.d.Workspace.Application(ctx, a, id, d.ApplicationID)
		if err != nil {
			return nil, false
		}
		return &ApplicationEvent{Type: ev.Type, Application: &app}, true
	}), nil
}

// scoped is the actor as the API lets it act: a token without the admin scope acts with its
// user's other roles, as on REST's admin routes.
func scoped(a *gradpath.Actor) *gradpath.Actor {
	if a.Via == "token" && !a.Can(gradpath.ScopeAdmin) {
		b := *a
		b.Roles = nil
		for _, r := range a.Roles {
			if r != gradpath.RoleAdmin {
				b.Roles = append(b.Roles, r)
			}
		}
		return &b
	}
	return a
}
