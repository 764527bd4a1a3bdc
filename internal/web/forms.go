package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/gradpath/gradpath/internal/edge"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/leads"
)

const noticeVersion = "2026-11-01"

func (p *Pages) callbackPage(w http.ResponseWriter, r *http.Request, status int, values map[string]string, errs map[string]string) {
	token, _, _ := p.Leads.FormToken()
	title := "Request a callback"
	if values["kind"] == string(leads.Consultation) {
		title = "Ask for a consultation"
	}
	p.render(w, r, status, "callback", title, map[string]any{"Values": values, "Errors": errs, "FormToken": token, "NoticeVersion": noticeVersion})
}

func (p *Pages) callbackForm(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	values := map[string]string{"name": "", "phone": "", "email": "", "contact": "", "marketing": "", "course": q.Get("course"), "country": q.Get("country"), "kind": q.Get("kind")}
	if values["kind"] != string(leads.Consultation) {
		values["kind"] = string(leads.Callback)
	}
	p.callbackPage(w, r, http.StatusOK, values, map[string]string{})
	return nil
}

func (p *Pages) callback(w http.ResponseWriter, r *http.Request) error {
	if !p.publicForm(w, r, 16<<10) {
		return nil
	}
	values := map[string]string{}
	for _, k := range []string{"name", "phone", "email", "course", "country", "contact", "marketing", "kind"} {
		values[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	if msg, ok := p.limited(w, r); !ok {
		p.callbackPage(w, r, http.StatusTooManyRequests, values, map[string]string{"form": msg})
		return nil
	}
	in := leads.Input{Kind: leads.Kind(values["kind"]), Name: values["name"], Phone: values["phone"], Email: values["email"],
		Interest: leads.Interest{Course: values["course"], Country: values["country"]}, Page: r.Referer(),
		Consent: leads.ConsentInput{Contact: values["contact"] == "yes", Marketing: values["marketing"] == "yes", NoticeVersion: noticeVersion},
		Website: r.PostFormValue("website"), FormToken: r.PostFormValue("form_token")}
	actor := edge.Anonymous(r)
	res, err := p.Leads.Create(r.Context(), actor, in, "", "")
	if err != nil {
		errs := map[string]string{}
		for _, f := range gradpath.ErrorFields(err) {
			errs[f.Field] = f.Detail
		}
		if len(errs) == 0 {
			errs["form"] = p.explain(w, r, err)
		}
		p.callbackPage(w, r, edge.StatusOf(err), values, errs)
		return nil
	}
	receipt := res.Receipt
	due := "one business day from now"
	if !receipt.FirstResponseDue.IsZero() {
		cal := p.Leads.Calendar()
		due = receipt.FirstResponseDue.In(cal.Location()).Format("Monday 2 January, 15:04 MST")
	}
	p.render(w, r, http.StatusOK, "thanks", "Thank you", map[string]any{"Due": due})
	return nil
}

// limited takes a token of the per-address limit of the public forms; when there is none it
// sets Retry-After and returns what to tell the person.
func (p *Pages) limited(w http.ResponseWriter, r *http.Request) (string, bool) {
	err := edge.Limit(p.FormLimit, edge.ClientIP(r))
	if err == nil {
		return "", true
	}
	edge.SetRetryAfter(w.Header(), err)
	return fmt.Sprintf("Many requests have come from your address; nothing was lost: send the form again in %d seconds.",
		int(gradpath.RetryAfterOf(err).Seconds())+1), false
}
