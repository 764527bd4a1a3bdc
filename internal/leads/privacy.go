package leads

import (
	"context"
	"time"

	"github.com/gradpath/gradpath/internal/gradpath"
)

// Auditor records who read, exported or erased a person's data.
type Auditor interface {
	Record(ctx context.Context, a *gradpath.Actor, action, subject string, details map[string]any)
}

// Export is everything gradpath holds about the person behind a lead.
type Export struct {
	ExportedAt time.Time `json:"exported_at"`
	Lead       Detail    `json:"lead"`
	// OtherLeads are the person's other leads (same phone or email).
	OtherLeads    []Detail       `json:"other_leads"`
	Subscriptions []Subscription `json:"subscriptions"`
	// SubscriptionConsents are the consent records of the subscriptions.
	SubscriptionConsents []ConsentRecord `json:"subscription_consents"`
}

func adminOnly(a *gradpath.Actor) error {
	if a.Anonymous() {
		return gradpath.Errorf(gradpath.CodeUnauthorized, "sign in")
	}
	if !a.Has(gradpath.RoleAdmin) {
		return gradpath.Errorf(gradpath.CodeForbidden, "data-protection requests are for admins")
	}
	return nil
}

func (s *Service) audit(ctx context.Context, a *gradpath.Actor, action, subject string, details map[string]any) {
	if s.cfg.Audit != nil {
		s.cfg.Audit.Record(ctx, a, action, subject, details)
	}
}

// Export gathers everything about the person behind a lead: the lead, their other leads and
// subscriptions, with histories and consent records (a subject access request).
func (s *Service) Export(ctx context.Context, a *gradpath.Actor, id string) (Export, error) {
	if err := adminOnly(a); err != nil {
		return Export{}, err
	}
	d, err := s.Get(ctx, a, id)
	if err != nil {
		return Export{}, err
	}
	out := Export{ExportedAt: s.cfg.Now().UTC(), Lead: d, OtherLeads: []Detail{}, Subscriptions: []Subscription{}, SubscriptionConsents: []ConsentRecord{}}
	others, subs, err := s.store.ByContact(ctx, d.Email, d.Phone)
	if err != nil {
		return Export{}, err
	}
	for _, o := range others {
		if o.ID == id {
			continue
		}
		od, err := s.Get(ctx, a, o.ID)
		if err != nil {
			return Export{}, err
		}
		out.OtherLeads = append(out.OtherLeads, od)
	}
	for _, sub := range subs {
		out.Subscriptions = append(out.Subscriptions, sub)
		cs, err := s.store.Consents(ctx, sub.ID)
		if err != nil {
			return Export{}, err
		}
		out.SubscriptionConsents = append(out.SubscriptionConsents, cs...)
	}
	s.audit(ctx, a, "lead.exported", id, nil)
	return out, nil
}

// Erase removes the personal data of the person behind a lead, on their request: their leads
// keep only what is not personal (kind, dates, country and course of interest, pipeline) and
// their subscriptions end; consent evidence is kept, as the law requires. Afterwards the person
// is not found by phone or email.
func (s *Service) Erase(ctx context.Context, a *gradpath.Actor, id string) (Lead, error) {
	if err := adminOnly(a); err != nil {
		return Lead{}, err
	}
	now := s.now()
	var out Lead
	err := s.store.Write(ctx, func(tx Tx) error {
		l, err := tx.Lead(ctx, id)
		if err != nil {
			return err
		}
		ids := []string{id}
		if more, err := tx.LeadIDsByContact(ctx, l.Email, l.Phone); err != nil {
			return err
		} else {
			for _, m := range more {
				if m != id {
					ids = append(ids, m)
				}
			}
		}
		if _, err := tx.EraseSubscriptions(ctx, l.Email, l.Phone, now); err != nil {
			return err
		}
		for _, lid := range ids {
			x, err := tx.Lead(ctx, lid)
			if err != nil {
				return err
			}
			if x.ErasedAt != nil {
				if lid == id {
					out = x
				}
				continue
			}
			x.Name, x.Phone, x.Email, x.DateOfBirth = "(erased)", "", "", gradpath.Date{}
			x.Interest.Message, x.Page, x.UTM, x.Marketing = "", "", UTM{}, false
			if x.Status.Open() {
				x.Status, x.LostReason = StatusLost, "erased on request"
			}
			x.ErasedAt = &now
			x.UpdatedAt = now
			x.Version++
			if err := tx.UpdateLead(ctx, x); err != nil {
				return err
			}
			if err := tx.EraseActivity(ctx, lid); err != nil {
				return err
			}
			if err := tx.AddActivity(ctx, Activity{LeadID: lid, At: now, ActorID: a.UserID, Type: "erased"}); err != nil {
				return err
			}
			if lid == id {
				out = x
			}
		}
		return nil
	})
	if err == nil {
		s.audit(ctx, a, "lead.erased", id, nil)
	}
	return out, err
}
