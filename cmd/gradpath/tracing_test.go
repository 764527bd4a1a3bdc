package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/storetest"
)

// One request's trace reaches a real collector: a lead sent with a traceparent of the test's
// is a trace of the HTTP server span, the leads service, the store's transaction and the
// notification job that ran after it, and the request's log line names the trace.
func TestTraces(t *testing.T) {
	t.Parallel()
	j := storetest.StartJaeger(t)
	s := startBinary(t, []string{"GRADPATH_FORM_MIN_AGE=0s"}, "--demo", "--otlp-endpoint", j.OTLP)
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	form := s.withToken(t, `{"kind": "callback", "name": "Riya Sharma", "phone": "98765 43210",
		"consent": {"contact": true, "notice_version": "2026-11-01"}}`)
	res, body := s.call(t, "POST", "/api/v1/leads", "application/json", strings.NewReader(form),
		"traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	if res.StatusCode != 201 {
		t.Fatalf("POST /api/v1/leads: %d %s", res.StatusCode, body)
	}

	want := map[string]func(storetest.Span) bool{
		"the request's server span": func(sp storetest.Span) bool {
			return sp.OperationName == "POST /api/v1/leads" && sp.Tag("http.response.status_code") == float64(201) &&
				len(sp.References) == 1 && sp.References[0].SpanID == "00f067aa0ba902b7"
		},
		"the leads service":    func(sp storetest.Span) bool { return sp.OperationName == "leads.(*Service).Create" },
		"the store's write":    func(sp storetest.Span) bool { return strings.HasPrefix(sp.OperationName, "sqlstore.(*LeadStore).") },
		"the notification job": func(sp storetest.Span) bool { return strings.HasPrefix(sp.OperationName, "job ") },
	}
	var spans []storetest.Span
	missing := []string{}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		spans, missing = j.Trace(t, traceID), nil
		for what, match := range want {
			found := false
			for _, sp := range spans {
				found = found || match(sp)
			}
			if !found {
				missing = append(missing, what)
			}
		}
		if len(missing) == 0 {
			break
		}
	}
	if len(missing) > 0 {
		var names []string
		for _, sp := range spans {
			names = append(names, sp.OperationName)
		}
		t.Fatalf("the trace lacks %v; it has %v", missing, names)
	}
	for _, sp := range spans {
		for _, tag := range sp.Tags {
			if v, ok := tag.Value.(string); ok && (strings.Contains(v, "Riya") || strings.Contains(v, "98765")) {
				t.Errorf("span %s carries personal data in %s: %q", sp.OperationName, tag.Key, v)
			}
		}
	}

	// The access log line of the request carries the trace id.
	found := false
	for _, line := range strings.Split(s.stderr.String(), "\n") {
		var entry struct {
			Msg, Path string
			TraceID   string `json:"trace_id"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "request" && entry.Path == "/api/v1/leads" {
			found = true
			if entry.TraceID != traceID {
				t.Errorf("the request's log line has trace_id %q, want %s: %s", entry.TraceID, traceID, line)
			}
		}
	}
	if !found {
		t.Errorf("no log line for the request:\n%s", s.stderr)
	}
}
