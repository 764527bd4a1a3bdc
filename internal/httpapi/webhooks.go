package httpapi

import (
	"net/http"

	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/webhooks"
)

// WebhookList is every registered endpoint, without secrets.
type WebhookList struct {
	Items []webhooks.Endpoint `json:"items"`
}

// DeliveryList is an endpoint's delivery attempts, newest first.
type DeliveryList struct {
	Items []webhooks.Delivery `json:"items"`
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) error {
	var in webhooks.Input
	if err := decodeJSON(w, r, &in, "application/json"); err != nil {
		return err
	}
	c, err := s.Webhooks.Create(r.Context(), actor(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/webhooks/"+c.ID)
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, r, http.StatusCreated, c)
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	eps, err := s.Webhooks.List(r.Context(), actor(r))
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, WebhookList{Items: eps})
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	if err := s.Webhooks.Delete(r.Context(), actor(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) webhookDeliveries(w http.ResponseWriter, r *http.Request) error {
	qp := newQuery(r, "limit")
	limit := qp.limit(50, 500)
	if err := qp.err(); err != nil {
		return err
	}
	ds, err := s.Webhooks.Deliveries(r.Context(), actor(r), r.PathValue("id"), limit)
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, DeliveryList{Items: ds})
}

func (s *Server) rotateWebhook(w http.ResponseWriter, r *http.Request) error {
	rot, err := s.Webhooks.Rotate(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, r, http.StatusOK, rot)
}

// WebhookChange switches an endpoint on or off.
type WebhookChange struct {
	Active *bool `json:"active"`
}

func (s *Server) patchWebhook(w http.ResponseWriter, r *http.Request) error {
	var in WebhookChange
	if err := decodeJSON(w, r, &in, "application/merge-patch+json"); err != nil {
		return err
	}
	if in.Active == nil {
		return gradpath.Invalid("active", "give true or false")
	}
	e, err := s.Webhooks.SetActive(r.Context(), actor(r), r.PathValue("id"), *in.Active)
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, e)
}

// Redelivery names the event to send again.
type Redelivery struct {
	EventID string `json:"event_id"`
}

func (s *Server) redeliverWebhook(w http.ResponseWriter, r *http.Request) error {
	var in Redelivery
	if err := decodeJSON(w, r, &in, "application/json"); err != nil {
		return err
	}
	if in.EventID == "" {
		return gradpath.Invalid("event_id", "give the event_id of a delivery in the log")
	}
	if err := s.Webhooks.Redeliver(r.Context(), actor(r), r.PathValue("id"), in.EventID); err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusAccepted, Redelivery{EventID: in.EventID})
}
