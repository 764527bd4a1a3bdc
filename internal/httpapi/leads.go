package httpapi

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/calendar"
	"github.com/gradpath/gradpath/internal/edge"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/leads"
)

// maxLeadBody bounds a public form's body.
const maxLeadBody = 16 << 10

// LeadList is a page of leads, newest first.
type LeadList struct {
	Items      []leads.Lead `json:"items"`
	NextCursor *string      `json:"next_cursor"`
}

// NoteInput is a counsellor's note.
type NoteInput struct {
	Text string `json:"text"`
}

// validIdempotencyKey accepts what clients generate: 1–255 visible ASCII characters.
func validIdempotencyKey(k string) bool {
	if k == "" || len(k) > 255 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

func (s *Server) createLead(w http.ResponseWriter, r *http.Request) error {
	key := r.Header.Get("Idempotency-Key")
	if key != "" && !validIdempotencyKey(key) {
		return gradpath.Invalid("Idempotency-Key", "must be 1 to 255 visible ASCII characters, such as a UUID")
	}
	if err := requireContentType(r, "application/json"); err != nil {
		return err
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxLeadBody))
	if err != nil {
		return jsonProblem(err)
	}
	var in leads.Input
	if err := strictDecode(raw, &in); err != nil {
		return err
	}
	if err := s.limitPublicForm(r); err != nil {
		return err
	}
	res, err := s.Leads.Create(r.Context(), actor(r), in, key, in.Identity())
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	if res.Ignored {
		return writeJSON(w, r, http.StatusAccepted, Received{Status: "received"})
	}
	w.Header().Set("Location", "/api/v1/leads/"+res.Receipt.ID)
	if res.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	return writeJSON(w, r, http.StatusCreated, res.Receipt)
}

// Received answers a request the form guard took for a script, as a person's would be.
type Received struct {
	Status string `json:"status"`
}

// FormToken is what a public form embeds when it is shown.
type FormToken struct {
	FormToken string `json:"form_token"`
	// MinSeconds is how long a person takes at least; a form sent back sooner is ignored.
	MinSeconds int `json:"min_seconds"`
}

func (s *Server) formToken(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	token, minAge, ok := s.Leads.FormToken()
	if !ok {
		return gradpath.Errorf(gradpath.CodeNotFound, "form tokens are not in use on this server")
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, r, http.StatusOK, FormToken{FormToken: token, MinSeconds: int(minAge.Seconds())})
}

// leadCursor is the keyset position after a lead: its creation time and id.
func (s *Server) listLeads(w http.ResponseWriter, r *http.Request) error {
	qp := newQuery(r, "q", "status", "assignee", "breached", "limit", "cursor")
	q := leads.Query{Text: qp.one("q"), Assignee: qp.one("assignee"), Limit: qp.limit(50, 200)}
	for _, st := range qp.list("status") {
		v, err := leads.ParseStatus(st)
		if err != nil {
			qp.p.Add("status", "%s", err)
		}
		q.Status = append(q.Status, v)
	}
	if b := qp.one("breached"); b != "" {
		v, err := strconv.ParseBool(b)
		if err != nil {
			qp.p.Add("breached", "must be true or false")
		}
		q.Breached = &v
	}
	if c := qp.one("cursor"); c != "" {
		if err := q.SetCursor(c); err != nil {
			qp.p.Add("cursor", "is not a cursor from this list; start without one")
		}
	}
	if err := qp.err(); err != nil {
		return err
	}
	ls, err := s.Leads.List(r.Context(), actor(r), q)
	if err != nil {
		return err
	}
	if ls == nil {
		ls = []leads.Lead{}
	}
	out := LeadList{Items: ls}
	if len(ls) == q.Limit {
		next := leads.Cursor(ls[len(ls)-1])
		out.NextCursor = &next
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, r, http.StatusOK, out)
}

func (s *Server) getLead(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	d, err := s.Leads.Get(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	body, err := json.Marshal(d)
	if err != nil {
		return gradpath.Internal(err)
	}
	// The ETag names the lead's version, for If-Match on PATCH.
	w.Header().Set("Cache-Control", "no-store")
	return writeBody(w, r, append(body, '\n'), versionETag(d.Version))
}

func versionETag(v int) string { return `W/"v` + strconv.Itoa(v) + `"` }

// ifMatchVersion reads If-Match written as versionETag writes it; 0 when absent.
func ifMatchVersion(r *http.Request) (int, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return 0, nil
	}
	v, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(h, "W/"), `"v`), `"`))
	if err != nil || v <= 0 {
		return 0, gradpath.Invalid("If-Match", "send the ETag of the lead as you read it, such as W/\"v3\"")
	}
	return v, nil
}

