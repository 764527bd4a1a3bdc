package edge

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gradpath/gradpath/internal/gradpath"
)

// CodeMethodNotAllowed is the one problem that only HTTP has: a path that exists, asked with a
// method it does not accept.
const CodeMethodNotAllowed gradpath.Code = "method_not_allowed"

// Status maps an error code to its HTTP status. It is the only such table: the API's problems
// and the pages' error pages and re-shown forms answer with it.
func Status(code gradpath.Code) int {
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
	case gradpath.CodeInsufficientStorage:
		return http.StatusInsufficientStorage
	case CodeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	}
	return http.StatusInternalServerError
}

// StatusOf is the status of an error: Status of its code, and 503 for a request whose client
// went away or whose time ran out.
func StatusOf(err error) int { return Status(CodeOf(err)) }

// CodeOf is the code of an error as the edge answers it: a cancelled or timed-out request is
// unavailable, not internal.
func CodeOf(err error) gradpath.Code {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return gradpath.CodeUnavailable
	}
	return gradpath.ErrorCode(err)
}

// titles are the short, constant summaries of each problem type.
var titles = map[gradpath.Code]string{
	gradpath.CodeInvalid:             "Invalid request",
	gradpath.CodeUnauthorized:        "Authentication required",
	gradpath.CodeForbidden:           "Not allowed",
	gradpath.CodeNotFound:            "Not found",
	gradpath.CodeConflict:            "Conflict",
	gradpath.CodePrecondition:        "Precondition failed",
	gradpath.CodeTooLarge:            "Request too large",
	gradpath.CodeUnsupported:         "Unsupported media type",
	gradpath.CodeUnprocessable:       "Cannot process request",
	gradpath.CodeRateLimited:         "Too many requests",
	gradpath.CodeUnavailable:         "Service unavailable",
	gradpath.CodeInsufficientStorage: "Insufficient storage",
	gradpath.CodeInternal:            "Internal error",
	CodeMethodNotAllowed:             "Method not allowed",
}

// Title is the constant summary of a code's problems.
func Title(code gradpath.Code) string { return titles[code] }

// Codes lists every code the edge answers with, for documents that describe them.
func Codes() []gradpath.Code {
	return []gradpath.Code{gradpath.CodeInvalid, gradpath.CodeUnauthorized, gradpath.CodeForbidden, gradpath.CodeNotFound,
		gradpath.CodeConflict, gradpath.CodePrecondition, gradpath.CodeTooLarge, gradpath.CodeUnsupported,
		gradpath.CodeUnprocessable, gradpath.CodeRateLimited, gradpath.CodeUnavailable, gradpath.CodeInsufficientStorage,
		gradpath.CodeInternal, CodeMethodNotAllowed}
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

// ProblemType is the type URI of a code, relative to the server so that it resolves on every
// deployment.
func ProblemType(code gradpath.Code) string { return "/problems/" + string(code) }

// SafeMessage is what a person may read of an error: its message, except for an internal
// error, which says only that something went wrong and which request id to quote.
func SafeMessage(r *http.Request, err error) string { return SafeMessageIn(r.Context(), err) }

// SafeMessageIn is SafeMessage for the request of ctx.
func SafeMessageIn(ctx context.Context, err error) string {
	if CodeOf(err) == gradpath.CodeInternal {
		return "Something went wrong on our side. If it happens again, quote request id " + RequestID(ctx) + "."
	}
	return gradpath.ErrorMessage(err)
}

// LogInternal logs, with its cause, an error that is the server's and not the caller's: an
// internal one (a bug), and a dependency that is down or a disk that is full (for operators).
// The caller's mistakes are not logged.
func LogInternal(logger *slog.Logger, r *http.Request, err error) {
	LogInternalIn(logger, r.Context(), r.Pattern, err)
}

// LogInternalIn is LogInternal for the request of ctx, served by route.
func LogInternalIn(logger *slog.Logger, ctx context.Context, route string, err error) {
	if logger == nil || errors.Is(err, context.Canceled) {
		return
	}
	level := slog.LevelError
	switch CodeOf(err) {
	case gradpath.CodeInternal:
	case gradpath.CodeUnavailable, gradpath.CodeInsufficientStorage:
		var own *gradpath.Error
		if errors.As(err, &own) && own.Err == nil {
			return // gradpath's own answer (busy, not configured), not a failure to report
		}
		level = slog.LevelWarn
	default:
		return
	}
	logger.LogAttrs(ctx, level, "request failed", slog.String("code", string(CodeOf(err))),
		slog.String("request_id", RequestID(ctx)), slog.String("route", route), slog.String("error", err.Error()))
}

// SetRetryAfter sets Retry-After for an error a client should retry: rate limited (at least a
// second), unavailable (5 seconds unless the error says) and insufficient storage (a minute
// unless it says).
func SetRetryAfter(h http.Header, err error) {
	retry := gradpath.RetryAfterOf(err)
	switch CodeOf(err) {
	case gradpath.CodeRateLimited:
		retry = max(retry, time.Second)
	case gradpath.CodeUnavailable:
		if retry <= 0 {
			retry = 5 * time.Second
		}
	case gradpath.CodeInsufficientStorage:
		if retry <= 0 {
			retry = time.Minute
		}
	default:
		return
	}
	h.Set("Retry-After", strconv.FormatInt(int64(math.Ceil(retry.Seconds())), 10))
}

// WriteProblem renders err as problem+json. Internal errors are logged with their cause; the
// client sees only a generic sentence and the request id to quote.
func WriteProblem(logger *slog.Logger, w http.ResponseWriter, r *http.Request, err error) {
	code := CodeOf(err)
	status := Status(code)
	rid := RequestID(r.Context())
	LogInternal(logger, r, err)
	p := Problem{
		Type:      ProblemType(code),
		Title:     titles[code],
		Status:    status,
		Detail:    SafeMessage(r, err),
		Instance:  r.URL.Path,
		Code:      code,
		RequestID: rid,
		Errors:    gradpath.ErrorFields(err),
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
	SetRetryAfter(h, err)
	if code == gradpath.CodeUnauthorized {
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
