package app

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/gradpath/gradpath/data"
	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/booking"
	"github.com/gradpath/gradpath/internal/calendar"
	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/leads"
	"github.com/gradpath/gradpath/internal/sqlstore"
)

// LoadDemo fills an empty database with the demo dataset: the catalogue, four demo users
// (their passwords are written to out, once) and the roadmaps. What the database already holds
// is left alone, so restarting with --demo never overwrites edits.
func (a *App) LoadDemo(ctx context.Context, out io.Writer) error {
	if err := a.LoadDemoCatalogue(ctx); err != nil {
		return err
	}
	if err := a.demoUsers(ctx, out); err != nil {
		return err
	}
	if err := a.demoRoadmaps(ctx); err != nil {
		return err
	}
	return a.demoGuides(ctx)
}

// demoGuides saves and publishes the demo's guides that are not there yet.
func (a *App) demoGuides(ctx context.Context) error {
	gs, err := data.Guides()
	if err != nil {
		return fmt.Errorf("demo guides: %w", err)
	}
	system := &gradpath.Actor{Via: "system", UserID: "system", Roles: []gradpath.Role{gradpath.RoleAdmin}}
	for _, g := range gs {
		if _, err := a.Guides.Draft(ctx, system, g.Slug, g.Lang, 0); err == nil {
			continue
		}
		saved, err := a.Guides.Save(ctx, system, g, 0)
		if err != nil {
			return fmt.Errorf("demo guide %s: %w", g.Slug, err)
		}
		if _, err := a.Guides.Publish(ctx, system, g.Slug, g.Lang, saved.Version, time.Time{}); err != nil {
			return fmt.Errorf("demo guide %s: %w", g.Slug, err)
		}
	}
	return nil
}

// LoadDemoCatalogue fills an empty catalogue with the demo universities and programmes.
func (a *App) LoadDemoCatalogue(ctx context.Context) error {
	nu, np, err := a.Catalogue.Counts(ctx)
	if err != nil {
		return err
	}
	if nu > 0 || np > 0 {
		a.Logger.Info("demo data not loaded: the catalogue already has data", "universities", nu, "programmes", np)
		return nil
	}
	start := time.Now()
	us, err := data.Universities()
	if err != nil {
		return fmt.Errorf("demo universities: %w", err)
	}
	ps, err := data.Programmes()
	if err != nil {
		return fmt.Errorf("demo programmes: %w", err)
	}
	if _, err := a.Catalogue.Put(ctx, catalogue.Change{Universities: us, Programmes: ps}); err != nil {
		return fmt.Errorf("demo data: %w", err)
	}
	a.Logger.Info("demo data loaded", "universities", len(us), "programmes", len(ps), "took", time.Since(start).Round(time.Millisecond).String())
	return nil
}

func (a *App) demoRoadmaps(ctx context.Context) error {
	rs, err := data.Roadmaps()
	if err != nil {
		return fmt.Errorf("demo roadmaps: %w", err)
	}
	system := &gradpath.Actor{Via: "system", Roles: []gradpath.Role{gradpath.RoleAdmin}}
	for _, r := range rs {
		if _, err := a.Roadmaps.Get(ctx, r.Slug); err == nil {
			continue
		}
		if _, err := a.Roadmaps.Put(ctx, system, r); err != nil {
			return fmt.Errorf("demo roadmap %s: %w", r.Slug, err)
		}
	}
	return nil
}

// demoUsers creates an admin, two counsellors and a student for the demo on an empty account
// table, and says how to sign in.
func (a *App) demoUsers(ctx context.Context, out io.Writer) error {
	bookings, leadStore := sqlstore.NewBookingStore(a.DB, nil), sqlstore.NewLeadStore(a.DB, nil)
	n, err := a.Accounts.Count(ctx)
	if err != nil {
		return err
	}
	demo := []struct {
		email string
		name  string
		roles []gradpath.Role
	}{
		{"admin@demo.gradpath.test", "Demo Admin", []gradpath.Role{gradpath.RoleAdmin}},
		{"counsellor@demo.gradpath.test", "Priya Counsellor", []gradpath.Role{gradpath.RoleCounsellor}},
		{"mentor@demo.gradpath.test", "Rahul Mentor", []gradpath.Role{gradpath.RoleCounsellor}},
		{"student@demo.gradpath.test", "Arjun Student", []gradpath.Role{gradpath.RoleStudent}},
	}
	if n > 0 {
		fmt.Fprintf(out, "demo users: %s, %s, %s, %s (their passwords were printed when they were created;\n  a new one: gradpath user reset --data %s --email EMAIL)\n",
			demo[0].email, demo[1].email, demo[2].email, demo[3].email, a.Config.DataDir)
		return nil
	}
	hours := func(zone string, week map[time.Weekday][]string) booking.Availability {
		av := booking.Availability{Zone: zone, Types: []string{"consultation", "mentorship"}, Exceptions: []booking.Exception{}}
		for d, spans := range week {
			for _, sp := range spans {
				var s calendar.Span
				_ = s.UnmarshalText([]byte(sp))
				av.Week[d] = append(av.Week[d], s)
			}
		}
		return av
	}
	weekdays := func(spans ...string) map[time.Weekday][]string {
		m := map[time.Weekday][]string{}
		for d := time.Monday; d <= time.Friday; d++ {
			m[d] = spans
		}
		return m
	}
	priya := weekdays("10:00-13:00", "14:00-18:00")
	priya[time.Saturday] = []string{"10:00-13:00"}
	availability := map[string]booking.Availability{
		"counsellor@demo.gradpath.test": hours("Asia/Kolkata", priya),
		"mentor@demo.gradpath.test":     hours("Europe/London", weekdays("09:00-17:00")),
	}
	system := &gradpath.Actor{Via: "system", RequestID: "demo"}
	var counsellorID string
	fmt.Fprintln(out, "demo users (sign in at /sign-in, or with POST /api/v1/auth/login; the passwords are shown only now):")
	for _, d := range demo {
		pw := accounts.GeneratePassword()
		u, err := a.Accounts.CreateUser(ctx, system, d.email, d.name, d.roles, pw)
		if err != nil {
			return err
		}
		if u.Has(gradpath.RoleCounsellor) && counsellorID == "" {
			counsellorID = u.ID
		}
		if av, ok := availability[d.email]; ok {
			if err := bookings.PutAvailability(ctx, u.ID, av, a.now()); err != nil {
				return err
			}
		}
		if u.Has(gradpath.RoleCounsellor) {
			// The mentor takes mentorship sessions, not leads; the others take leads.
			if err := leadStore.PutProfile(ctx, leads.Profile{UserID: u.ID, Active: d.email != "mentor@demo.gradpath.test", Countries: []string{},
				Courses: []string{}, Leave: []leads.Period{}, UpdatedAt: a.now().UTC()}); err != nil {
				return err
			}
		}
		if u.Has(gradpath.RoleStudent) && counsellorID != "" {
			if _, err := a.Accounts.UpdateUser(ctx, system, u.ID, accounts.UserUpdate{Counsellor: &counsellorID}); err != nil {
				return err
			}
		}
		fmt.Fprintf(out, "  %-10s %-32s %s\n", d.roles[0], d.email, pw)
	}
	return nil
}
