package web

import (
	"net/http"
	"strings"

	"github.com/gradpath/gradpath/internal/edge"
	"github.com/gradpath/gradpath/internal/leads"
)

var updatesFields = []string{"name", "email", "phone", "marketing", "newsletter", "age", "stop_email", "stop_phone", "stop_contact"}

func (p *Pages) updatesPage(w http.ResponseWriter, r *http.Request, status int, values, errs map[string]string, done string) {
	token, _, _ := p.Leads.FormToken()
	p.render(w, r, status, "updates", "Updates about programmes and deadlines", map[string]any{"Values": values, "Errors": errs,
		"FormToken": token, "Notice": p.notice(r), "Done": done})
}

// updates offers the subscription to programme and deadline updates, and the way to stop them.
func (p *Pages) updates(w http.ResponseWriter, r *http.Request) error {
	p.updatesPage(w, r, http.StatusOK, map[string]string{}, map[string]string{}, "")
	return nil
}

// subscribe records a subscription with its consent, or withdraws consent for an address.
func (p *Pages) subscribe(w http.ResponseWriter, r *http.Request) error {
	if !p.publicForm(w, r, 8<<10) {
		return nil
	}
	values := map[string]string{}
	for _, k := range updatesFields {
		values[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	if msg, ok := p.limited(w, r); !ok {
		p.updatesPage(w, r, http.StatusTooManyRequests, values, map[string]string{"form": msg}, "")
		return nil
	}
	actor := edge.Anonymous(r)
	if r.PostFormValue("action") == "stop" {
		in := leads.WithdrawInput{Email: values["stop_email"], Phone: values["stop_phone"], Purpose: leads.PurposeMarketing}
		if values["stop_contact"] == "yes" {
			in.Purpose = leads.PurposeContact
		}
		if in.Email == "" && in.Phone == "" {
			p.updatesPage(w, r, http.StatusBadRequest, values, map[string]string{"stop_email": "Write the email or phone number the updates go to."}, "")
			return nil
		}
		// Updates stop either way; closing the requests withdraws the consent to be contacted too.
		err := p.Leads.Withdraw(r.Context(), actor, leads.WithdrawInput{Email: in.Email, Phone: in.Phone, Purpose: leads.PurposeMarketing})
		if err == nil && in.Purpose == leads.PurposeContact {
			err = p.Leads.Withdraw(r.Context(), actor, in)
		}
		if err != nil {
			p.updatesPage(w, r, edge.StatusOf(err), values, p.formErrors(w, r, err, func(f string) string { return "stop_" + f }), "")
			return nil
		}
		done := "stopped"
		if in.Purpose == leads.PurposeContact {
			done = "closed"
		}
		p.updatesPage(w, r, http.StatusOK, map[string]string{}, map[string]string{}, done)
		return nil
	}
	topics := []string{"updates"}
	if values["newsletter"] == "yes" {
		topics = append(topics, "newsletter")
	}
	if values["age"] != "adult" && values["age"] != "minor" {
		p.updatesPage(w, r, http.StatusBadRequest, values, map[string]string{"age": "Say whether you are 18 or over."}, "")
		return nil
	}
	in := leads.SubscriptionInput{Name: values["name"], Email: values["email"], Phone: values["phone"], Topics: topics,
		Under18: values["age"] == "minor",
		Consent: leads.ConsentInput{Marketing: values["marketing"] == "yes", NoticeVersion: p.noticeVersion(r)},
		Website: r.PostFormValue("website"), FormToken: r.PostFormValue("form_token")}
	if _, err := p.Leads.Subscribe(r.Context(), actor, in); err != nil {
		p.updatesPage(w, r, edge.StatusOf(err), values, p.formErrors(w, r, err, func(f string) string {
			switch f {
			case "consent.marketing":
				return "marketing"
			case "under_18":
				return "age"
			}
			return f
		}), "")
		return nil
	}
	p.updatesPage(w, r, http.StatusOK, map[string]string{}, map[string]string{}, "subscribed")
	return nil
}
