package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/booking"
	"github.com/gradpath/gradpath/internal/edge"
	"github.com/gradpath/gradpath/internal/gradpath"
)

// CounsellorList lists the counsellors who take bookings.
type CounsellorList struct {
	Items []booking.Counsellor `json:"items"`
}

// SlotList is a counsellor's free slots, in the asker's time zone.
type SlotList struct {
	Zone  string             `json:"zone"`
	Slots []booking.Interval `json:"slots"`
	// BookableUntil is the latest a session of this type may start if booked now.
	BookableUntil time.Time `json:"bookable_until"`
	// Note says why the list ends early, when to is past BookableUntil.
	Note string `json:"note,omitempty"`
}

func (s *Server) listCounsellors(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	cs, err := s.Booking.Counsellors(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, CounsellorList{Items: cs})
}

// parseWhen reads a date (the whole day, in loc) or an RFC 3339 time.
func parseWhen(q *query, name, v string, loc *time.Location, endOfDay bool) time.Time {
	if v == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t
	}
	d, err := time.ParseInLocation("2006-01-02", v, loc)
	if err != nil {
		q.p.Add(name, "%q is not a date (2026-12-01) or an RFC 3339 time", v)
		return time.Time{}
	}
	if endOfDay {
		return d.AddDate(0, 0, 1)
	}
	return d
}

func (s *Server) counsellorSlots(w http.ResponseWriter, r *http.Request) error {
	qp := newQuery(r, "type", "from", "to", "tz")
	typ := qp.one("type")
	if typ == "" {
		typ = "consultation"
	}
	zone := qp.one("tz")
	loc := time.UTC
	if zone != "" {
		l, err := time.LoadLocation(zone)
		if err != nil || zone == "Local" {
			qp.p.Add("tz", "%q is not an IANA time zone such as Asia/Kolkata", zone)
		} else {
			loc = l
		}
	}
	from := parseWhen(qp, "from", qp.one("from"), loc, false)
	to := parseWhen(qp, "to", qp.one("to"), loc, true)
	if err := qp.err(); err != nil {
		return err
	}
	now := s.Now()
	if from.IsZero() {
		from = now
	}
	if to.IsZero() {
		to = from.AddDate(0, 0, 14)
	}
	slots, err := s.Booking.Slots(r.Context(), r.PathValue("id"), typ, from, to)
	if err != nil {
		return err
	}
	for i := range slots {
		slots[i].Start, slots[i].End = slots[i].Start.In(loc), slots[i].End.In(loc)
	}
	out := SlotList{Zone: loc.String(), Slots: slots}
	until, _ := s.Booking.BookableUntil(typ)
	out.BookableUntil = until.In(loc).Truncate(time.Minute)
	if to.After(until) {
		out.Note = "sessions of this type open for booking " + daysAhead(until, now) + " ahead; times after " +
			out.BookableUntil.Format("2 January 2006 15:04 MST") + " are not offered yet"
	}
	return writeJSON(w, r, http.StatusOK, out)
}

// daysAhead says how many days ahead until is, in words.
func daysAhead(until, now time.Time) string {
	return strconv.Itoa(int(until.Sub(now).Round(24*time.Hour)/(24*time.Hour))) + " days"
}

// ReassignInput names the counsellor who takes a booking over.
type ReassignInput struct {
	CounsellorID string `json:"counsellor_id"`
}

func (s *Server) reassignBooking(w http.ResponseWriter, r *http.Request) error {
	var in ReassignInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	b, err := s.Booking.Reassign(r.Context(), actor(r), r.PathValue("id"), in.CounsellorID)
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, b)
}

func (s *Server) orphanedBookings(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	bs, err := s.Booking.Orphaned(r.Context(), actor(r))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, r, http.StatusOK, BookingList{Items: bs})
}

func (s *Server) getAvailability(w http.ResponseWriter, r *http.Request) error {
	a, err := s.Booking.GetAvailability(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, r, http.StatusOK, a)
}

func (s *Server) putAvailability(w http.ResponseWriter, r *http.Request) error {
	var in booking.Availability
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	a, err := s.Booking.PutAvailability(r.Context(), actor(r), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, a)
}

