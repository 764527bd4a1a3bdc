package leads

import (
	"context"
	"slices"
	"strings"

	"github.com/gradpath/gradpath/internal/gradpath"
)

// NameKey is a name's folded words in order: "Riya Sharma", "SHARMA, Riya" and "Riyá Sharma"
// share one, so likely duplicates are found by an index.
func NameKey(name string) string {
	w := gradpath.Words(name)
	slices.Sort(w)
	return strings.Join(w, " ")
}

// SameName reports whether two names may be one person's: the same words in any order, case
// or accents, one name's words all in the other's ("Riya" and "Riya Sharma"), or the same
// first word ("Meera" and "Meera S"). An empty name matches any.
func SameName(a, b string) bool {
	wa, wb := gradpath.Words(a), gradpath.Words(b)
	if len(wa) == 0 || len(wb) == 0 || wa[0] == wb[0] {
		return true
	}
	within := func(x, y []string) bool {
		for _, w := range x {
			if !slices.Contains(y, w) {
				return false
			}
		}
		return true
	}
	return within(wa, wb) || within(wb, wa)
}

// addContacts keeps a phone and an email a request came with that the lead does not have as
// its own.
func addContacts(l *Lead, phone, email string) {
	switch {
	case phone == "" || phone == l.Phone || slices.Contains(l.OtherPhones, phone):
	case l.Phone == "":
		l.Phone = phone
	default:
		l.OtherPhones = append(l.OtherPhones, phone)
	}
	switch {
	case email == "" || email == l.Email || slices.Contains(l.OtherEmails, email):
	case l.Email == "":
		l.Email = email
	default:
		l.OtherEmails = append(l.OtherEmails, email)
	}
}

// Duplicate is a lead that may be the same person as another, and why.
type Duplicate struct {
	Lead Lead `json:"lead"`
	// Reasons: phone, email, name.
	Reasons []string `json:"reasons"`
}

// Duplicates lists the leads that may be the same person as lead id: same phone, same email,
// or the same name written differently. Only leads the actor may see are listed.
func (s *Service) Duplicates(ctx context.Context, a *gradpath.Actor, id string) ([]Duplicate, error) {
	if err := staffOnly(a); err != nil {
		return nil, err
	}
	l, err := s.store.Lead(ctx, id)
	if err != nil {
		return nil, err
	}
	if !canSee(a, l) || l.MergedInto != "" {
		return nil, gradpath.NotFound("lead", id)
	}
	similar, err := s.store.Similar(ctx, l.Phone, l.Email, NameKey(l.Name), id)
	if err != nil {
		return nil, err
	}
	out := []Duplicate{}
	key := NameKey(l.Name)
	for _, o := range similar {
		if !canSee(a, o) {
			continue
		}
		d := Duplicate{Lead: o}
		if l.Phone != "" && o.Phone == l.Phone {
			d.Reasons = append(d.Reasons, "phone")
		}
		if l.Email != "" && o.Email == l.Email {
			d.Reasons = append(d.Reasons, "email")
		}
		if key != "" && NameKey(o.Name) == key {
			d.Reasons = append(d.Reasons, "name")
		}
		out = append(out, d)
	}
	return out, nil
}

// Merge folds lead from into lead into: into keeps its id, status and counsellor and gains
// from's requests, contact details it lacked, and marketing consent; from is marked merged and
// leaves every list. Both histories and all consent records stay, and show under into.
func (s *Service) Merge(ctx context.Context, a *gradpath.Actor, into, from string) (Lead, error) {
	if err := staffOnly(a); err != nil {
		return Lead{}, err
	}
	if into == from || from == "" {
		return Lead{}, gradpath.Invalid("from", "name another lead to merge into this one")
	}
	now := s.now()
	var out Lead
	err := s.store.Write(ctx, func(tx Tx) error {
		t, err := tx.Lead(ctx, into)
		if err != nil {
			return err
		}
		f, err := tx.Lead(ctx, from)
		if gradpath.ErrorCode(err) == gradpath.CodeNotFound {
			return gradpath.Invalid("from", "no lead %q", from)
		} else if err != nil {
			return err
		}
		if !canSee(a, t) {
			return gradpath.NotFound("lead", into)
		}
		if !canSee(a, f) {
			return gradpath.Invalid("from", "no lead %q", from)
		}
		if t.MergedInto != "" || f.MergedInto != "" || t.ErasedAt != nil || f.ErasedAt != nil {
			return gradpath.Errorf(gradpath.CodeConflict, "a merged or erased lead cannot be merged")
		}
		t.Requests += f.Requests
		t.Marketing = t.Marketing || f.Marketing
		// Every phone and email of both stays with the lead.
		addContacts(&t, f.Phone, f.Email)
		for _, p := range f.OtherPhones {
			addContacts(&t, p, "")
		}
		for _, e := range f.OtherEmails {
			addContacts(&t, "", e)
		}
		if t.DuplicateOf == f.ID {
			t.DuplicateOf = ""
		}
		if t.FirstContactAt == nil {
			t.FirstContactAt = f.FirstContactAt
		}
		t.UpdatedAt, f.UpdatedAt = now, now
		t.Version++
		f.Version++
		f.MergedInto = t.ID
		if err := tx.UpdateLead(ctx, f); err != nil {
			return err
		}
		if err := tx.UpdateLead(ctx, t); err != nil {
			return err
		}
		for _, act := range []Activity{
			{LeadID: t.ID, At: now, ActorID: a.UserID, Type: ActivityMerged, Details: map[string]any{"from": f.ID}},
			{LeadID: f.ID, At: now, ActorID: a.UserID, Type: ActivityMerged, Details: map[string]any{"into": t.ID}},
		} {
			if err := tx.AddActivity(ctx, act); err != nil {
				return err
			}
		}
		out = t
		return nil
	})
	if err == nil {
		s.audit(ctx, a, "lead.merged", into, map[string]any{"from": from})
	}
	return out, err
}
