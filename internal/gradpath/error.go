// Package gradpath is the shared vocabulary of every other package: the error type and its
// codes, money and currencies, countries, calendar dates, and the clock. It imports the
// standard library and golang.org/x/text (for text normalisation) and no other package of
// gradpath, so that domain packages can depend on it without depending on each other.
package gradpath

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"
)

// Code classifies an error for the caller. The HTTP edge maps each code to a status once
// (edge.Status), for the API and the pages alike.
type Code string

// Error codes. They are stable: clients read them from problem+json `type` and GraphQL
// `extensions.code`.
const (
	CodeInvalid       Code = "invalid"       // the request is malformed or fails validation
	CodeUnauthorized  Code = "unauthorized"  // no valid credentials
	CodeForbidden     Code = "forbidden"     // credentials valid, permission missing
	CodeNotFound      Code = "not_found"     // no such object, or not visible to the caller
	CodeConflict      Code = "conflict"      // the request conflicts with the current state
	CodePrecondition  Code = "precondition"  // an If-Match style precondition failed
	CodeTooLarge      Code = "too_large"     // the body is larger than allowed
	CodeUnsupported   Code = "unsupported"   // unsupported media type
	CodeUnprocessable Code = "unprocessable" // well-formed but cannot be processed (e.g. reused idempotency key)
	CodeRateLimited   Code = "rate_limited"  // too many requests; retry later
	CodeUnavailable   Code = "unavailable"   // a dependency is down or busy; retry later
	// CodeInsufficientStorage: the disk is full; nothing was written.
	CodeInsufficientStorage Code = "insufficient_storage"
	CodeInternal            Code = "internal" // a bug or an unexpected failure; logged with its cause
)

// FieldError names one offending input and says what is wrong with it in words a user reads.
type FieldError struct {
	// Field is the input's name as the caller sent it: a query parameter (`limit`), a JSON
	// path (`profile.tests[0].overall`) or a CSV column.
	Field string `json:"field"`
	// Detail says what is wrong and, where it helps, what is accepted.
	Detail string `json:"detail"`
	// Line is the line of an uploaded file the problem is on, when there is a file.
	Line int `json:"line,omitempty"`
}

// Error is the one error type of gradpath. Message is safe to show to users; Err, the cause,
// is for logs only and is never rendered to a client.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
	Err     error
	// RetryAfter, for rate_limited and unavailable, says when to try again.
	RetryAfter time.Duration
	// Extensions are more members of the problem document, such as next_slots of a conflict.
	Extensions map[string]any
}

// ExtensionsOf returns the Extensions of err's *Error, if any.
func ExtensionsOf(err error) map[string]any {
	var e *Error
	if errors.As(err, &e) {
		return e.Extensions
	}
	return nil
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Code))
	if len(e.Fields) > 0 && strings.HasPrefix(e.Message, e.Fields[0].Field+": "+e.Fields[0].Detail) {
		// The message only summarises the fields that follow.
	} else if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "; %s: %s", f.Field, f.Detail)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an Error with the code and a user-facing message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns a validation error naming one field.
func Invalid(field, format string, args ...any) *Error {
	d := fmt.Sprintf(format, args...)
	return &Error{Code: CodeInvalid, Message: field + ": " + d, Fields: []FieldError{{Field: field, Detail: d}}}
}

// NotFound returns a not_found error for the kind of object and its id.
func NotFound(kind, id string) *Error {
	return &Error{Code: CodeNotFound, Message: fmt.Sprintf("no %s with id %q", kind, id)}
}

// Internal wraps an unexpected failure. Its message to users is generic; the cause is logged.
func Internal(err error) *Error {
	return &Error{Code: CodeInternal, Message: "an internal error occurred", Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain. An error from outside
// gradpath (a driver's, the network's) is classified by what it says of itself: unavailable
// when a dependency cannot be reached or is shutting down, insufficient_storage when the disk
// is full; any other is internal.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		if e.Code == CodeInternal && e.Err != nil {
			if c := foreign(e.Err); c != CodeInternal {
				return c
			}
		}
		return e.Code
	}
	return foreign(err)
}

