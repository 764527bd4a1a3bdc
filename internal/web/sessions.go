package web

import (
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/gradpath/gradpath/internal/booking"
	"github.com/gradpath/gradpath/internal/edge"
	"github.com/gradpath/gradpath/internal/gradpath"
)

// sessionView is a booking as its pages show it, in the booker's time zone.
type sessionView struct {
	booking.Booking
	Counsellor, When, TypeName string
	Upcoming, Open             bool
}

func (p *Pages) sessionView(r *http.Request, b booking.Booking, names map[string]string) sessionView {
	loc := mustLoad(b.Zone)
	if b.Zone == "" {
		loc = p.zone()
	}
	v := sessionView{Booking: b, Counsellor: names[b.CounsellorID], TypeName: b.Type,
		When: b.Start.In(loc).Format("Monday 2 January 2006, 15:04") + " " + loc.String() + " time"}
	if t, ok := booking.TypeByID(b.Type); ok {
		v.TypeName = t.Name
	}
	v.Upcoming = b.Start.After(p.Now())
	v.Open = v.Upcoming && (b.Status == booking.StatusPending || b.Status == booking.StatusConfirmed)
	return v
}

func (p *Pages) counsellorNames(r *http.Request) map[string]string {
	names := map[string]string{}
	if cs, err := p.Booking.Counsellors(r.Context()); err == nil {
		for _, c := range cs {
			names[c.ID] = c.Name
		}
	}
	return names
}

// mySessions lists the signed-in person's own bookings.
func (p *Pages) mySessions(w http.ResponseWriter, r *http.Request) error {
	a, _, ok := p.signedIn(w, r)
	if !ok {
		return nil
	}
	now := p.Now()
	list, err := p.Booking.List(r.Context(), a, "", now.AddDate(0, -3, 0), now.AddDate(0, 6, 0))
	if err != nil {
		return failed("Your sessions are not available", err)
	}
	names := p.counsellorNames(r)
	var upcoming, past []sessionView
	for _, b := range list {
		v := p.sessionView(r, b, names)
		if v.Upcoming {
			upcoming = append(upcoming, v)
		} else {
			past = append([]sessionView{v}, past...)
		}
	}
	p.render(w, r, http.StatusOK, "sessions", "My sessions", map[string]any{"Upcoming": upcoming, "Past": past})
	return nil
}

// session shows one booking to whoever may manage it: its student, its counsellor, an admin,
// or whoever holds the link the booker was given.
func (p *Pages) session(w http.ResponseWriter, r *http.Request) error {
	return p.renderSession(w, r, http.StatusOK, r.URL.Query().Get("token"), map[string]string{})
}

func (p *Pages) renderSession(w http.ResponseWriter, r *http.Request, status int, token string, errs map[string]string) error {
	a := p.actor(r)
	b, err := p.Booking.Get(r.Context(), a, r.PathValue("id"), token)
	if err != nil {
		return missing(err, "No such booking", "Open it from the link you were given when you booked, or sign in.")
	}
	v := p.sessionView(r, b, p.counsellorNames(r))
	data := map[string]any{"Session": v, "Token": token, "Errors": errs, "Done": r.URL.Query().Get("done")}
	if v.Open {
		// Other times to move to, in the booker's zone.
		loc := mustLoad(b.Zone)
		now := p.Now()
		slots, _ := p.Booking.Slots(r.Context(), b.CounsellorID, b.Type, now, now.AddDate(0, 0, 7))
		var opts []slotOption
		for _, s := range slots {
			if len(opts) >= 30 {
				break
			}
			opts = append(opts, slotOption{Value: s.Start.Format(time.RFC3339), Label: s.Start.In(loc).Format("Mon 2 Jan, 15:04 MST")})
		}
		data["Slots"] = opts
	}
	u, _ := p.who(r)
	data["Staff"] = u != nil && (u.ID == b.CounsellorID || u.Has(gradpath.RoleAdmin))
	if t := token; t != "" {
		data["ICS"] = "/api/v1/bookings/" + b.ID + ".ics?token=" + url.QueryEscape(t)
	} else {
		data["ICS"] = "/api/v1/bookings/" + b.ID + ".ics"
	}
	if token != "" {
		w.Header().Set("Cache-Control", "private, no-store") // the page carries the booking's key
	}
	p.render(w, r, status, "session", "Your session", data)
	return nil
}

// changeSession cancels or moves a booking, or (for its counsellor) records what happened.
// The booking's link is a capability of its own; a signed-in person's form carries the CSRF
// token.
func (p *Pages) changeSession(w http.ResponseWriter, r *http.Request) error {
	if !p.publicForm(w, r, 4<<10) {
		return nil
	}
	token := r.PostFormValue("token")
	a := p.actor(r)
	if token == "" {
		if _, s := p.who(r); s == nil || !p.checkCSRF(r, s) {
			p.fail(w, r, http.StatusForbidden, "Refused", "The form had expired; reload the page and try again.")
			return nil
		}
	}
	var c booking.Change
	if st := booking.Status(r.PostFormValue("status")); st != "" {
		c.Status = &st
	} else if start, err := time.Parse(time.RFC3339, r.PostFormValue("start")); err == nil {
		c.Start = &start
	} else {
		return p.renderSession(w, r, http.StatusBadRequest, token, map[string]string{"start": "Choose a new time."})
	}
	id := r.PathValue("id")
	if _, err := p.Booking.Update(r.Context(), a, id, token, c); err != nil {
		msg := p.explain(w, r, err)
		if gradpath.ErrorCode(err) == gradpath.CodeConflict && c.Start != nil {
			msg = "That time was taken a moment ago; choose another."
		}
		return p.renderSession(w, r, edge.StatusOf(err), token, map[string]string{"form": msg})
	}
	if back := r.PostFormValue("back"); slices.Contains([]string{"/calendar", "/me/sessions"}, back) {
		http.Redirect(w, r, back, http.StatusSeeOther)
		return nil
	}
	to := "/sessions/" + id + "?done=1"
	if token != "" {
		to += "&token=" + url.QueryEscape(token)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}