func (s *Server) patchLead(w http.ResponseWriter, r *http.Request) error {
	version, err := ifMatchVersion(r)
	if err != nil {
		return err
	}
	var p leads.Patch
	if err := decodeJSON(w, r, &p, "application/merge-patch+json"); err != nil {
		return err
	}
	l, err := s.Leads.Update(r.Context(), actor(r), r.PathValue("id"), p, version)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", versionETag(l.Version))
	return writeJSON(w, r, http.StatusOK, l)
}

func (s *Server) addLeadNote(w http.ResponseWriter, r *http.Request) error {
	var in NoteInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	a, err := s.Leads.AddNote(r.Context(), actor(r), r.PathValue("id"), in.Text)
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusCreated, a)
}

func (s *Server) getProfile(w http.ResponseWriter, r *http.Request) error {
	p, err := s.Leads.Profile(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, r, http.StatusOK, p)
}

// ProfileInput is a counsellor's routing profile as sent.
type ProfileInput struct {
	Active    bool           `json:"active"`
	Countries []string       `json:"countries"`
	Courses   []string       `json:"courses"`
	Hours     calendar.Week  `json:"hours"`
	Leave     []leads.Period `json:"leave"`
}

func (s *Server) putProfile(w http.ResponseWriter, r *http.Request) error {
	var in ProfileInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	p, err := s.Leads.PutProfile(r.Context(), actor(r), leads.Profile{UserID: r.PathValue("id"), Active: in.Active,
		Countries: in.Countries, Courses: in.Courses, Hours: in.Hours, Leave: in.Leave})
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, p)
}

// SubscriptionReceipt answers a subscription.
type SubscriptionReceipt struct {
	ID     string   `json:"id"`
	Topics []string `json:"topics"`
	Active bool     `json:"active"`
}

// SubscriptionList lists active subscriptions.
type SubscriptionList struct {
	Items []leads.Subscription `json:"items"`
}

func (s *Server) subscribe(w http.ResponseWriter, r *http.Request) error {
	var in leads.SubscriptionInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := s.limitPublicForm(r); err != nil {
		return err
	}
	res, err := s.Leads.Subscribe(r.Context(), actor(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	if res.Ignored {
		return writeJSON(w, r, http.StatusAccepted, Received{Status: "received"})
	}
	return writeJSON(w, r, http.StatusCreated, res)
}

func (s *Server) withdrawConsent(w http.ResponseWriter, r *http.Request) error {
	var in leads.WithdrawInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := s.limitPublicForm(r); err != nil {
		return err
	}
	if err := s.Leads.Withdraw(r.Context(), actor(r), in); err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusAccepted, Status{Status: "withdrawn"})
}

func (s *Server) listSubscriptions(w http.ResponseWriter, r *http.Request) error {
	qp := newQuery(r, "limit")
	limit := qp.limit(100, 1000)
	if err := qp.err(); err != nil {
		return err
	}
	subs, err := s.Leads.Subscriptions(r.Context(), actor(r), limit)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, r, http.StatusOK, SubscriptionList{Items: subs})
}

func (s *Server) exportLead(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	e, err := s.Leads.Export(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", `attachment; filename="`+r.PathValue("id")+`.json"`)
	return writeJSON(w, r, http.StatusOK, e)
}

func (s *Server) eraseLead(w http.ResponseWriter, r *http.Request) error {
	l, err := s.Leads.Erase(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, l)
}

// DuplicateList lists likely duplicates of a lead.
type DuplicateList struct {
	Items []leads.Duplicate `json:"items"`
}

// MergeInput names the lead to fold into this one.
type MergeInput struct {
	From string `json:"from"`
}

func (s *Server) leadDuplicates(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	ds, err := s.Leads.Duplicates(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, r, http.StatusOK, DuplicateList{Items: ds})
}

func (s *Server) mergeLead(w http.ResponseWriter, r *http.Request) error {
	var in MergeInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	l, err := s.Leads.Merge(r.Context(), actor(r), r.PathValue("id"), in.From)
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, l)
}

