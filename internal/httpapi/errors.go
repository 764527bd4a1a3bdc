package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"

	"github.com/gradpath/gradpath/internal/gradpath"
)

// codeMethodNotAllowed is the one problem that only HTTP has: a path that exists, asked with a
// method it does not accept.
const codeMethodNotAllowed gradpath.Code = "method_not_allowed"

// StatusFor maps an error code to its HTTP status. It is the only such table.
func StatusFor(code gradpath.Code) int {
	switch code {
	case gradpath.CodeInvalid:
		return http.StatusBadRequest
	case gradpath.CodeUnauthorized:
		return http.StatusUnauthorized
	case gradpath.CodeForbidden:
		return http.StatusForbidden
	case gradpath.CodeNotFound:
		return http.StatusNotFound
	case gradpath.CodeConflict:
		return http.StatusConflict
	case gradpath.CodePrecondition:
		return http.StatusPreconditionFailed
	case gradpath.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case gradpath.CodeUnsupported:
		return http.StatusUnsupportedMediaType
	case gradpath.CodeUnprocessable:
		return http.StatusUnprocessableEntity
	case gradpath.CodeRateLimited:
		return http.StatusTooManyRequests
	case gradpath.CodeUnavailable:
		return http.StatusServiceUnavailable
	case codeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	}
	return http.StatusInternalServerError
}

// titles are the short, constant summaries of each problem type.
var titles = map[gradpath.Code]string{
	gradpath.CodeInvalid:       "Invalid request",
	gradpath.CodeUnauthorized:  "Authentication required",
	gradpath.CodeForbidden:     "Not allowed",
	gradpath.CodeNotFound:      "Not found",
	gradpath.CodeConflict:      "Conflict",
	gradpath.CodePrecondition:  "Precondition failed",
	gradpath.CodeTooLarge:      "Request too large",
	gradpath.CodeUnsupported:   "Unsupported media type",
	gradpath.CodeUnprocessable: "Cannot process request",
	gradpath.CodeRateLimited:   "Too many requests",
	gradpath.CodeUnavailable:   "Service unavailable",
	gradpath.CodeInternal:      "Internal error",
	codeMethodNotAllowed:       "Method not allowed",
}

// Problem is an RFC 9457 problem details document.
type Problem struct {
	// Type identifies the kind of problem; it is stable and resolves to a description.
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	// Detail says what went wrong with this request, in words a person reads.
	Detail   string `json:"detail"`
	Instance string `json:"instance,omitempty"`
	// Code is the error code, the same as the last segment of Type.
	Code      gradpath.Code `json:"code"`
	RequestID string        `json:"request_id,omitempty"`
	// Errors names each offending field, query parameter or header.
	Errors []gradpath.FieldError `json:"errors,omitempty"`
}

// problemType is the type URI of a code, relative to the server so that it resolves on every
// deployment.
func problemType(code gradpath.Code) string { return "/problems/" + string(code) }

// writeProblem renders err as problem+json. Internal errors are logged with their cause; the
// client sees only a generic sentence and the request id to quote.
func (s *Server) writeProblem(w http.ResponseWriter, r *http.Request, err error) {
	code := gradpath.ErrorCode(err)
	if errors.Is(err, context.Canceled) {
		// The client went away; there is nobody to answer.
		code = gradpath.CodeUnavailable
	}
	status := StatusFor(code)
	rid := requestID(r.Context())
	if code == gradpath.CodeInternal {
		s.logger.LogAttrs(r.Context(), slog.LevelError, "internal error",
			slog.String("request_id", rid), slog.String("route", r.Pattern), slog.String("error", err.Error()))
	}
	p := Problem{
		Type:      problemType(code),
		Title:     titles[code],
		Status:    status,
		Detail:    gradpath.ErrorMessage(err),
		Instance:  r.URL.Path,
		Code:      code,
		RequestID: rid,
		Errors:    gradpath.ErrorFields(err),
	}
	if code == gradpath.CodeInternal {
		p.Detail = "Something went wrong on our side. If it happens again, quote request id " + rid + "."
	}
	body, _ := json.Marshal(p)
	if ext := gradpath.ExtensionsOf(err); len(ext) > 0 {
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		for k, v := range ext {
			if _, taken := m[k]; !taken {
				m[k] = v
			}
		}
		body, _ = json.Marshal(m)
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	h.Set("Cache-Control", "no-store")
	switch code {
	case gradpath.CodeRateLimited:
		secs := int64(math.Ceil(gradpath.RetryAfterOf(err).Seconds()))
		h.Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
	case gradpath.CodeUnauthorized:
		// RFC 6750: say how to authenticate, and whether the token sent was the problem.
		if r.Header.Get("Authorization") != "" {
			h.Set("WWW-Authenticate", `Bearer realm="gradpath", error="invalid_token"`)
		} else {
			h.Set("WWW-Authenticate", `Bearer realm="gradpath"`)
		}
	}
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}
