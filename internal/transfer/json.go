package transfer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/catalogue"
)

// readJSON parses {"programmes": [...]}, or the list alone. Each programme is decoded on its
// own, strictly (unknown fields are errors), and its problems carry the line where it starts.
func readJSON(r io.Reader) (readResult, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return readResult{}, err
	}
	raw = bytes.TrimPrefix(raw, []byte{0xEF, 0xBB, 0xBF})
	lines := newLineIndex(raw)
	dec := json.NewDecoder(bytes.NewReader(raw))
	var res readResult
	fail := func(detail string) (readResult, error) {
		return readResult{problems: []Problem{{Line: lines.at(int(dec.InputOffset())), Field: "file", File: true, Detail: detail}}}, nil
	}
	// list reads the programmes of a list whose '[' has been read.
	list := func() error {
		dec.DisallowUnknownFields()
		for dec.More() {
			start := int(dec.InputOffset())
			line := lines.at(start + leadingSpace(raw[start:]))
			res.rows++
			// The decoder reads a whole value before it decodes it, so an unknown field or a
			// wrong type fails that programme only and the next one is read normally.
			var p catalogue.Programme
			if err := dec.Decode(&p); err != nil {
				var se *json.SyntaxError
				if errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) {
					return err
				}
				res.problems = append(res.problems, Problem{Line: line, Field: jsonErrorField(err), Detail: jsonErrorDetail(err)})
				continue
			}
			if p.Intakes == nil {
				p.Intakes = []catalogue.Intake{}
			}
			var uni *catalogue.University
			if p.University.Name != "" || p.University.Country != "" {
				uni = &catalogue.University{ID: p.University.ID, Name: p.University.Name, Country: strings.ToUpper(p.University.Country)}
			}
			p.UpdatedAt = time.Time{} // the time of change is the store's, not the file's
			res.records = append(res.records, Record{Line: line, Programme: p, University: uni})
		}
		_, err := dec.Token()
		return err
	}
	t, err := dec.Token()
	switch {
	case err == nil && t == json.Delim('['):
		if err := list(); err != nil {
			return fail(err.Error())
		}
		return res, nil
	case err != nil || t != json.Delim('{'):
		return fail(`the file must be a JSON list of programmes, or an object: {"programmes": [...]}`)
	}
	seen := false
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return fail(err.Error())
		}
		key, _ := t.(string)
		if key != "programmes" {
			return fail(fmt.Sprintf("%q is not a key of a programme file; it has one key, \"programmes\"", key))
		}
		seen = true
		if t, err := dec.Token(); err != nil || t != json.Delim('[') {
			return fail(`"programmes" must be a list`)
		}
		if err := list(); err != nil {
			return fail(err.Error())
		}
	}
	if !seen {
		return fail(`the file has no "programmes" list`)
	}
	return res, nil
}

func leadingSpace(b []byte) int {
	n := 0
	for n < len(b) && (b[n] == ' ' || b[n] == '\n' || b[n] == '\r' || b[n] == '\t' || b[n] == ',') {
		n++
	}
	return n
}

func jsonErrorField(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return te.Field
	}
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		return strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`)
	}
	return "programme"
}

func jsonErrorDetail(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("must be %s, not %s", jsonType(te.Type.Kind().String()), te.Value)
	}
	if strings.HasPrefix(err.Error(), "json: unknown field ") {
		return "is not a field of a programme"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "float64", "float32":
		return "a number"
	case "int", "int64", "int32":
		return "a whole number"
	case "bool":
		return "true or false"
	case "slice":
		return "a list"
	case "struct", "map":
		return "an object"
	}
	return kind
}

// lineIndex turns byte offsets into 1-based line numbers.
type lineIndex []int

func newLineIndex(b []byte) lineIndex {
	idx := lineIndex{0}
	for i, c := range b {
		if c == '\n' {
			idx = append(idx, i+1)
		}
	}
	return idx
}

func (l lineIndex) at(off int) int {
	lo, hi := 0, len(l)
	for lo+1 < hi {
		mid := (lo + hi) / 2
		if l[mid] <= off {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo + 1
}

// WriteJSON writes {"programmes": [...]} with one programme per line, in the order given.
func WriteJSON(w io.Writer, ps []catalogue.Programme) error {
	if _, err := io.WriteString(w, "{\"programmes\": [\n"); err != nil {
		return err
	}
	for i, p := range ps {
		p.UpdatedAt = time.Time{}
		b, err := json.Marshal(p)
		if err != nil {
			return err
		}
		if i < len(ps)-1 {
			b = append(b, ',')
		}
		b = append(b, '\n')
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "]}\n")
	return err
}
