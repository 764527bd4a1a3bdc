package leads

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/outbox"
)

// Topics a person can subscribe to.
var Topics = []string{"updates", "newsletter"}

// SubscriptionInput is the "send me updates" form.
type SubscriptionInput struct {
	Name   string   `json:"name,omitempty"`
	Email  string   `json:"email,omitempty"`
	Phone  string   `json:"phone,omitempty"`
	Topics []string `json:"topics,omitempty"`
	// Under18: updates go only to adults; a minor asks for a callback, with a guardian.
	Under18 bool `json:"under_18,omitempty"`
	// Consent: marketing must be true; notice_version names the notice shown.
	Consent ConsentInput `json:"consent"`
	Website string       `json:"website,omitempty"`
	// FormToken: see Input.
	FormToken string `json:"form_token,omitempty"`
}

// Subscription is a person who asked for updates.
type Subscription struct {
	ID        string    `json:"id"`
	Name      string    `json:"name,omitempty"`
	Email     string    `json:"email,omitempty"`
	Phone     string    `json:"phone,omitempty"`
	Topics    []string  `json:"topics"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func (in *SubscriptionInput) validate(region string) error {
	var p gradpath.Problems
	in.Name = checkText(&p, "name", in.Name, maxName, false)
	in.Email = normalizeEmail(&p, "email", in.Email)
	in.Phone = phoneField(&p, "phone", in.Phone, region)
	if in.Email == "" && in.Phone == "" && !hasField(&p, "email") && !hasField(&p, "phone") {
		p.Add("email", "give an email or a phone number to send updates to")
	}
	if in.Under18 {
		p.Add("under_18", "updates go only to people 18 or over; under 18, ask for a callback and give a parent's or guardian's email")
	}
	if len(in.Topics) == 0 {
		in.Topics = []string{"updates"}
	}
	for i, t := range in.Topics {
		if !slices.Contains(Topics, t) {
			p.Add("topics["+itoa(i)+"]", "%q is not a topic; use updates or newsletter", t)
		}
	}
	slices.Sort(in.Topics)
	in.Topics = slices.Compact(in.Topics)
	if !in.Consent.Marketing {
		p.Add("consent.marketing", "must be true: updates are sent only with your consent")
	}
	in.Consent.NoticeVersion = checkText(&p, "consent.notice_version", in.Consent.NoticeVersion, 40, true)
	return p.Err()
}

func itoa(i int) string { return strconv.Itoa(i) }

// Subscribed is the answer to a subscription: the subscription as recorded, or Ignored for a
// request the form guard took for a script.
type Subscribed struct {
	ID      string   `json:"id"`
	Topics  []string `json:"topics"`
	Active  bool     `json:"active"`
	Ignored bool     `json:"-"`
}

// Subscribe records a subscription (or renews the person's existing one) with its consent.
func (s *Service) Subscribe(ctx context.Context, a *gradpath.Actor, in SubscriptionInput) (Subscribed, error) {
	ignore, nonce, tokenErr := s.guard(a, in.Website, in.FormToken)
	if ignore {
		return Subscribed{Ignored: true}, nil
	}
	var p gradpath.Problems
	p.Merge("", in.validate(s.cfg.Region))
	p.Merge("", tokenErr)
	if err := p.Err(); err != nil {
		return Subscribed{}, err
	}
	now := s.now()
	var sub Subscription
	err := s.store.Write(ctx, func(tx Tx) error {
		if nonce != "" {
			if err := tx.UseFormToken(ctx, nonce, now.Add(s.cfg.Guard.MaxAge+time.Hour)); err != nil {
				return err
			}
		}
		var err error
		sub, err = tx.UpsertSubscription(ctx, Subscription{ID: gradpath.NewID("sub_"), Name: in.Name, Email: in.Email, Phone: in.Phone,
			Topics: in.Topics, Active: true, CreatedAt: now, UpdatedAt: now})
		if err != nil {
			return err
		}
		return tx.AddConsent(ctx, ConsentRecord{SubjectID: sub.ID, Purpose: PurposeMarketing, Granted: true,
			NoticeVersion: in.Consent.NoticeVersion, At: now, IP: a.IP, UserAgent: a.UserAgent})
	})
	if err != nil {
		return Subscribed{}, err
	}
	return Subscribed{ID: sub.ID, Topics: sub.Topics, Active: sub.Active}, nil
}

// WithdrawInput withdraws a consent, by the email or phone it was given with.
type WithdrawInput struct {
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
	// Purpose is marketing (the default: updates and newsletters stop) or contact (nobody
	// calls or writes about the person's requests any more; they close).
	Purpose string `json:"purpose,omitempty"`
}

// Withdraw withdraws a person's consent at once, wherever they gave it: by the email or phone
// given, and by every other email and phone their leads know them by (a subscription made with
// the phone stops too when the withdrawal names the email). Marketing: every subscription and
// lead stops receiving updates. Contact: every lead closes. Each one's consent ledger gets the
// withdrawal, and the person a confirmation. It answers the same whether or not anything matched.
func (s *Service) Withdraw(ctx context.Context, a *gradpath.Actor, in WithdrawInput) error {
	var p gradpath.Problems
	email := normalizeEmail(&p, "email", in.Email)
	phone := phoneField(&p, "phone", in.Phone, s.cfg.Region)
	if email == "" && phone == "" && p.Len() == 0 {
		p.Add("email", "give the email or phone number you gave us")
	}
	purpose := in.Purpose
	if purpose == "" {
		purpose = PurposeMarketing
	}
	if purpose != PurposeMarketing && purpose != PurposeContact {
		p.Add("purpose", "%q is not a purpose; use marketing or contact (for erasure, ask the agency)", in.Purpose)
	}
	if err := p.Err(); err != nil {
		return err
	}
	now := s.now()
	return s.store.Write(ctx, func(tx Tx) error {
		// Everything the person is known by: the contact given, and their leads' others.
		emails, phones := []string{}, []string{}
		if email != "" {
			emails = append(emails, email)
		}
		if phone != "" {
			phones = append(phones, phone)
		}
		leadIDs, err := tx.LeadIDsByContact(ctx, email, phone)
		if err != nil {
			return err
		}
		for _, id := range leadIDs {
			l, err := tx.Lead(ctx, id)
			if err != nil {
				return err
			}
			if l.Email != "" {
				emails = appendNew(emails, l.Email)
			}
			if l.Phone != "" {
				phones = appendNew(phones, l.Phone)
			}
			for _, e := range l.OtherEmails {
				emails = appendNew(emails, e)
			}
			for _, p := range l.OtherPhones {
				phones = appendNew(phones, p)
			}
		}
		if purpose == PurposeContact {
			if err := s.withdrawContact(ctx, tx, a, leadIDs, now); err != nil {
				return err
			}
		} else {
			var ids []string
			for i := 0; i < max(len(emails), len(phones)); i++ {
				e, ph := "", ""
				if i < len(emails) {
					e = emails[i]
				}
				if i < len(phones) {
					ph = phones[i]
				}
				stopped, err := tx.StopMarketing(ctx, e, ph, now)
				if err != nil {
					return err
				}
				for _, id := range stopped {
					ids = appendNew(ids, id)
				}
			}
			for _, id := range ids {
				if err := tx.AddConsent(ctx, ConsentRecord{SubjectID: id, Purpose: PurposeMarketing, Granted: false,
					NoticeVersion: "withdrawal", At: now, IP: a.IP, UserAgent: a.UserAgent}); err != nil {
					return err
				}
			}
			if len(ids) == 0 {
				return nil
			}
		}
		if purpose == PurposeContact && len(leadIDs) == 0 {
			return nil
		}
		// The person gets a confirmation, sent only if something was withdrawn.
		for _, to := range emails {
			if err := tx.Enqueue(ctx, withdrawalMail(to, purpose)); err != nil {
				return err
			}
		}
		// Other systems stop too: which leads, which purpose, not who.
		return s.emit(ctx, tx, outbox.ConsentWithdrawn, "", map[string]any{"purpose": purpose, "lead_ids": leadIDs})
	})
}

// Subscriptions lists the active subscriptions (the people updates may go to), for admins.
func (s *Service) Subscriptions(ctx context.Context, a *gradpath.Actor, limit int) ([]Subscription, error) {
	if !a.Has(gradpath.RoleAdmin) {
		return nil, gradpath.Errorf(gradpath.CodeForbidden, "subscriptions are for admins")
	}
	return s.store.Subscriptions(ctx, limit)
}
