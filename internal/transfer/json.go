package transfer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/catalogue"
)

// readJSON parses {"programmes": [...]}, or the list alone, as a stream: each programme is
// decoded on its own, strictly (unknown fields are errors), handed to emit, and its problems
// carry the line where it starts.
func readJSON(r *bufio.Reader, res *readResult, emit func(Record) error) error {
	if bom, _ := r.Peek(3); bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		r.Discard(3)
	}
	lines := &lineCounter{r: r}
	dec := json.NewDecoder(lines)
	fail := func(detail string) error {
		*res = readResult{problems: []Problem{{Line: lines.at(dec.InputOffset()), Field: "file", File: true, Detail: detail}}}
		return nil
	}
	// list reads the programmes of a list whose '[' has been read.
	list := func() error {
		dec.DisallowUnknownFields()
		for dec.More() {
			line := lines.at(dec.InputOffset() + leadingSpace(dec.Buffered()))
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
			if err := emit(Record{Line: line, Programme: p, University: uni}); err != nil {
				return errStopped{err}
			}
		}
		_, err := dec.Token()
		return err
	}
	read := func() error {
		err := list()
		var stop errStopped
		if errors.As(err, &stop) {
			return stop.err
		}
		if err != nil {
			return fail(err.Error())
		}
		return nil
	}
	t, err := dec.Token()
	switch {
	case err == nil && t == json.Delim('['):
		return read()
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
		if err := read(); err != nil || len(res.problems) > 0 && res.problems[0].File {
			return err
		}
	}
	if !seen {
		return fail(`the file has no "programmes" list`)
	}
	return nil
}

// errStopped is the error of emit, which stops the reading.
type errStopped struct{ err error }

func (e errStopped) Error() string { return e.err.Error() }

// leadingSpace counts the blanks and commas at the start of what the decoder holds unread.
func leadingSpace(buffered io.Reader) int64 {
	var n int64
	b, _ := buffered.(*bytes.Reader)
	for b != nil {
		c, err := b.ReadByte()
		if err != nil || !(c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == ',') {
			break
		}
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

// lineCounter counts the lines of what is read through it, so that a byte offset can be
// turned into a 1-based line number without holding the file: offsets must be asked for in
// increasing order.
type lineCounter struct {
	r      io.Reader
	read   int64   // bytes read so far
	ahead  []int64 // offsets of the newlines read and not yet passed
	passed int     // newlines before the last offset asked for
}

func (l *lineCounter) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for i, c := range p[:n] {
		if c == '\n' {
			l.ahead = append(l.ahead, l.read+int64(i))
		}
	}
	l.read += int64(n)
	return n, err
}

// at returns the line of the byte at offset off.
func (l *lineCounter) at(off int64) int {
	i := 0
	for i < len(l.ahead) && l.ahead[i] < off {
		i++
	}
	l.passed += i
	l.ahead = append(l.ahead[:0], l.ahead[i:]...)
	return l.passed + 1
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
