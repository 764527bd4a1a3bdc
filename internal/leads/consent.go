package leads

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/mail"
	"github.com/gradpath/gradpath/internal/outbox"
)

// Consent states of one purpose, as the ledger reads.
const (
	// ConsentGiven: the last record grants it.
	ConsentGiven = "given"
	// ConsentNotGiven: it was never granted (the box was left unticked).
	ConsentNotGiven = "not_given"
	// ConsentWithdrawn: it was granted, then withdrawn.
	ConsentWithdrawn = "withdrawn"
)

// PurposeState is where the consent of one purpose stands.
type PurposeState struct {
	Purpose string `json:"purpose"`
	State   string `json:"state"`
	// Since is when the state began (the record that made it so).
	Since         time.Time `json:"since"`
	NoticeVersion string    `json:"notice_version,omitempty"`
	// By says who recorded it when it was not the person through a form: "staff" or "guardian".
	By string `json:"by,omitempty"`
}

// ConsentStates reads a consent ledger (oldest first) into the state of each purpose: a purpose
// never granted is "not given", never "withdrawn".
func ConsentStates(records []ConsentRecord) []PurposeState {
	var out []PurposeState
	for _, purpose := range []string{PurposeContact, PurposeMarketing} {
		st := PurposeState{Purpose: purpose, State: ConsentNotGiven}
		everGranted := false
		for _, r := range records {
			if r.Purpose != purpose {
				continue
			}
			switch {
			case r.Granted:
				if st.State != ConsentGiven {
					st.Since = r.At
				}
				st.State, everGranted = ConsentGiven, true
			case everGranted && st.State == ConsentGiven:
				st.State, st.Since = ConsentWithdrawn, r.At
			case !everGranted && st.Since.IsZero():
				st.Since = r.At
			}
			if r.Granted || st.State == ConsentWithdrawn {
				st.NoticeVersion = r.NoticeVersion
			}
			st.By = ""
			switch {
			case r.NoticeVersion == noticeStaff:
				st.By = "staff"
			case r.Guardian != nil && r.Guardian.Consented:
				st.By = "guardian"
			}
		}
		out = append(out, st)
	}
	return out
}

// noticeStaff marks a consent record that a counsellor made from what the person said (on the
// phone, in person) rather than a form they sent.
const noticeStaff = "recorded by staff"

// RecordConsent records what a person told their counsellor about a purpose (contact or
// marketing), for a lead the counsellor may see: the ledger gets a record naming staff as its
// source, and the lead follows it (withdrawn contact closes the lead; marketing turns on or off).
func (s *Service) RecordConsent(ctx context.Context, a *gradpath.Actor, id, purpose string, granted bool) (Lead, error) {
	if err := staffOnly(a); err != nil {
		return Lead{}, err
	}
	if purpose != PurposeContact && purpose != PurposeMarketing {
		return Lead{}, gradpath.Invalid("purpose", "%q is not a purpose; use contact or marketing", purpose)
	}
	now := s.now()
	var out Lead
	err := s.store.Write(ctx, func(tx Tx) error {
		l, err := tx.Lead(ctx, id)
		if err != nil {
			return err
		}
		if !canSee(a, l) || l.ErasedAt != nil {
			return gradpath.NotFound("lead", id)
		}
		if err := tx.AddConsent(ctx, ConsentRecord{SubjectID: id, Purpose: purpose, Granted: granted, NoticeVersion: noticeStaff,
			At: now, IP: a.IP, UserAgent: a.UserAgent}); err != nil {
			return err
		}
		switch {
		case purpose == PurposeMarketing:
			l.Marketing = granted && (!l.Minor || l.GuardianConfirmedAt != nil)
		case !granted && l.Status.Open():
			l.Status, l.LostReason = StatusLost, "consent to be contacted withdrawn"
		}
		l.Version++
		l.UpdatedAt = now
		if err := tx.AddActivity(ctx, Activity{LeadID: id, At: now, ActorID: a.UserID, Type: ActivityConsent,
			Details: map[string]any{"purpose": purpose, "granted": granted}}); err != nil {
			return err
		}
		out = l
		return tx.UpdateLead(ctx, l)
	})
	if err == nil {
		s.audit(ctx, a, "lead.consent_recorded", id, map[string]any{"purpose": purpose, "granted": granted})
	}
	return out, err
}

// withdrawContact ends a person's consent to be contacted on every lead of theirs: each gets
// the withdrawal in its ledger and closes, so that nobody calls them.
func (s *Service) withdrawContact(ctx context.Context, tx Tx, a *gradpath.Actor, ids []string, now time.Time) error {
	for _, id := range ids {
		l, err := tx.Lead(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.AddConsent(ctx, ConsentRecord{SubjectID: id, Purpose: PurposeContact, Granted: false, NoticeVersion: "withdrawal",
			At: now, IP: a.IP, UserAgent: a.UserAgent}); err != nil {
			return err
		}
		if l.Status.Open() {
			l.Status, l.LostReason = StatusLost, "consent to be contacted withdrawn"
			l.Version++
			l.UpdatedAt = now
			if err := tx.UpdateLead(ctx, l); err != nil {
				return err
			}
			if err := tx.AddActivity(ctx, Activity{LeadID: id, At: now, Type: ActivityConsent,
				Details: map[string]any{"purpose": PurposeContact, "granted": false}}); err != nil {
				return err
			}
		}
	}
	return nil
}

func withdrawalMail(to, purpose string) outbox.Job {
	m := mail.Message{To: to, Subject: "You will no longer receive updates from us",
		Body: "We have recorded that you withdrew your consent to updates and newsletters; none will be sent.\n" +
			"Requests you made (a callback, a consultation) are not affected.\n"}
	if purpose == PurposeContact {
		m = mail.Message{To: to, Subject: "We will not contact you about your requests",
			Body: "We have recorded that you withdrew your consent to be contacted: your requests are closed and nobody will call or write\n" +
				"about them. Should you want to talk after all, send a new request from our website.\n"}
	}
	return outbox.Job{Kind: outbox.Mail, Mail: &m}
}

// askGuardian queues the email that asks a minor's guardian to confirm their consent. It
// carries only the lead's id: the message, with its link, is written when it is sent.
func (s *Service) askGuardian(ctx context.Context, tx Tx, leadID string) error {
	return tx.Enqueue(ctx, outbox.Job{Kind: outbox.GuardianMail, Ref: leadID})
}

// guardianToken is the key of a guardian's confirmation link: derived from the lead and the
// guardian's address with the service's key, so nothing is stored and a changed guardian's old
// link stops working.
func (s *Service) guardianToken(l Lead) string {
	if l.Guardian == nil || len(s.cfg.LinkKey) == 0 {
		return ""
	}
	m := hmac.New(sha256.New, s.cfg.LinkKey)
	m.Write([]byte("gradpath guardian\x00" + l.ID + "\x00" + l.Guardian.Email))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:24])
}

