package httpapi

// RoutePatterns lists the ServeMux patterns of the API's route table, for tests.
func RoutePatterns(d Deps) ([]string, error) {
	s, err := NewServer(d)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(s.routes))
	for i, r := range s.routes {
		out[i] = r.pattern
	}
	return out, nil
}
