package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/gradpath/gradpath/internal/edge"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/leads"
)

func (p *Pages) callbackPage(w http.ResponseWriter, r *http.Request, status int, values map[string]string, errs map[string]string) {
	token, _, _ := p.Leads.FormToken()
	title := "Request a callback"
	if values["kind"] == string(leads.Consultation) {
		title = "Ask for a consultation"
	}
	p.render(w, r, status, "callback", title, map[string]any{"Values": values, "Errors": errs, "FormToken": token, "Notice": p.notice(r)})
}

func (p *Pages) callbackForm(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	values := map[string]string{"course": q.Get("course"), "country": q.Get("country"), "kind": q.Get("kind")}
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
	for _, k := range append([]string{"name", "phone", "email", "course", "country", "contact", "marketing", "kind"}, ageFields...) {
		values[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	if msg, ok := p.limited(w, r); !ok {
		p.callbackPage(w, r, http.StatusTooManyRequests, values, map[string]string{"form": msg})
		return nil
	}
	under18, guardian, ageErr := ageAnswer(values, "")
	in := leads.Input{Kind: leads.Kind(values["kind"]), Name: values["name"], Phone: values["phone"], Email: values["email"], Under18: under18,
		Interest: leads.Interest{Course: values["course"], Country: values["country"]}, Page: r.Referer(),
		Consent: leads.ConsentInput{Contact: values["contact"] == "yes", Marketing: values["marketing"] == "yes", NoticeVersion: p.noticeVersion(r),
			Guardian: guardian},
		Website: r.PostFormValue("website"), FormToken: r.PostFormValue("form_token")}
	var res leads.Result
	var err error
	if ageErr != nil {
		// Unanswered, nothing is taken; the rest of the form is checked all the same.
		var pr gradpath.Problems
		pr.Merge("", ageErr)
		pr.Merge("", p.Leads.Check(r.Context(), in))
		err = pr.Err()
	} else {
		res, err = p.Leads.Create(r.Context(), edge.Anonymous(r), in, "", "")
	}
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

// ageFields are the form's questions about age: whether the person is under 18, and if so
// who their parent or guardian is.
var ageFields = []string{"age", "guardian_name", "guardian_email"}

// ageAnswer reads the age question of a consent form: under 18 needs a guardian, whose
// name and email the lead rules check. The question must be answered.
func ageAnswer(values map[string]string, prefix string) (bool, *leads.Guardian, error) {
	switch values["age"] {
	case "adult":
		return false, nil, nil
	case "minor":
		var g *leads.Guardian
		if values["guardian_name"] != "" || values["guardian_email"] != "" {
			g = &leads.Guardian{Name: values["guardian_name"], Email: values["guardian_email"]}
		}
		return true, g, nil
	}
	return false, nil, gradpath.Invalid(prefix+"age", "say whether you are 18 or over: under 18, a parent or guardian must consent")
}
