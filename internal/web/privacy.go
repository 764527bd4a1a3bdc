package web

import (
	"net/http"
	"strings"

	"github.com/gradpath/gradpath/internal/edge"
	"github.com/gradpath/gradpath/internal/leads"
)

// notice is the privacy notice in force, which every consent form shows and links; when it
// cannot be read the form still works under the built-in one.
func (p *Pages) notice(r *http.Request) leads.Notice {
	n, err := p.Leads.CurrentNotice(r.Context())
	if err != nil {
		return leads.DefaultNotice
	}
	return n
}

// noticeVersion is the version a form says it showed: the one it carried, when it is a
// version that exists, else the one in force.
func (p *Pages) noticeVersion(r *http.Request) string {
	if v := strings.TrimSpace(r.PostFormValue("notice_version")); v != "" {
		if n, err := p.Leads.Notice(r.Context(), v); err == nil {
			return n.Version
		}
	}
	return p.notice(r).Version
}

// privacy shows the privacy notice in force, or the version named, with every version listed.
func (p *Pages) privacy(w http.ResponseWriter, r *http.Request) error {
	n := p.notice(r)
	if v := r.PathValue("version"); v != "" {
		var err error
		if n, err = p.Leads.Notice(r.Context(), v); err != nil {
			return missing(err, "No such version", "There is no privacy notice of that version. The current one is at /privacy.")
		}
	}
	all, err := p.Leads.Notices(r.Context())
	if err != nil {
		all = nil
	}
	current := p.notice(r).Version
	p.render(w, r, http.StatusOK, "privacy", n.Title, map[string]any{"Notice": n, "Paragraphs": strings.Split(n.Body, "\n\n"),
		"Versions": all, "Current": current})
	return nil
}

func (p *Pages) adminPrivacy(w http.ResponseWriter, r *http.Request) error {
	if _, _, ok := p.admins(w, r); !ok {
		return nil
	}
	n := p.notice(r)
	return p.renderAdminPrivacy(w, r, http.StatusOK, map[string]string{"title": n.Title, "body": n.Body}, map[string]string{})
}

func (p *Pages) renderAdminPrivacy(w http.ResponseWriter, r *http.Request, status int, values, errs map[string]string) error {
	all, err := p.Leads.Notices(r.Context())
	if err != nil {
		return failed("The privacy notices could not be read", err)
	}
	p.render(w, r, status, "privacyadmin", "Privacy notice", map[string]any{"Versions": all, "Values": values, "Errors": errs})
	return nil
}

// publishPrivacy publishes a new version of the notice; earlier versions stay readable.
func (p *Pages) publishPrivacy(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.admins, 96<<10)
	if !ok {
		return nil
	}
	values := map[string]string{"title": strings.TrimSpace(r.PostFormValue("title")), "body": r.PostFormValue("body")}
	n, err := p.Leads.PublishNotice(r.Context(), a, values["title"], values["body"])
	if err != nil {
		return p.renderAdminPrivacy(w, r, edge.StatusOf(err), values, p.formErrors(w, r, err, func(f string) string { return f }))
	}
	http.Redirect(w, r, "/privacy/"+n.Version, http.StatusSeeOther)
	return nil
}

// guardianForm is where a minor's guardian, following the emailed link, reads whose request
// it is and what we do with the details, and confirms their consent.
func (p *Pages) guardianForm(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	req, err := p.Leads.Guardian(r.Context(), q.Get("lead"), q.Get("token"))
	if err != nil {
		return missing(err, "This link is not valid", "It may be old, or the request was erased. Ask the counsellor for a new one.")
	}
	w.Header().Set("Cache-Control", "private, no-store") // the link is a key
	p.render(w, r, http.StatusOK, "guardian", "A guardian's consent", map[string]any{"Request": req, "Token": q.Get("token"),
		"Notice": p.notice(r)})
	return nil
}

func (p *Pages) confirmGuardian(w http.ResponseWriter, r *http.Request) error {
	if !p.publicForm(w, r, 4<<10) {
		return nil
	}
	lead, token := r.PostFormValue("lead"), r.PostFormValue("token")
	if r.PostFormValue("consent") != "yes" {
		req, err := p.Leads.Guardian(r.Context(), lead, token)
		if err != nil {
			return missing(err, "This link is not valid", "It may be old, or the request was erased. Ask the counsellor for a new one.")
		}
		p.render(w, r, http.StatusBadRequest, "guardian", "A guardian's consent", map[string]any{"Request": req, "Token": token,
			"Notice": p.notice(r), "Error": "Tick the box to give your consent, or close this page to refuse it."})
		return nil
	}
	if err := p.Leads.ConfirmGuardian(r.Context(), edge.Anonymous(r), lead, token, p.noticeVersion(r)); err != nil {
		return missing(err, "This link is not valid", "It may be old, or the request was erased. Ask the counsellor for a new one.")
	}
	w.Header().Set("Cache-Control", "private, no-store")
	p.render(w, r, http.StatusOK, "guardian", "Thank you", map[string]any{"Done": true})
	return nil
}
