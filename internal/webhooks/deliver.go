package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/gradpath/gradpath/internal/gradpath"
)

// MaxAttempts is how often a delivery is tried: with the job queue's backoff (attempt⁴
// seconds, with jitter) the last attempt comes about a day after the first.
const MaxAttempts = 13

// client is the HTTP client of deliveries: it connects only to allowed addresses, checked
// when it dials (after any DNS answer, so that a name cannot be pointed inside later), does
// not follow redirects, and gives up after 15 seconds.
func (s *Service) client() *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return err
		}
		if ip := net.ParseIP(host); ip == nil || !s.addrs.Allowed(ip) {
			return fmt.Errorf("%s is a loopback or private address, and webhook_allow_private is off", host)
		}
		return nil
	}}
	return &http.Client{
		Timeout:       15 * time.Second,
		Transport:     &http.Transport{DialContext: dialer.DialContext, Proxy: nil, MaxIdleConnsPerHost: 4, IdleConnTimeout: 90 * time.Second},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Deliver sends an event to an endpoint, attempt being the try's number (from 1), and logs
// the attempt. An answer other than 2xx, or none, is an error: the job queue tries again
// later. An endpoint removed or switched off meanwhile gets nothing.
func (s *Service) Deliver(ctx context.Context, endpointID string, ev Event, attempt int) error {
	e, err := s.store.Endpoint(ctx, endpointID)
	if gradpath.ErrorCode(err) == gradpath.CodeNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if !e.Active {
		return nil
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	now := s.now()
	ts := now.Unix()
	sig, err := Sign(e.Secret, ev.ID, ts, body)
	if err != nil {
		return err
	}
	if e.PreviousSecret != "" && e.PreviousUntil != nil && now.Before(*e.PreviousUntil) {
		old, err := Sign(e.PreviousSecret, ev.ID, ts, body)
		if err != nil {
			return err
		}
		sig += " " + old // a receiver still on the previous secret verifies as well
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "gradpath-webhooks")
	req.Header.Set("webhook-id", ev.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", sig)
	d := Delivery{ID: gradpath.NewID("dlv_"), Endpoint: e.ID, EventID: ev.ID, EventType: ev.Type, Attempt: attempt, At: now.UTC().Truncate(time.Microsecond), Payload: body}
	res, err := s.client().Do(req)
	if err != nil {
		d.Status, d.Error = Failed, trim(err.Error(), 300)
	} else {
		excerpt, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		res.Body.Close()
		d.Code, d.Excerpt = res.StatusCode, trim(string(excerpt), 300)
		d.Status = Failed
		if res.StatusCode >= 200 && res.StatusCode < 300 {
			d.Status = Delivered
		}
	}
	if err := s.store.AddDelivery(ctx, d); err != nil {
		return err
	}
	if s.Delivered != nil {
		s.Delivered(ev.Type, string(d.Status))
	}
	if d.Status != Delivered {
		if attempt >= MaxAttempts {
			// A day of failures: the endpoint is switched off and the admins are told.
			e.Active, e.DisabledReason, e.UpdatedAt = false, fmt.Sprintf("%d attempts over a day failed; the last: %s", attempt, d.describe()), d.At
			if err := s.store.UpdateEndpoint(ctx, e); err != nil {
				return err
			}
			_ = s.Refresh(ctx)
			if s.Disabled != nil {
				s.Disabled(ctx, e)
			}
			return nil
		}
		if d.Error != "" {
			return errors.New("webhook delivery: " + d.Error)
		}
		return fmt.Errorf("webhook delivery: the endpoint answered %d", d.Code)
	}
	return nil
}

func (d Delivery) describe() string {
	if d.Error != "" {
		return d.Error
	}
	return fmt.Sprintf("the endpoint answered %d", d.Code)
}

func trim(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}
