package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/booking"
	"github.com/gradpath/gradpath/internal/calendar"
	"github.com/gradpath/gradpath/internal/config"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/leads"
	"github.com/gradpath/gradpath/internal/sqlstore"
)

// roleList is a repeatable --role flag that also takes comma-separated roles.
type roleList []gradpath.Role

func (r *roleList) String() string { return fmt.Sprint([]gradpath.Role(*r)) }
func (r *roleList) Set(v string) error {
	for _, x := range strings.Split(v, ",") {
		if x = strings.TrimSpace(x); x != "" {
			*r = append(*r, gradpath.Role(x))
		}
	}
	return nil
}

// generatedPassword is 20 characters from an alphabet without look-alikes: about 110 bits.
func userCmd(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "reset") {
		return usageError{"gradpath user create --email E --role R [--password-stdin] | gradpath user reset --email E"}
	}
	sub := args[0]
	fs := env.flagSet("user "+sub, map[string]string{
		"create": "Create an account with roles. Without --password-stdin a password is generated and printed once:\nchange it after signing in.",
		"reset":  "Print a password-reset token for an account (valid for an hour, once), to pass on to its owner.",
	}[sub])
	loader := config.NewLoader(env.getenv)
	loader.Flags(fs, "data", "database_url")
	email := fs.String("email", "", "the account's email")
	name := fs.String("name", "", "the account's name (default: the part of the email before @)")
	var roles roleList
	fs.Var(&roles, "role", "student, counsellor or admin; repeat or separate with commas")
	fromStdin := fs.Bool("password-stdin", false, "read the password from standard input")
	rest, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if len(rest) > 0 || *email == "" {
		return usageError{"give --email (and, to create, --role)"}
	}
	cfg, err := loader.Load()
	if err != nil {
		return err
	}
	db, err := openDatabase(ctx, cfg, env.stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	acc := accounts.NewService(sqlstore.NewAccountStore(db), accounts.DefaultConfig(time.Now))
	system := &gradpath.Actor{Via: "system", RequestID: "cli"}

	if sub == "reset" {
		token, err := acc.IssueReset(ctx, system, *email)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "reset token for %s (valid for an hour, once):\n%s\n", accounts.NormalizeEmail(*email), token)
		fmt.Fprintf(env.stderr, "the owner sets a new password with POST /api/v1/auth/password-reset/confirm {\"token\", \"password\"}\n")
		return nil
	}
	password, generated := "", false
	if *fromStdin {
		line, err := bufio.NewReader(env.stdin).ReadString('\n')
		if err != nil && line == "" {
			return errors.New("no password on standard input")
		}
		password = strings.TrimRight(line, "\r\n")
	} else {
		password, generated = accounts.GeneratePassword(), true
	}
	u, err := acc.CreateUser(ctx, system, *email, *name, roles, password)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "created %s (%s) with roles %v\n", u.Email, u.ID, u.Roles)
	if generated {
		fmt.Fprintf(env.stdout, "one-time password: %s\n", password)
		fmt.Fprintln(env.stderr, "sign in with it (POST /api/v1/auth/login) and change it (POST /api/v1/auth/password); it is not shown again")
	}
	return nil
}

// demoUsers creates an admin, a counsellor and a student for the demo on an empty account
// table, and prints how to sign in.
func demoUsers(ctx context.Context, acc *accounts.Service, db *sqlstore.DB, env *environment, cfg config.Config) error {
	bookings, leadStore := sqlstore.NewBookingStore(db, nil), sqlstore.NewLeadStore(db, nil)
	n, err := acc.Count(ctx)
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
		fmt.Fprintf(env.stdout, "demo users: %s, %s, %s, %s (their passwords were printed when they were created;\n  a new one: gradpath user reset --data %s --email EMAIL)\n",
			demo[0].email, demo[1].email, demo[2].email, demo[3].email, cfg.DataDir)
		return nil
	}
	hours := func(zone string, week map[time.Weekday][]string) booking.Availability {
		a := booking.Availability{Zone: zone, Types: []string{"consultation", "mentorship"}, Exceptions: []booking.Exception{}}
		for d, spans := range week {
			for _, sp := range spans {
				var s calendar.Span
				_ = s.UnmarshalText([]byte(sp))
				a.Week[d] = append(a.Week[d], s)
			}
		}
		return a
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
	fmt.Fprintln(env.stdout, "demo users (sign in at /sign-in, or with POST /api/v1/auth/login; the passwords are shown only now):")
	for _, d := range demo {
		pw := accounts.GeneratePassword()
		u, err := acc.CreateUser(ctx, system, d.email, d.name, d.roles, pw)
		if err != nil {
			return err
		}
		if u.Has(gradpath.RoleCounsellor) && counsellorID == "" {
			counsellorID = u.ID
		}
		if a, ok := availability[d.email]; ok {
			if err := bookings.PutAvailability(ctx, u.ID, a, time.Now()); err != nil {
				return err
			}
		}
		if d.email == "mentor@demo.gradpath.test" {
			// The mentor takes mentorship sessions, not leads.
			if err := leadStore.PutProfile(ctx, leads.Profile{UserID: u.ID, Active: false, Countries: []string{}, Courses: []string{},
				Leave: []leads.Period{}, UpdatedAt: time.Now().UTC()}); err != nil {
				return err
			}
		}
		if u.Has(gradpath.RoleStudent) && counsellorID != "" {
			if _, err := acc.UpdateUser(ctx, system, u.ID,
				accounts.UserUpdate{Counsellor: &counsellorID}); err != nil {
				return err
			}
		}
		fmt.Fprintf(env.stdout, "  %-10s %-32s %s\n", d.roles[0], d.email, pw)
	}
	return nil
}
