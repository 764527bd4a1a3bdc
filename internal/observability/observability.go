// Package observability sets up what operators watch: structured JSON logs, Prometheus
// metrics on a registry of gradpath's own (no global default registry), and request ids.
package observability

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// NewLogger returns a logger writing to w in format "json" or "text" at level "debug",
// "info", "warn" or "error". A line logged with a traced context carries trace_id and span_id.
func NewLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "json", "":
		return slog.New(traceHandler{slog.NewJSONHandler(w, opts)}), nil
	case "text":
		return slog.New(traceHandler{slog.NewTextHandler(w, opts)}), nil
	}
	return nil, fmt.Errorf("log format %q: use json or text", format)
}

// NewRegistry returns a metrics registry with the Go runtime and process collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// RegisterDBPools exports the connection pool statistics of the database pools, labelled by
// pool name ("write", "read").
func RegisterDBPools(reg prometheus.Registerer, pools map[string]*sql.DB) error {
	seen := map[*sql.DB]bool{}
	for name, db := range pools {
		if seen[db] {
			continue
		}
		seen[db] = true
		if err := reg.Register(collectors.NewDBStatsCollector(db, name)); err != nil {
			return err
		}
	}
	return nil
}

// NewRequestID returns a random request id of 16 hex digits.
func NewRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ValidRequestID reports whether an id sent by a client (or a proxy in front) is safe to
// adopt and log: 1–64 letters, digits, '-', '_' or '.'.
func ValidRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}
