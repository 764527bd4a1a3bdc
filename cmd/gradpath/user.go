package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/app"
	"github.com/gradpath/gradpath/internal/config"
	"github.com/gradpath/gradpath/internal/gradpath"
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
	takesLeads := fs.Bool("takes-leads", false, "a counsellor takes new leads at once (otherwise once they set their hours)")
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
	a, err := app.New(ctx, cfg, app.Options{Progress: env.stderr})
	if err != nil {
		return err
	}
	defer a.Close(context.Background())
	acc := a.Accounts
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
	if u.Has(gradpath.RoleCounsellor) {
		if *takesLeads {
			if err := a.Leads.StartTaking(ctx, u.ID); err != nil {
				return err
			}
			fmt.Fprintln(env.stdout, "they take new leads from now on")
		} else {
			fmt.Fprintln(env.stderr, "they take no leads until they set their hours (My hours, /calendar/hours) or an admin makes them active (/admin/counsellors)")
		}
	}
	if generated {
		fmt.Fprintf(env.stdout, "one-time password: %s\n", password)
		fmt.Fprintln(env.stderr, "sign in with it (POST /api/v1/auth/login) and change it (POST /api/v1/auth/password); it is not shown again")
	}
	return nil
}
