package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/gradpath/gradpath/internal/gradpath"
)

// maxJSONBody bounds a JSON request body (one record); imports have their own limit.
const maxJSONBody = 1 << 20

// decodeJSON reads one JSON value strictly: the content type must be JSON, unknown fields and
// trailing data are errors, a type error names the field, and so does a text holding a NUL
// character (which no database stores).
func decodeJSON(w http.ResponseWriter, r *http.Request, v any, types ...string) error {
	if err := requireContentType(r, append(types, "application/json")...); err != nil {
		return err
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBody))
	if err != nil {
		return jsonProblem(err)
	}
	return strictDecode(b, v)
}

// jsonProblem turns a decoding error into a problem that names the field when it can.
func jsonProblem(err error) error {
	var (
		tooBig  *http.MaxBytesError
		typeErr *json.UnmarshalTypeError
		syntax  *json.SyntaxError
	)
	switch {
	case errors.As(err, &tooBig):
		return gradpath.Errorf(gradpath.CodeTooLarge, "the body is larger than %d bytes", tooBig.Limit)
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return gradpath.Invalid(typeErr.Field, "must be %s, not %s", jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
	case errors.As(err, &syntax):
		return gradpath.Errorf(gradpath.CodeInvalid, "the body is not valid JSON (at byte %d): %s", syntax.Offset, strings.TrimPrefix(err.Error(), "json: "))
	case errors.Is(err, io.EOF):
		return gradpath.Errorf(gradpath.CodeInvalid, "the body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return gradpath.Errorf(gradpath.CodeInvalid, "the body ends in the middle of a JSON value")
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return gradpath.Invalid(strings.Trim(f, `"`), "is not a field of this object")
	}
	// Values that decode through UnmarshalText (dates) report their own problem.
	return gradpath.Errorf(gradpath.CodeInvalid, "%s", strings.TrimPrefix(msg, "json: "))
}

func jsonKind(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "float64", "float32":
		return "a number"
	case "int", "int64", "int32", "uint64":
		return "a whole number"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "a list"
	case "struct", "map":
		return "an object"
	}
	return kind
}

// requireContentType answers 415 unless the request's media type is one of types.
func requireContentType(r *http.Request, types ...string) error {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil {
		for _, t := range types {
			if mt == t {
				return nil
			}
		}
	}
	return gradpath.Errorf(gradpath.CodeUnsupported, "Content-Type %q is not accepted here; send %s", ct, strings.Join(types, " or "))
}

// mergePatch applies an RFC 7396 JSON merge patch to a JSON document.
func mergePatch(doc, patch []byte) ([]byte, error) {
	var d, p any
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(patch, &p); err != nil {
		return nil, jsonProblem(err)
	}
	if _, ok := p.(map[string]any); !ok {
		return nil, gradpath.Errorf(gradpath.CodeInvalid, "a merge patch must be a JSON object")
	}
	return json.Marshal(merge(d, p))
}

func merge(target, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	tm, ok := target.(map[string]any)
	if !ok {
		tm = map[string]any{}
	}
	for k, v := range pm {
		if v == nil {
			delete(tm, k)
			continue
		}
		tm[k] = merge(tm[k], v)
	}
	return tm
}

// readPatch reads a merge patch body.
func readPatch(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if err := requireContentType(r, "application/merge-patch+json", "application/json"); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBody))
	if err != nil {
		return nil, jsonProblem(err)
	}
	if !json.Valid(b) {
		return nil, gradpath.Errorf(gradpath.CodeInvalid, "the body is not valid JSON")
	}
	if field, ok := nulField(b); ok {
		return nil, gradpath.Invalid(field, "contains a NUL character (\\u0000), which cannot be stored; remove it")
	}
	return b, nil
}

// strictDecode decodes b into v as decodeJSON would a body: one value, no unknown fields, no
// NUL in any text.
func strictDecode(b []byte, v any) error {
	if field, ok := nulField(b); ok {
		return gradpath.Invalid(field, "contains a NUL character (\\u0000), which cannot be stored; remove it")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonProblem(err)
	}
	if dec.More() {
		return gradpath.Errorf(gradpath.CodeInvalid, "the body holds more than one JSON value")
	}
	if _, err := dec.Token(); err != io.EOF {
		return gradpath.Errorf(gradpath.CodeInvalid, "the body holds more than one JSON value")
	}
	return nil
}

// nulField finds the first text of a JSON document (a value or a key) that holds a NUL
// character, and returns its path as problems name fields: profile.tests[0].name.
func nulField(b []byte) (string, bool) {
	if !bytes.Contains(b, []byte(`\u0000`)) {
		return "", false
	}
	type frame struct {
		object, wantKey bool
		key             string
		index           int
	}
	var stack []*frame
	path := func() string {
		var p strings.Builder
		for i, f := range stack {
			switch {
			case f.object && i > 0 || f.object && p.Len() > 0:
				p.WriteString("." + f.key)
			case f.object:
				p.WriteString(f.key)
			default:
				fmt.Fprintf(&p, "[%d]", f.index)
			}
		}
		return strings.TrimPrefix(p.String(), ".")
	}
	next := func() {
		if len(stack) == 0 {
			return
		}
		if f := stack[len(stack)-1]; f.object {
			f.wantKey = true
		} else {
			f.index++
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false // the decoder reports what is wrong with the document
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, &frame{object: true, wantKey: true})
			case '[':
				stack = append(stack, &frame{})
			default:
				stack = stack[:len(stack)-1]
				next()
			}
		case string:
			if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].wantKey {
				stack[n-1].key, stack[n-1].wantKey = t, false
				if strings.ContainsRune(t, 0) {
					return path(), true
				}
				continue
			}
			if strings.ContainsRune(t, 0) {
				if len(stack) == 0 {
					return "body", true
				}
				return path(), true
			}
			next()
		default:
			next()
		}
	}
}

func asMaxBytes(err error, target **http.MaxBytesError) bool { return errors.As(err, target) }

// bodyETag is the strong ETag of a body, as writeJSON computes it.
func bodyETag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
}
