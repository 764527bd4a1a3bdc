package httpapi

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/gradpath/gradpath/internal/gradpath"
)

// writeJSON encodes v with status. A 200 answer to GET or HEAD carries a strong ETag of its
// body, and an If-None-Match that names it gets 304 with no body.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return gradpath.Internal(fmt.Errorf("encode response: %w", err))
	}
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if status == http.StatusOK && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		etag := bodyETag(body)
		h.Set("ETag", etag)
		h.Set("Cache-Control", "no-cache")
		if etagMatch(r.Header.Get("If-None-Match"), etag) {
			w.WriteHeader(http.StatusNotModified)
			return nil
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
	return nil
}

// writeBody sends a ready JSON body with an ETag: etag when given (a version-derived tag, cheap
// to make), else a hash of the body.
func writeBody(w http.ResponseWriter, r *http.Request, body []byte, etag string) error {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if etag == "" {
		etag = bodyETag(body)
	}
	h.Set("ETag", etag)
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-cache")
	}
	if etagMatch(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
	return nil
}

func hashString(s string) string {
	h := fnv.New64a()
	h.Write([]byte(s))
	return strconv.FormatUint(h.Sum64(), 36)
}

// etagMatch reports whether an If-None-Match header names etag (weak comparison, RFC 9110).
func etagMatch(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

// query reads query parameters strictly: a parameter the endpoint does not know is an error
// (a typo such as "contry" must not silently widen a search), and so is a single-valued
// parameter given twice. Problems are collected so that one answer names them all.
type query struct {
	v url.Values
	p gradpath.Problems
}

func newQuery(r *http.Request, known ...string) *query {
	q := &query{v: r.URL.Query()}
	allowed := make(map[string]bool, len(known))
	for _, k := range known {
		allowed[k] = true
	}
	var unknown []string
	for k := range q.v {
		if !allowed[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for k, vs := range q.v {
		for _, v := range vs {
			if strings.ContainsRune(v, 0) {
				q.p.Add(k, "contains a NUL character, which cannot be stored; remove it")
			}
		}
	}
	for _, k := range unknown {
		if len(known) == 0 {
			q.p.Add(k, "is not a parameter of this endpoint, which takes none")
			continue
		}
		q.p.Add(k, "is not a parameter of this endpoint; it accepts %s", strings.Join(known, ", "))
	}
	return q
}

// one returns a single-valued parameter, or "".
func (q *query) one(name string) string {
	vs := q.v[name]
	if len(vs) > 1 {
		q.p.Add(name, "is given %d times; give it once", len(vs))
	}
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// list returns a multi-valued parameter, given repeated or comma-separated.
func (q *query) list(name string) []string {
	var out []string
	for _, v := range q.v[name] {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// limit returns the page size, or def when absent.
func (q *query) limit(def, max int) int {
	s := q.one("limit")
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		q.p.Add("limit", "%q is not a whole number from 1 to %d", s, max)
		return def
	}
	return n
}

func (q *query) err() error { return q.p.Err() }