// GuardianMessage writes the email that asks a minor's guardian to confirm: who asked, for
// what, and the link. not_found when the lead is gone, erased, or confirmed already.
func (s *Service) GuardianMessage(ctx context.Context, leadID string) (mail.Message, error) {
	l, err := s.store.Lead(ctx, leadID)
	if err != nil {
		return mail.Message{}, err
	}
	token := s.guardianToken(l)
	if !l.Minor || l.Guardian == nil || l.Guardian.Email == "" || l.GuardianConfirmedAt != nil || l.ErasedAt != nil || token == "" {
		return mail.Message{}, gradpath.NotFound("lead", leadID)
	}
	what := "a callback"
	if l.Kind == Consultation {
		what = "a free consultation"
	}
	if c := strings.TrimSpace(interestText(l.Interest)); c != "" {
		what += " about " + c
	}
	link := s.cfg.PublicURL + "/guardian?lead=" + url.QueryEscape(l.ID) + "&token=" + url.QueryEscape(token)
	return mail.Message{To: l.Guardian.Email, Subject: l.Name + " asked us for " + what + ": your consent, please",
		Body: "Hello " + l.Guardian.Name + ",\n\n" + l.Name + " is under 18 and asked us for " + what + ", naming you as their " +
			l.Guardian.Relationship + ".\nBefore we keep their details or send them anything, we need your consent. Read what we do with " +
			"their details and confirm here:\n\n" + link + "\n\nIf you do not agree, do nothing: without your consent we send them no updates, and you can " +
			"ask us to erase their details.\n\n— gradpath\n"}, nil
}

// GuardianRequest is what a guardian's confirmation page shows: whose request, and for what.
type GuardianRequest struct {
	LeadID, Name, Guardian string
	Kind                   Kind
	Interest               Interest
	Confirmed              *time.Time
}

// Guardian returns the request a guardian's link is about; not_found when the link is not
// valid (a forged or old token, an erased lead).
func (s *Service) Guardian(ctx context.Context, leadID, token string) (GuardianRequest, error) {
	l, err := s.store.Lead(ctx, leadID)
	if gradpath.ErrorCode(err) == gradpath.CodeNotFound || err == nil && (!l.Minor || l.ErasedAt != nil || token == "" ||
		!hmac.Equal([]byte(token), []byte(s.guardianToken(l)))) {
		return GuardianRequest{}, gradpath.Errorf(gradpath.CodeNotFound, "this link is not valid; ask us for a new one")
	}
	if err != nil {
		return GuardianRequest{}, err
	}
	return GuardianRequest{LeadID: l.ID, Name: l.Name, Guardian: l.Guardian.Name, Kind: l.Kind, Interest: l.Interest, Confirmed: l.GuardianConfirmedAt}, nil
}

// ConfirmGuardian records a guardian's consent, given by their link: the consent ledger gets
// it (naming the guardian), and the minor's own marketing choice takes effect.
func (s *Service) ConfirmGuardian(ctx context.Context, a *gradpath.Actor, leadID, token, noticeVersion string) error {
	if _, err := s.Guardian(ctx, leadID, token); err != nil {
		return err
	}
	// What the minor chose for marketing, as their own requests recorded it.
	records, err := s.store.Consents(ctx, leadID)
	if err != nil {
		return err
	}
	now := s.now()
	return s.store.Write(ctx, func(tx Tx) error {
		l, err := tx.Lead(ctx, leadID)
		if err != nil {
			return err
		}
		if l.GuardianConfirmedAt != nil || l.Guardian == nil {
			return nil // confirmed before: the same answer
		}
		g := *l.Guardian
		g.Consented = true
		l.Guardian, l.GuardianConfirmedAt = &g, &now
		for _, st := range ConsentStates(records) {
			if st.Purpose == PurposeMarketing {
				l.Marketing = st.State == ConsentGiven
			}
		}
		for _, purpose := range []string{PurposeContact, PurposeMarketing} {
			granted := purpose == PurposeContact || l.Marketing
			if err := tx.AddConsent(ctx, ConsentRecord{SubjectID: leadID, Purpose: purpose, Granted: granted, NoticeVersion: noticeVersion,
				At: now, IP: a.IP, UserAgent: a.UserAgent, Guardian: &g}); err != nil {
				return err
			}
		}
		l.Version++
		l.UpdatedAt = now
		if err := tx.AddActivity(ctx, Activity{LeadID: leadID, At: now, Type: ActivityConsent,
			Details: map[string]any{"guardian": "confirmed"}}); err != nil {
			return err
		}
		return tx.UpdateLead(ctx, l)
	})
}
