package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/webhooks"
)

// WebhookStore keeps webhook endpoints and their delivery log.
type WebhookStore struct{ db *DB }

var _ webhooks.Store = (*WebhookStore)(nil)

// NewWebhookStore returns the webhook store of db.
func NewWebhookStore(db *DB) *WebhookStore { return &WebhookStore{db: db} }

const endpointColumns = `id, url, events, description, secret, previous_secret, previous_until, active, disabled_reason, created_by, created_at, updated_at`

func scanEndpoint(r scanner) (webhooks.Endpoint, error) {
	var e webhooks.Endpoint
	var events string
	var until sql.NullTime
	if err := r.Scan(&e.ID, &e.URL, &events, &e.Description, &e.Secret, &e.PreviousSecret, &until, &e.Active, &e.DisabledReason,
		&e.CreatedBy, &e.CreatedAt, &e.UpdatedAt); err != nil {
		return e, err
	}
	if until.Valid {
		t := until.Time.UTC()
		e.PreviousUntil = &t
	}
	e.CreatedAt, e.UpdatedAt = e.CreatedAt.UTC(), e.UpdatedAt.UTC()
	return e, json.Unmarshal([]byte(events), &e.Events)
}

// UpdateEndpoint implements webhooks.Store: its secrets and state.
func (s *WebhookStore) UpdateEndpoint(ctx context.Context, e webhooks.Endpoint) error {
	res, err := s.db.write.ExecContext(ctx, s.db.q(`UPDATE webhook_endpoints SET secret = ?, previous_secret = ?, previous_until = ?, active = ?,
		disabled_reason = ?, updated_at = ? WHERE id = ?`), e.Secret, e.PreviousSecret, nullTime(e.PreviousUntil), e.Active, e.DisabledReason, utc(e.UpdatedAt), e.ID)
	if err != nil {
		return wrap(err, "update webhook endpoint")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return gradpath.NotFound("webhook", e.ID)
	}
	return nil
}

// CreateEndpoint implements webhooks.Store.
func (s *WebhookStore) CreateEndpoint(ctx context.Context, e webhooks.Endpoint) error {
	events, _ := json.Marshal(e.Events)
	_, err := s.db.write.ExecContext(ctx, s.db.q(`INSERT INTO webhook_endpoints (`+endpointColumns+`) VALUES (`+placeholders(12)+`)`),
		e.ID, e.URL, string(events), e.Description, e.Secret, e.PreviousSecret, nullTime(e.PreviousUntil), e.Active, e.DisabledReason,
		e.CreatedBy, utc(e.CreatedAt), utc(e.UpdatedAt))
	return wrap(err, "create webhook endpoint")
}

// Endpoints implements webhooks.Store.
func (s *WebhookStore) Endpoints(ctx context.Context) ([]webhooks.Endpoint, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints ORDER BY created_at, id`)
	if err != nil {
		return nil, wrap(err, "webhook endpoints")
	}
	defer rows.Close()
	out := []webhooks.Endpoint{}
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			return nil, wrap(err, "webhook endpoints")
		}
		out = append(out, e)
	}
	return out, wrap(rows.Err(), "webhook endpoints")
}

// Endpoint implements webhooks.Store.
func (s *WebhookStore) Endpoint(ctx context.Context, id string) (webhooks.Endpoint, error) {
	e, err := scanEndpoint(s.db.read.QueryRowContext(ctx, s.db.q(`SELECT `+endpointColumns+` FROM webhook_endpoints WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return e, gradpath.NotFound("webhook", id)
	}
	return e, wrap(err, "webhook endpoint")
}

// DeleteEndpoint implements webhooks.Store.
func (s *WebhookStore) DeleteEndpoint(ctx context.Context, id string) error {
	res, err := s.db.write.ExecContext(ctx, s.db.q(`DELETE FROM webhook_endpoints WHERE id = ?`), id)
	if err != nil {
		return wrap(err, "delete webhook endpoint")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return gradpath.NotFound("webhook", id)
	}
	return nil
}

// AddDelivery implements webhooks.Store.
func (s *WebhookStore) AddDelivery(ctx context.Context, d webhooks.Delivery) error {
	_, err := s.db.write.ExecContext(ctx, s.db.q(`INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, attempt, status,
		response_code, response_excerpt, error, payload, at) VALUES (`+placeholders(11)+`)`),
		d.ID, d.Endpoint, d.EventID, d.EventType, d.Attempt, d.Status, d.Code, d.Excerpt, d.Error, string(d.Payload), utc(d.At))
	return wrap(err, "log webhook delivery")
}

// Deliveries implements webhooks.Store: the newest first.
func (s *WebhookStore) Deliveries(ctx context.Context, endpointID string, limit int) ([]webhooks.Delivery, error) {
	rows, err := s.db.read.QueryContext(ctx, s.db.q(`SELECT id, endpoint_id, event_id, event_type, attempt, status, response_code, response_excerpt, error, payload, at
		FROM webhook_deliveries WHERE endpoint_id = ? ORDER BY at DESC, attempt DESC LIMIT ?`), endpointID, limit)
	if err != nil {
		return nil, wrap(err, "webhook deliveries")
	}
	defer rows.Close()
	out := []webhooks.Delivery{}
	for rows.Next() {
		var d webhooks.Delivery
		var payload string
		if err := rows.Scan(&d.ID, &d.Endpoint, &d.EventID, &d.EventType, &d.Attempt, &d.Status, &d.Code, &d.Excerpt, &d.Error, &payload, &d.At); err != nil {
			return nil, wrap(err, "webhook deliveries")
		}
		d.At, d.Payload = d.At.UTC(), json.RawMessage(payload)
		out = append(out, d)
	}
	return out, wrap(rows.Err(), "webhook deliveries")
}
