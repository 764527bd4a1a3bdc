package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/sqlstore"
)

func testAccounts(t *testing.T, open Opener) {
	ctx := context.Background()
	user := func(id, email string, roles ...gradpath.Role) accounts.User {
		return accounts.User{ID: id, Email: email, Name: "N " + id, Roles: roles, PasswordHash: "$argon2id$x", CreatedAt: Now}
	}

	t.Run("Users", func(t *testing.T) {
		s := sqlstore.NewAccountStore(open(t), nil)
		for _, u := range []accounts.User{
			user("usr_a", "asha@example.in", gradpath.RoleStudent),
			user("usr_b", "bela@example.in", gradpath.RoleCounsellor),
			user("usr_c", "chen@example.in", gradpath.RoleAdmin, gradpath.RoleCounsellor),
		} {
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		wantCode(t, s.CreateUser(ctx, user("usr_d", "asha@example.in", gradpath.RoleStudent)), gradpath.CodeConflict)
		got, err := s.UserByEmail(ctx, "chen@example.in")
		if err != nil || got.ID != "usr_c" || !slices.Equal(got.Roles, []gradpath.Role{gradpath.RoleAdmin, gradpath.RoleCounsellor}) ||
			!got.HasPassword || !got.CreatedAt.Equal(Now) {
			t.Fatalf("by email: %+v %v", got, err)
		}
		_, err = s.User(ctx, "usr_z")
		wantCode(t, err, gradpath.CodeNotFound)

		got.Name, got.Disabled, got.Roles = "Chen Wei", true, []gradpath.Role{gradpath.RoleAdmin}
		if err := s.UpdateUser(ctx, got); err != nil {
			t.Fatal(err)
		}
		if again, _ := s.User(ctx, "usr_c"); again.Name != "Chen Wei" || !again.Disabled || len(again.Roles) != 1 {
			t.Errorf("after update: %+v", again)
		}
		if err := s.AssignCounsellor(ctx, "usr_a", "usr_b"); err != nil {
			t.Fatal(err)
		}
		if a, _ := s.User(ctx, "usr_a"); a.Counsellor != "usr_b" {
			t.Errorf("counsellor %q", a.Counsellor)
		}
		if err := s.AssignCounsellor(ctx, "usr_a", ""); err != nil {
			t.Fatal(err)
		}
		if a, _ := s.User(ctx, "usr_a"); a.Counsellor != "" {
			t.Errorf("unassigned: %q", a.Counsellor)
		}

		list := func(q accounts.UserQuery) []string {
			t.Helper()
			if q.Limit == 0 {
				q.Limit = 10
			}
			us, err := s.Users(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, u := range us {
				ids = append(ids, u.ID)
			}
			return ids
		}
		if got := list(accounts.UserQuery{Role: gradpath.RoleCounsellor}); !slices.Equal(got, []string{"usr_b"}) {
			t.Errorf("counsellors: %v", got)
		}
		if got := list(accounts.UserQuery{Text: "BELA"}); !slices.Equal(got, []string{"usr_b"}) {
			t.Errorf("by text: %v", got)
		}
		if got := list(accounts.UserQuery{After: "usr_a", Limit: 1}); !slices.Equal(got, []string{"usr_b"}) {
			t.Errorf("page: %v", got)
		}
		if err := s.AssignCounsellor(ctx, "usr_a", "usr_b"); err != nil {
			t.Fatal(err)
		}
		if got := list(accounts.UserQuery{Counsellor: "usr_b"}); !slices.Equal(got, []string{"usr_a"}) {
			t.Errorf("students of usr_b: %v", got)
		}
		if got := list(accounts.UserQuery{Counsellor: "usr_c"}); len(got) != 0 {
			t.Errorf("students of usr_c: %v", got)
		}
		if err := s.AssignCounsellor(ctx, "usr_a", ""); err != nil {
			t.Fatal(err)
		}
		if n, _ := s.CountUsers(ctx); n != 3 {
			t.Errorf("count %d", n)
		}

		if err := s.LinkIdentity(ctx, "usr_a", "https://id.example", "sub-1"); err != nil {
			t.Fatal(err)
		}
		if u, err := s.UserByIdentity(ctx, "https://id.example", "sub-1"); err != nil || u.ID != "usr_a" {
			t.Errorf("identity: %+v %v", u, err)
		}
		_, err = s.UserByIdentity(ctx, "https://id.example", "sub-2")
		wantCode(t, err, gradpath.CodeNotFound)
	})

	t.Run("SessionsAndPasswords", func(t *testing.T) {
		s := sqlstore.NewAccountStore(open(t), nil)
		s.CreateUser(ctx, user("usr_a", "a@example.in", gradpath.RoleStudent))
		for _, h := range []string{"h1", "h2", "h3"} {
			if err := s.CreateSession(ctx, accounts.Session{Hash: h, UserID: "usr_a", CSRFToken: "c" + h, CreatedAt: Now, LastSeen: Now, ExpiresAt: Now.Add(time.Hour), IP: "10.0.0.1"}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.TouchSession(ctx, "h1", Now.Add(5*time.Minute)); err != nil {
			t.Fatal(err)
		}
		got, err := s.Session(ctx, "h1")
		if err != nil || got.CSRFToken != "ch1" || !got.LastSeen.Equal(Now.Add(5*time.Minute)) || !got.ExpiresAt.Equal(Now.Add(time.Hour)) {
			t.Fatalf("session %+v %v", got, err)
		}
		if err := s.SetPassword(ctx, "usr_a", "new-hash", "h2"); err != nil {
			t.Fatal(err)
		}
		for h, alive := range map[string]bool{"h1": false, "h2": true, "h3": false} {
			_, err := s.Session(ctx, h)
			if (err == nil) != alive {
				t.Errorf("after a password change, session %s alive = %v", h, err == nil)
			}
		}
		if u, _ := s.User(ctx, "usr_a"); u.PasswordHash != "new-hash" {
			t.Errorf("hash %q", u.PasswordHash)
		}
		s.DeleteSession(ctx, "h2")
		_, err = s.Session(ctx, "h2")
		wantCode(t, err, gradpath.CodeNotFound)

		// A reset works once, and not after it expires.
		s.CreateReset(ctx, accounts.Reset{Hash: "r1", UserID: "usr_a", ExpiresAt: Now.Add(time.Hour)})
		s.CreateReset(ctx, accounts.Reset{Hash: "r2", UserID: "usr_a", ExpiresAt: Now.Add(time.Hour)})
		_, err = s.ConsumeReset(ctx, "r1", Now)
		wantCode(t, err, gradpath.CodeNotFound) // replaced by r2
		_, err = s.ConsumeReset(ctx, "r2", Now.Add(2*time.Hour))
		wantCode(t, err, gradpath.CodeNotFound) // expired
		s.CreateReset(ctx, accounts.Reset{Hash: "r3", UserID: "usr_a", ExpiresAt: Now.Add(time.Hour)})
		if id, err := s.ConsumeReset(ctx, "r3", Now); err != nil || id != "usr_a" {
			t.Errorf("consume: %q %v", id, err)
		}
		_, err = s.ConsumeReset(ctx, "r3", Now)
		wantCode(t, err, gradpath.CodeNotFound) // once
	})

	t.Run("Tokens", func(t *testing.T) {
		s := sqlstore.NewAccountStore(open(t), nil)
		s.CreateUser(ctx, user("usr_a", "a@example.in", gradpath.RoleStudent))
		s.CreateUser(ctx, user("usr_b", "b@example.in", gradpath.RoleStudent))
		tok := accounts.Token{ID: "tok_1", UserID: "usr_a", Name: "ci", Scopes: []gradpath.Scope{gradpath.ScopeRead, gradpath.ScopeWrite}, Hash: "h", CreatedAt: Now, ExpiresAt: Now.AddDate(0, 0, 30)}
		if err := s.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		got, err := s.Token(ctx, "tok_1")
		if err != nil || got.UserID != "usr_a" || !slices.Equal(got.Scopes, tok.Scopes) || got.LastUsedAt != nil {
			t.Fatalf("token %+v %v", got, err)
		}
		s.TouchToken(ctx, "tok_1", Now.Add(time.Hour))
		if list, _ := s.Tokens(ctx, "usr_a"); len(list) != 1 || list[0].LastUsedAt == nil || !list[0].LastUsedAt.Equal(Now.Add(time.Hour)) {
			t.Errorf("tokens %+v", list)
		}
		wantCode(t, s.DeleteToken(ctx, "usr_b", "tok_1"), gradpath.CodeNotFound)
		if err := s.DeleteToken(ctx, "usr_a", "tok_1"); err != nil {
			t.Fatal(err)
		}
		_, err = s.Token(ctx, "tok_1")
		wantCode(t, err, gradpath.CodeNotFound)
	})

	t.Run("Audit", func(t *testing.T) {
		s := sqlstore.NewAccountStore(open(t), nil)
		for i, e := range []accounts.AuditEvent{
			{At: Now, ActorID: "usr_a", Action: accounts.AuditLogin, SubjectID: "usr_a", IP: "10.0.0.1", RequestID: "r1"},
			{At: Now.Add(time.Second), ActorID: "usr_c", Action: accounts.AuditUserRead, SubjectID: "usr_a", Details: map[string]any{"why": "support"}},
			{At: Now.Add(2 * time.Second), ActorID: "usr_c", Action: accounts.AuditRolesChanged, SubjectID: "usr_b"},
		} {
			if err := s.Audit(ctx, e); err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
		}
		all, err := s.AuditLog(ctx, accounts.AuditQuery{Limit: 10})
		if err != nil || len(all) != 3 || all[0].Action != accounts.AuditRolesChanged || all[2].IP != "10.0.0.1" || all[1].Details["why"] != "support" {
			t.Fatalf("log %+v %v", all, err)
		}
		about, _ := s.AuditLog(ctx, accounts.AuditQuery{SubjectID: "usr_a", Limit: 10})
		by, _ := s.AuditLog(ctx, accounts.AuditQuery{ActorID: "usr_c", Action: accounts.AuditUserRead, Limit: 10})
		older, _ := s.AuditLog(ctx, accounts.AuditQuery{Before: all[0].ID, Limit: 1})
		if len(about) != 2 || len(by) != 1 || len(older) != 1 || older[0].ID != all[1].ID {
			t.Errorf("filters: %d %d %+v", len(about), len(by), older)
		}
	})
}
