package web

import (
	"net/http"
	"strings"

	"github.com/gradpath/gradpath/internal/edge"
	"github.com/gradpath/gradpath/internal/leads"
)

var updatesFields = []string{"name", "email", "phone", "marketing", "newsletter", "stop_email", "stop_phone"}

func (p *Pages) updatesPage(w http.ResponseWriter, r *http.Request, status int, values, errs map[string]string, done string) {
	token, _, _ := p.Leads.FormToken()
	p.render(w, r, status, "updates", "Updates about programmes and deadlines", map[string]any{"Values": values, "Errors": errs,
		"FormToken": token, "NoticeVersion": noticeVersion, "Done": done})
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
		in := leads.WithdrawInput{Email: values["stop_email"], Phone: values["stop_phone"]}
		if in.Email == "" && in.Phone == "" {
			p.updatesPage(w, r, http.StatusBadRequest, values, map[string]string{"stop_email": "Write the email or phone number the updates go to."}, "")
			return nil
		}
		if err := p.Leads.Withdraw(r.Context(), actor, in); err != nil {
			p.updatesPage(w, r, edge.StatusOf(err), values, p.formErrors(w, r, err, func(f string) string { return "stop_" + f }), "")
			return nil
		}
		p.updatesPage(w, r, http.StatusOK, map[string]string{}, map[string]string{}, "stopped")
		return nil
	}
	topics := []string{"updates"}
	if values["newsletter"] == "yes" {
		topics = append(topics, "newsletter")
	}
	in := leads.SubscriptionInput{Name: values["name"], Email: values["email"], Phone: values["phone"], Topics: topics,
		Consent: leads.ConsentInput{Marketing: values["marketing"] == "yes", NoticeVersion: noticeVersion},
		Website: r.PostFormValue("website"), FormToken: r.PostFormValue("form_token")}
	if _, err := p.Leads.Subscribe(r.Context(), actor, in); err != nil {
		p.updatesPage(w, r, edge.StatusOf(err), values, p.formErrors(w, r, err, func(f string) string {
			if f == "consent.marketing" {
				return "marketing"
			}
			return f
		}), "")
		return nil
	}
	p.updatesPage(w, r, http.StatusOK, map[string]string{}, map[string]string{}, "subscribed")
	return nil
}
