package edge

import (
	"net/http"

	"github.com/rs/cors"
)

// CORS lets the named origins (an agency's own website) call public endpoints from a browser,
// without credentials: no cookie or Authorization travels cross-site, so nothing signed-in is
// reachable that way. The preflight of a disallowed origin gets no Access-Control-Allow-Origin,
// and the browser refuses.
type CORS struct {
	origins []string
}

// NewCORS allows origins such as https://www.agency.example; empty allows none.
func NewCORS(origins []string) *CORS { return &CORS{origins: origins} }

// Wrap answers preflights for the given methods of one path and adds the CORS headers to the
// real requests h answers. Without allowed origins it returns h as it is.
func (c *CORS) Wrap(methods []string, h http.Handler) http.Handler {
	if len(c.origins) == 0 {
		return h
	}
	return cors.New(cors.Options{
		AllowedOrigins:   c.origins,
		AllowedMethods:   methods,
		AllowedHeaders:   []string{"Content-Type", "Accept", "Idempotency-Key", "If-None-Match", "X-Request-Id"},
		ExposedHeaders:   []string{"ETag", "Retry-After", "X-Request-Id", "Idempotent-Replayed", "Location"},
		MaxAge:           600,
		AllowCredentials: false,
	}).Handler(h)
}

// Enabled reports whether any origin is allowed.
func (c *CORS) Enabled() bool { return len(c.origins) > 0 }
