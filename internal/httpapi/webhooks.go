package httpapi

import (
	"net/http"

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