// foreign classifies an error that is not an *Error, by the interfaces and messages of the
// standard library and the database drivers (PostgreSQL's SQLSTATE classes, SQLite's result
// messages), without importing them.
func foreign(err error) Code {
	var sqlState interface{ SQLState() string }
	if errors.As(err, &sqlState) {
		st := sqlState.SQLState()
		switch {
		case st == "53100": // disk_full
			return CodeInsufficientStorage
		case strings.HasPrefix(st, "08"), // connection exception
			st == "57P01", st == "57P02", st == "57P03", // admin or crash shutdown, cannot connect now
			st == "53300", st == "53400", // too many connections, configuration limit exceeded
			st == "40001", st == "40P01": // serialization failure, deadlock: retry
			return CodeUnavailable
		case st == "22021", st == "22P05": // a NUL or a character the encoding cannot hold
			return CodeInvalid
		}
		return CodeInternal
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return CodeInsufficientStorage
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return CodeUnavailable
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "database or disk is full"), strings.Contains(msg, "no space left on device"):
		return CodeInsufficientStorage
	case strings.Contains(msg, "database is locked"), strings.Contains(msg, "database table is locked"),
		strings.Contains(msg, "conn closed"), strings.Contains(msg, "connection refused"),
		strings.Contains(msg, "unexpected EOF"), strings.Contains(msg, "the database is closing"),
		strings.Contains(msg, "sql: database is closed"):
		return CodeUnavailable
	}
	return CodeInternal
}

// ErrorMessage returns the user-facing message of err: the message of its *Error, or a
// generic sentence for errors that are not ours (their text may hold internals).
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != CodeInternal {
		return e.Message
	}
	switch ErrorCode(err) {
	case CodeInvalid:
		return "a text holds a character that cannot be stored (such as a NUL); remove it and try again"
	case CodeUnavailable:
		return "the database is not answering at the moment"
	case CodeInsufficientStorage:
		return "the server's disk is full, so nothing was saved; the operators have been told"
	}
	return "an internal error occurred"
}

// ErrorFields returns the field errors of err's *Error, if any.
func ErrorFields(err error) []FieldError {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// Problems collects field errors so that a validator can report every bad field at once
// instead of stopping at the first.
type Problems struct {
	fields []FieldError
}

// Add records a problem with field.
func (p *Problems) Add(field, format string, args ...any) {
	p.fields = append(p.fields, FieldError{Field: field, Detail: fmt.Sprintf(format, args...)})
}

// Merge records the field errors of err (an *Error with fields), prefixing each field name.
// Any other non-nil error is recorded against the prefix itself.
func (p *Problems) Merge(prefix string, err error) {
	if err == nil {
		return
	}
	fields := ErrorFields(err)
	if len(fields) == 0 {
		p.Add(strings.TrimSuffix(prefix, "."), "%s", ErrorMessage(err))
		return
	}
	for _, f := range fields {
		name := f.Field
		if prefix != "" {
			if strings.HasPrefix(name, "[") {
				name = strings.TrimSuffix(prefix, ".") + name
			} else {
				name = prefix + name
			}
		}
		p.fields = append(p.fields, FieldError{Field: name, Detail: f.Detail})
	}
}

// Len is the number of problems recorded.
func (p *Problems) Len() int { return len(p.fields) }

// Err returns nil when nothing was recorded, or an invalid error listing every problem.
func (p *Problems) Err() error {
	if len(p.fields) == 0 {
		return nil
	}
	msg := p.fields[0].Field + ": " + p.fields[0].Detail
	if n := len(p.fields); n > 1 {
		msg = fmt.Sprintf("%s (and %d more problem%s)", msg, n-1, plural(n-1))
	}
	return &Error{Code: CodeInvalid, Message: msg, Fields: p.fields}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// RetryAfterOf returns the RetryAfter of err's *Error, if any.
func RetryAfterOf(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}
