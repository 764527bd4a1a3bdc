package web

import (
	"net/http"
	"strings"

	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/webhooks"
)

// The admins' page for webhook endpoints: register one (its secret shown once), pause or
// resume it, rotate its secret, read its deliveries and send one again.

func (p *Pages) webhooksPage(w http.ResponseWriter, r *http.Request) error {
	a, _, ok := p.admins(w, r)
	if !ok {
		return nil
	}
	return p.renderWebhooks(w, r, a, http.StatusOK, map[string]any{})
}

func (p *Pages) renderWebhooks(w http.ResponseWriter, r *http.Request, a *gradpath.Actor, status int, data map[string]any) error {
	eps, err := p.Webhooks.List(r.Context(), a)
	if err != nil {
		return failed("The webhooks are not available", err)
	}
	data["Endpoints"], data["EventTypes"] = eps, webhooks.EventTypes
	if data["Errors"] == nil {
		data["Errors"] = map[string]string{}
	}
	p.render(w, r, status, "webhooks", "Webhooks", data)
	return nil
}

func (p *Pages) createWebhook(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.admins, 16<<10)
	if !ok {
		return nil
	}
	in := webhooks.Input{URL: strings.TrimSpace(r.PostFormValue("url")), Events: r.PostForm["event"], Description: r.PostFormValue("description")}
	c, err := p.Webhooks.Create(r.Context(), a, in)
	if err != nil {
		errs := p.formErrors(w, r, err, func(f string) string {
			if strings.HasPrefix(f, "events") {
				return "events"
			}
			return f
		})
		return p.renderWebhooks(w, r, a, formStatus(err), map[string]any{"Errors": errs, "Values": in})
	}
	p.Accounts.Record(r.Context(), a, "webhook.created", "", map[string]any{"webhook": c.ID, "events": c.Events})
	return p.renderWebhooks(w, r, a, http.StatusCreated, map[string]any{"Created": c})
}

func (p *Pages) webhookPage(w http.ResponseWriter, r *http.Request) error {
	a, _, ok := p.admins(w, r)
	if !ok {
		return nil
	}
	return p.renderWebhook(w, r, a, http.StatusOK, map[string]any{})
}

func (p *Pages) renderWebhook(w http.ResponseWriter, r *http.Request, a *gradpath.Actor, status int, data map[string]any) error {
	id := r.PathValue("id")
	eps, err := p.Webhooks.List(r.Context(), a)
	if err != nil {
		return failed("The webhooks are not available", err)
	}
	var ep *webhooks.Endpoint
	for i := range eps {
		if eps[i].ID == id {
			ep = &eps[i]
		}
	}
	if ep == nil {
		p.fail(w, r, http.StatusNotFound, "No such webhook", "It may have been removed. See the webhooks.")
		return nil
	}
	ds, err := p.Webhooks.Deliveries(r.Context(), a, id, 100)
	if err != nil {
		return failed("The deliveries are not available", err)
	}
	data["Endpoint"], data["Deliveries"] = ep, ds
	p.render(w, r, status, "webhook", "Webhook "+ep.URL, data)
	return nil
}

// webhookAction rotates the secret, pauses, resumes, removes or redelivers.
func (p *Pages) webhookAction(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.admins, 4<<10)
	if !ok {
		return nil
	}
	id := r.PathValue("id")
	var err error
	data := map[string]any{}
	switch r.PostFormValue("action") {
	case "rotate":
		var rot webhooks.Rotated
		if rot, err = p.Webhooks.Rotate(r.Context(), a, id); err == nil {
			data["Rotated"] = rot
			p.Accounts.Record(r.Context(), a, "webhook.secret_rotated", "", map[string]any{"webhook": id})
		}
	case "pause", "resume":
		_, err = p.Webhooks.SetActive(r.Context(), a, id, r.PostFormValue("action") == "resume")
	case "redeliver":
		if err = p.Webhooks.Redeliver(r.Context(), a, id, r.PostFormValue("event_id")); err == nil {
			data["Notice"] = "The event is queued to be sent again."
		}
	case "remove":
		if err = p.Webhooks.Delete(r.Context(), a, id); err == nil {
			p.Accounts.Record(r.Context(), a, "webhook.removed", "", map[string]any{"webhook": id})
			http.Redirect(w, r, "/admin/webhooks", http.StatusSeeOther)
			return nil
		}
	default:
		err = gradpath.Invalid("action", "use rotate, pause, resume, redeliver or remove")
	}
	if err != nil {
		data["Error"] = p.explain(w, r, err)
		return p.renderWebhook(w, r, a, formStatus(err), data)
	}
	return p.renderWebhook(w, r, a, http.StatusOK, data)
}