func (s *Server) createBooking(w http.ResponseWriter, r *http.Request) error {
	key := r.Header.Get("Idempotency-Key")
	if key != "" && !validIdempotencyKey(key) {
		return gradpath.Invalid("Idempotency-Key", "must be 1 to 255 visible ASCII characters, such as a UUID")
	}
	var in booking.Input
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if actor(r).Anonymous() {
		if err := s.limitPublicForm(r); err != nil {
			return err
		}
	}
	b, err := s.Booking.Book(r.Context(), actor(r), in, key, in.Identity(actor(r).UserID))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	if b.Ignored {
		return writeJSON(w, r, http.StatusAccepted, Received{Status: "received"})
	}
	if b.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.Header().Set("Location", "/api/v1/bookings/"+b.ID)
	return writeJSON(w, r, http.StatusCreated, b)
}

// getBooking answers /api/v1/bookings/{id} and, for an id ending in .ics, the invitation.
func (s *Server) getBooking(w http.ResponseWriter, r *http.Request) error {
	qp := newQuery(r, "token")
	token := qp.one("token")
	if err := qp.err(); err != nil {
		return err
	}
	id := r.PathValue("id")
	if bare, ok := strings.CutSuffix(id, ".ics"); ok {
		link := edge.Origin(r, s.PublicURL) + "/sessions/" + bare // the booking's page
		if token != "" {
			link += "?token=" + url.QueryEscape(token)
		}
		text, err := s.Booking.ICS(r.Context(), actor(r), bare, token, link)
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+bare+`.ics"`)
		w.Header().Set("Cache-Control", "no-store")
		_, err = w.Write([]byte(text))
		return err
	}
	b, err := s.Booking.Get(r.Context(), actor(r), id, token)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, r, http.StatusOK, b)
}

func (s *Server) patchBooking(w http.ResponseWriter, r *http.Request) error {
	qp := newQuery(r, "token")
	token := qp.one("token")
	if err := qp.err(); err != nil {
		return err
	}
	var c booking.Change
	if err := decodeJSON(w, r, &c, "application/merge-patch+json"); err != nil {
		return err
	}
	b, err := s.Booking.Update(r.Context(), actor(r), r.PathValue("id"), token, c)
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, b)
}

// BookingList is a page of bookings by start.
type BookingList struct {
	Items []booking.Booking `json:"items"`
}

// FeedCreated is a new calendar feed; its address is shown once.
type FeedCreated struct {
	URL string `json:"url"`
}

func (s *Server) listBookings(w http.ResponseWriter, r *http.Request) error {
	qp := newQuery(r, "counsellor", "from", "to")
	from := parseWhen(qp, "from", qp.one("from"), time.UTC, false)
	to := parseWhen(qp, "to", qp.one("to"), time.UTC, true)
	if err := qp.err(); err != nil {
		return err
	}
	if from.IsZero() {
		from = s.Now().AddDate(0, 0, -7)
	}
	if to.IsZero() {
		to = from.AddDate(0, 2, 0)
	}
	bs, err := s.Booking.List(r.Context(), actor(r), qp.one("counsellor"), from, to)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, r, http.StatusOK, BookingList{Items: bs})
}

func (s *Server) createFeed(w http.ResponseWriter, r *http.Request) error {
	token, err := s.Booking.NewFeed(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, r, http.StatusCreated, FeedCreated{URL: edge.Origin(r, s.PublicURL) + "/api/v1/feeds/" + token + ".ics"})
}

func (s *Server) deleteFeed(w http.ResponseWriter, r *http.Request) error {
	if err := s.Booking.RevokeFeed(r.Context(), actor(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) feed(w http.ResponseWriter, r *http.Request) error {
	token := strings.TrimSuffix(r.PathValue("token"), ".ics")
	text, err := s.Booking.Feed(r.Context(), token, edge.Origin(r, s.PublicURL))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Cache-Control", "private, max-age=300")
	_, err = w.Write([]byte(text))
	return err
}