func (s *Server) exportLeadsCSV(w http.ResponseWriter, r *http.Request) error {
	qp := newQuery(r, "status", "assignee", "breached")
	q := leads.Query{Assignee: qp.one("assignee"), Limit: 500}
	for _, st := range qp.list("status") {
		q.Status = append(q.Status, leads.Status(st))
	}
	if b := qp.one("breached"); b != "" {
		v, err := strconv.ParseBool(b)
		if err != nil {
			qp.p.Add("breached", "must be true or false")
		}
		q.Breached = &v
	}
	if err := qp.err(); err != nil {
		return err
	}
	a := actor(r)
	first, err := s.Leads.List(r.Context(), a, q)
	if err != nil {
		return err
	}
	names := map[string]string{}
	if cs, err := s.Accounts.Counsellors(r.Context(), a); err == nil {
		for _, c := range cs {
			names[c.ID] = c.Name
		}
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="leads.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	// The byte-order mark tells spreadsheets the file is UTF-8, so that names in Devanagari or
	// with accents read as they were written.
	w.Write([]byte("\ufeff"))
	cw := csv.NewWriter(w)
	cw.Write([]string{"id", "created_at", "kind", "status", "name", "phone", "email", "country", "course", "intake", "page",
		"utm_source", "utm_medium", "utm_campaign", "assignee", "assignee_name", "first_response_due", "first_contact_at", "breached", "lost_reason", "marketing"})
	page, rows := first, 0
	for {
		for _, l := range page {
			contact := ""
			if l.FirstContactAt != nil {
				contact = l.FirstContactAt.Format(time.RFC3339)
			}
			intake := ""
			if !l.Interest.Intake.IsZero() {
				intake = l.Interest.Intake.String()
			}
			row := []string{l.ID, l.CreatedAt.Format(time.RFC3339), string(l.Kind), string(l.Status), l.Name, l.Phone, l.Email,
				l.Interest.Country, l.Interest.Course, intake, l.Page, l.UTM.Source, l.UTM.Medium, l.UTM.Campaign, l.Assignee, names[l.Assignee],
				l.FirstResponseDue.Format(time.RFC3339), contact, strconv.FormatBool(l.Breached), l.LostReason, strconv.FormatBool(l.Marketing)}
			for i := range row {
				row[i] = gradpath.CSVCell(row[i])
			}
			cw.Write(row)
			rows++
		}
		if len(page) < q.Limit {
			break
		}
		last := page[len(page)-1]
		q.AfterTime, q.AfterID = last.CreatedAt, last.ID
		if page, err = s.Leads.List(r.Context(), a, q); err != nil {
			break // the header is sent; the export ends short rather than lying
		}
	}
	cw.Flush()
	// A bulk export of people's contacts is a data-protection event of its own.
	s.Accounts.Record(r.Context(), a, "leads.exported_csv", "", map[string]any{"rows": rows, "filter": r.URL.RawQuery})
	return nil
}

func (s *Server) getCalendar(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	f, err := s.Leads.GetCalendar(r.Context(), actor(r))
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, f)
}

func (s *Server) putCalendar(w http.ResponseWriter, r *http.Request) error {
	var in calendar.File
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	f, err := s.Leads.PutCalendar(r.Context(), actor(r), in)
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, f)
}

// HolidayImport is the calendar after an import, and what the import could not use.
type HolidayImport struct {
	calendar.File
	// SkippedRecurring counts recurring events, which are not expanded: list each date.
	SkippedRecurring int `json:"skipped_recurring"`
}

func (s *Server) importHolidays(w http.ResponseWriter, r *http.Request) error {
	qp := newQuery(r, "replace")
	replace := qp.one("replace") == "true"
	if err := qp.err(); err != nil {
		return err
	}
	if err := requireContentType(r, "text/calendar", "text/plain"); err != nil {
		return err
	}
	body := http.MaxBytesReader(w, r.Body, 1<<20)
	var (
		holidays map[gradpath.Date]string
		skipped  int
		err      error
	)
	if strings.HasPrefix(r.Header.Get("Content-Type"), "text/calendar") {
		holidays, skipped, err = calendar.ParseHolidaysICS(body)
	} else {
		holidays, err = calendar.ParseHolidays(body)
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return jsonProblem(err)
		}
		if gradpath.ErrorCode(err) == gradpath.CodeInvalid {
			return err
		}
		return gradpath.Errorf(gradpath.CodeInvalid, "%s", err.Error())
	}
	f, err := s.Leads.AddHolidays(r.Context(), actor(r), holidays, replace)
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, HolidayImport{File: f, SkippedRecurring: skipped})
}

// limitPublicForm applies the per-address limit of the public forms (leads, subscriptions,
// withdrawals, bookings by visitors).
func (s *Server) limitPublicForm(r *http.Request) error {
	return edge.Limit(s.LeadLimit, edge.ClientIP(r))
}
