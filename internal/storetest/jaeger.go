package storetest

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Jaeger is a real trace collector started for a test (Jaeger v2 with in-memory storage),
// taking OTLP over HTTP and answering Jaeger's query API.
type Jaeger struct {
	OTLP  string // http://host:port, the base URL gradpath's otlp_endpoint takes
	Query string // http://host:port of the query API
}

// jaegerConfig runs receivers and the query API on the ports given, and nothing else.
const jaegerConfig = `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
    traces:
      level: none
extensions:
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: QUERY
    grpc:
      endpoint: GRPC
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 10000
receivers:
  otlp:
    protocols:
      http:
        endpoint: OTLP
processors:
  batch:
    timeout: 100ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`

// StartJaeger starts the Jaeger binary GRADPATH_TEST_JAEGER names; without it the test is
// skipped, or fails in CI.
func StartJaeger(t testing.TB) *Jaeger {
	t.Helper()
	bin := os.Getenv("GRADPATH_TEST_JAEGER")
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("GRADPATH_TEST_JAEGER is not set: CI must send traces to a real collector")
		}
		t.Skip("set GRADPATH_TEST_JAEGER to a Jaeger v2 binary (github.com/jaegertracing/jaeger v1.75.0, ./cmd/jaeger) to test traces")
	}
	otlp, query, grpc := freePort(t), freePort(t), freePort(t)
	conf := strings.NewReplacer("QUERY", query, "GRPC", grpc, "OTLP", otlp).Replace(jaegerConfig)
	file := filepath.Join(t.TempDir(), "jaeger.yaml")
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--config=file:"+file)
	var log SyncBuffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			t.Logf("jaeger:\n%s", log.String())
		}
	})
	j := &Jaeger{OTLP: "http://" + otlp, Query: "http://" + query}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if res, err := http.Get(j.Query + "/api/services"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return j
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("jaeger did not answer within 30 s:\n%s", log.String())
		}
	}
}

// Span is one span of a trace as Jaeger's query API gives it.
type Span struct {
	SpanID        string `json:"spanID"`
	OperationName string `json:"operationName"`
	References    []struct {
		RefType string `json:"refType"`
		SpanID  string `json:"spanID"`
	} `json:"references"`
	Tags []struct {
		Key   string `json:"key"`
		Value any    `json:"value"`
	} `json:"tags"`
	ProcessID string `json:"processID"`
}

// Tag returns a span's tag value, or nil.
func (s Span) Tag(key string) any {
	for _, t := range s.Tags {
		if t.Key == key {
			return t.Value
		}
	}
	return nil
}

// Trace returns the spans Jaeger holds of a trace (none while it holds none).
func (j *Jaeger) Trace(t testing.TB, traceID string) []Span {
	t.Helper()
	res, err := http.Get(j.Query + "/api/traces/" + traceID)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		Data []struct {
			Spans []Span `json:"spans"`
		} `json:"data"`
	}
	if res.StatusCode == http.StatusNotFound {
		return nil
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatalf("jaeger trace %s: %d %v", traceID, res.StatusCode, err)
	}
	var spans []Span
	for _, d := range body.Data {
		spans = append(spans, d.Spans...)
	}
	return spans
}
