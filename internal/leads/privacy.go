package leads

import (
	"context"
	"time"

	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/outbox"
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
	// Bookings are the sessions they booked (by the leads, or by their email or phone).
	Bookings []BookingRecord `json:"bookings"`
}

// BookingRecord is a booked session as a data export shows it.
type BookingRecord struct {
	ID           string    `json:"id"`
	CounsellorID string    `json:"counsellor_id"`
	Type         string    `json:"type"`
	Status       string    `json:"status"`
	Start        time.Time `json:"start"`
	Name         string    `json:"name"`
	Email        string    `json:"email,omitempty"`
	Phone        string    `json:"phone,omitempty"`
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
	person := Person{LeadIDs: []string{id}}
	for _, l := range append([]Lead{d.Lead}, others...) {
		person.LeadIDs = appendNew(person.LeadIDs, l.ID)
		for _, e := range append([]string{l.Email}, l.OtherEmails...) {
			if e != "" {
				person.Emails = appendNew(person.Emails, e)
			}
		}
		for _, p := range append([]string{l.Phone}, l.OtherPhones...) {
			if p != "" {
				person.Phones = appendNew(person.Phones, p)
			}
		}
		if l.Name != "" && l.Name != "(erased)" {
			person.Names = appendNew(person.Names, l.Name) // bookings with no other contact, as erasure finds them
		}
	}
	if out.Bookings, err = s.store.Bookings(ctx, person); err != nil {
		return Export{}, err
	}
	s.audit(ctx, a, "lead.exported", id, nil)
	return out, nil
}

// Person is who an erasure is about: their leads, and the contacts and names they were known by.
type Person struct {
	LeadIDs        []string
	Emails, Phones []string
	Names          []string
}

// Erased is what an erasure removed beyond the leads: how many bookings, jobs and accounts,
// and the uploaded files to delete once it commits.
type Erased struct {
	Bookings, Jobs, Accounts int
	Files                    []string
}

// Erase removes the personal data of the person behind a lead, on their request, from
// everywhere gradpath keeps it: their leads keep only what is not personal (kind, dates,
// country and course of interest, pipeline), their subscriptions end, their bookings lose
// their contact (future ones are cancelled), their student account goes with its workspace and
// files, and queued or finished jobs that name them are deleted, so that no message goes to
// them afterwards. Consent evidence is kept, as the law requires. Once the erasure commits,
// Config.Erased removes their files and leaves no copy in the database's files.
func (s *Service) Erase(ctx context.Context, a *gradpath.Actor, id string) (Lead, error) {
	if err := adminOnly(a); err != nil {
		return Lead{}, err
	}
	now := s.now()
	var out Lead
	var erased Erased
	err := s.store.Write(ctx, func(tx Tx) error {
		l, err := tx.Lead(ctx, id)
		if err != nil {
			return err
		}
		ids := []string{id}
		// Every phone and email the lead knows the person by finds their other leads and
		// subscriptions.
		emails, phones := append([]string{l.Email}, l.OtherEmails...), append([]string{l.Phone}, l.OtherPhones...)
		for i := range max(len(emails), len(phones)) {
			e, p := "", ""
			if i < len(emails) {
				e = emails[i]
			}
			if i < len(phones) {
				p = phones[i]
			}
			if e == "" && p == "" {
				continue
			}
			more, err := tx.LeadIDsByContact(ctx, e, p)
			if err != nil {
				return err
			}
			for _, m := range more {
				ids = appendNew(ids, m)
			}
			if _, err := tx.EraseSubscriptions(ctx, e, p, now); err != nil {
				return err
			}
		}
		person := Person{LeadIDs: ids}
		for _, lid := range ids {
			x, err := tx.Lead(ctx, lid)
			if err != nil {
				return err
			}
			known := [][2]string{{"e", x.Email}, {"p", x.Phone}, {"n", x.Name}}
			for _, o := range x.OtherEmails {
				known = append(known, [2]string{"e", o})
			}
			for _, o := range x.OtherPhones {
				known = append(known, [2]string{"p", o})
			}
			for _, v := range known {
				switch {
				case v[1] == "" || v[1] == "(erased)":
				case v[0] == "e":
					person.Emails = appendNew(person.Emails, v[1])
				case v[0] == "p":
					person.Phones = appendNew(person.Phones, v[1])
				default:
					person.Names = appendNew(person.Names, v[1])
				}
			}
			if x.ErasedAt != nil {
				if lid == id {
					out = x
				}
				continue
			}
			x.Name, x.Phone, x.Email, x.DateOfBirth, x.OtherPhones, x.OtherEmails = "(erased)", "", "", gradpath.Date{}, nil, nil
			x.Interest.Message, x.Page, x.UTM, x.Marketing, x.Guardian = "", "", UTM{}, false, nil
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
		if erased, err = tx.ErasePerson(ctx, person, now); err != nil {
			return err
		}
		// After the erasure, which drops the events about them not yet delivered: receivers
		// hear which leads to erase on their side.
		return s.emit(ctx, tx, outbox.PersonErased, "", map[string]any{"lead_ids": person.LeadIDs})
	})
	if err != nil {
		return Lead{}, err
	}
	s.audit(ctx, a, "lead.erased", id, map[string]any{"leads": len(out.ID) > 0, "bookings": erased.Bookings, "jobs": erased.Jobs, "accounts": erased.Accounts})
	if s.cfg.Erased != nil {
		if err := s.cfg.Erased(ctx, erased); err != nil {
			return out, err
		}
	}
	return out, nil
}

func appendNew(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}
