package httpapi

import "net/http"

// RoutePatterns lists the ServeMux patterns of a Server's route table, for tests.
func RoutePatterns(h http.Handler) []string {
	s := h.(*Server)
	out := make([]string, len(s.routes))
	for i, r := range s.routes {
		out[i] = r.pattern
	}
	return out
}
