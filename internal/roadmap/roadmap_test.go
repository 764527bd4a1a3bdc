package roadmap_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gradpath/gradpath/data"
	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/roadmap"
	"github.com/gradpath/gradpath/internal/sqlstore"
	"github.com/gradpath/gradpath/internal/storetest"
)

func TestRoadmaps(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		acc := accounts.NewService(sqlstore.NewAccountStore(db, nil), accounts.DefaultConfig(clock))
		sys := &gradpath.Actor{Via: "system"}
		learner, _ := acc.CreateUser(ctx, sys, "lena@example.in", "Lena", []gradpath.Role{gradpath.RoleStudent}, "")
		idle, _ := acc.CreateUser(ctx, sys, "ivan@example.in", "Ivan", []gradpath.Role{gradpath.RoleStudent}, "")
		mentorUser, _ := acc.CreateUser(ctx, sys, "mira@agency.in", "Mira", []gradpath.Role{gradpath.RoleCounsellor}, "")
		admin := &gradpath.Actor{UserID: "adm", Roles: []gradpath.Role{gradpath.RoleAdmin}}
		me := &gradpath.Actor{UserID: learner.ID, Roles: learner.Roles}
		mentor := &gradpath.Actor{UserID: mentorUser.ID, Roles: mentorUser.Roles}
		svc := roadmap.NewService(sqlstore.NewRoadmapStore(db), clock, acc.CanSee)

		rs, err := data.Roadmaps()
		if err != nil {
			t.Fatal(err)
		}
		backend := rs[0]
		if _, err := svc.Put(ctx, me, backend); gradpath.ErrorCode(err) != gradpath.CodeForbidden {
			t.Fatalf("a learner edits a roadmap: %v", err)
		}
		if _, err := svc.Put(ctx, admin, backend); err != nil {
			t.Fatal(err)
		}
		got, _ := svc.Get(ctx, "backend")
		var order []string
		for _, tp := range got.Topics {
			order = append(order, tp.ID)
		}
		if strings.Join(order[:4], ",") != "fundamentals,git,databases,apis" || len(order) != 13 {
			t.Fatalf("topic order %v", order)
		}
		bad := backend
		bad.Topics = append([]roadmap.Topic{{ID: "git", Title: "Git again", Level: "core"}}, backend.Topics...)
		if _, err := svc.Put(ctx, admin, bad); gradpath.ErrorCode(err) != gradpath.CodeInvalid {
			t.Fatalf("a repeated topic id: %v", err)
		}

		for _, id := range []string{"internet-basics", "programming-language", "data-structures-algorithms", "git"} {
			if _, err := svc.SetStatus(ctx, me, "backend", id, roadmap.Done); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := svc.SetStatus(ctx, me, "backend", "firebase", roadmap.Skipped); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SetStatus(ctx, me, "backend", "nope", roadmap.Done); gradpath.ErrorCode(err) != gradpath.CodeNotFound {
			t.Fatalf("an unknown topic: %v", err)
		}
		if _, err := svc.SetStatus(ctx, me, "backend", "git", "finished"); gradpath.ErrorCode(err) != gradpath.CodeInvalid {
			t.Fatalf("an unknown status: %v", err)
		}
		p, err := svc.MyProgress(ctx, me, "backend")
		if err != nil {
			t.Fatal(err)
		}
		// 4 of 24 topics counted (25, one skipped) are done; the fundamentals branch is 3 of 4.
		if p.Done != 4 || p.Total != 24 || p.Progress != 16 || p.Topics[0].Progress != 75 || p.Topics[1].Status != roadmap.Done {
			t.Fatalf("progress %d/%d %d%%, fundamentals %d%%", p.Done, p.Total, p.Progress, p.Topics[0].Progress)
		}

		// Edits keep progress: git renamed and moved under fundamentals keeps "done"; caching
		// removed is archived, and its state comes back with it.
		if _, err := svc.SetStatus(ctx, me, "backend", "caching", roadmap.Doing); err != nil {
			t.Fatal(err)
		}
		edited := backend
		edited.Topics = nil
		for _, tp := range backend.Topics {
			switch tp.ID {
			case "git":
			case "caching":
			case "fundamentals":
				g := backend.Topics[1]
				g.Title = "Git and GitHub"
				tp.Children = append(append([]roadmap.Topic{}, tp.Children...), g)
				edited.Topics = append(edited.Topics, tp)
			default:
				edited.Topics = append(edited.Topics, tp)
			}
		}
		saved, err := svc.Put(ctx, admin, edited)
		if err != nil {
			t.Fatal(err)
		}
		if len(saved.Archived) != 1 || saved.Archived[0].ID != "caching" {
			t.Fatalf("archived %+v", saved.Archived)
		}
		p, _ = svc.MyProgress(ctx, me, "backend")
		if p.Topics[0].Progress != 80 || p.Topics[0].Children[3].Status != roadmap.Done || p.Topics[0].Children[3].Title != "Git and GitHub" {
			t.Fatalf("after the edit: %+v", p.Topics[0])
		}
		if _, err := svc.Put(ctx, admin, backend); err != nil { // caching back
			t.Fatal(err)
		}
		p, _ = svc.MyProgress(ctx, me, "backend")
		for _, tp := range p.Topics {
			if tp.ID == "caching" && tp.Status != roadmap.Doing {
				t.Fatalf("caching came back as %s", tp.Status)
			}
		}

		// A topic shared with another roadmap has one state.
		devops := roadmap.Roadmap{Slug: "devops", Title: "DevOps", Topics: []roadmap.Topic{{ID: "git", Title: "Git", Level: "core"}, {ID: "ci-cd", Title: "CI/CD", Level: "core"}}}
		if _, err := svc.Put(ctx, admin, devops); err != nil {
			t.Fatal(err)
		}
		dp, _ := svc.MyProgress(ctx, me, "devops")
		if dp.Topics[0].Status != roadmap.Done || dp.Progress != 50 {
			t.Fatalf("devops: git %s, %d%%", dp.Topics[0].Status, dp.Progress)
		}
		hist, _ := svc.History(ctx, me)
		if len(hist) != 6 || hist[0].TopicID != "caching" {
			t.Fatalf("history %+v", hist)
		}

		// A counsellor sees the progress of the students assigned to them, and nobody else's.
		if _, err := svc.ProgressOf(ctx, mentor, learner.ID, "backend"); gradpath.ErrorCode(err) != gradpath.CodeNotFound {
			t.Fatalf("a counsellor reads a student not theirs: %v", err)
		}
		if _, err := acc.UpdateUser(ctx, sys, learner.ID, accounts.UserUpdate{Counsellor: &mentorUser.ID}); err != nil {
			t.Fatal(err)
		}
		if theirs, err := svc.ProgressOf(ctx, mentor, learner.ID, "backend"); err != nil || theirs.Done != p.Done {
			t.Fatalf("the counsellor reads their student: %d done, %v", theirs.Done, err)
		}
		if _, err := svc.ProgressOf(ctx, &gradpath.Actor{UserID: idle.ID, Roles: idle.Roles}, learner.ID, "backend"); gradpath.ErrorCode(err) != gradpath.CodeNotFound {
			t.Fatalf("a student reads another's progress: %v", err)
		}

		// The mentor's cohort view: Lena progresses, Ivan has not started: stuck.
		if _, err := svc.CreateCohort(ctx, me, roadmap.CohortInput{Name: "x", Roadmap: "backend", Members: []string{learner.ID}}); gradpath.ErrorCode(err) != gradpath.CodeForbidden {
			t.Fatalf("a learner makes a cohort: %v", err)
		}
		// A mentor groups only their own students: not an unassigned student, an admin, or an
		// id that does not exist, all refused alike.
		adminUser, _ := acc.CreateUser(ctx, sys, "head@agency.in", "Head", []gradpath.Role{gradpath.RoleAdmin}, "")
		_, err = svc.CreateCohort(ctx, mentor, roadmap.CohortInput{Name: "Backend, January batch", Roadmap: "backend",
			Members: []string{learner.ID, idle.ID, adminUser.ID, "usr_nobody"}})
		fields := map[string]bool{}
		for _, f := range gradpath.ErrorFields(err) {
			fields[f.Field] = strings.Contains(f.Detail, "not one of your students")
		}
		if gradpath.ErrorCode(err) != gradpath.CodeInvalid || fields["members[0]"] || !fields["members[1]"] || !fields["members[2]"] || !fields["members[3]"] {
			t.Fatalf("a cohort of learners not the mentor's: %v", err)
		}
		if _, err := acc.UpdateUser(ctx, sys, idle.ID, accounts.UserUpdate{Counsellor: &mentorUser.ID}); err != nil {
			t.Fatal(err)
		}
		c, err := svc.CreateCohort(ctx, mentor, roadmap.CohortInput{Name: "Backend, January batch", Roadmap: "backend", Members: []string{learner.ID, idle.ID}})
		if err != nil {
			t.Fatal(err)
		}
		now = now.Add(3 * 24 * time.Hour)
		v, err := svc.Cohort(ctx, mentor, c.ID, 7)
		if err != nil {
			t.Fatal(err)
		}
		stuck := map[string]bool{}
		for _, l := range v.Learners {
			stuck[l.UserID] = l.Stuck
		}
		if stuck[learner.ID] || !stuck[idle.ID] || v.Topics["git"][roadmap.Done] != 1 || v.Topics["git"][roadmap.Todo] != 1 {
			t.Fatalf("cohort view %+v", v)
		}
		// Ivan moves to another counsellor: the cohort no longer shows him.
		otherUser, _ := acc.CreateUser(ctx, sys, "omar@agency.in", "Omar", []gradpath.Role{gradpath.RoleCounsellor}, "")
		if _, err := acc.UpdateUser(ctx, sys, idle.ID, accounts.UserUpdate{Counsellor: &otherUser.ID}); err != nil {
			t.Fatal(err)
		}
		if v, err := svc.Cohort(ctx, mentor, c.ID, 7); err != nil || len(v.Learners) != 1 || v.Learners[0].UserID != learner.ID {
			t.Fatalf("after Ivan moved: %v %+v", err, v.Learners)
		}
		other := &gradpath.Actor{UserID: "usr_other", Roles: []gradpath.Role{gradpath.RoleCounsellor}}
		if _, err := svc.Cohort(ctx, other, c.ID, 7); gradpath.ErrorCode(err) != gradpath.CodeNotFound {
			t.Fatalf("another mentor's cohort: %v", err)
		}
	})
}
