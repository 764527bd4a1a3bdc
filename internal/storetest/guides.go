package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/guides"
	"github.com/gradpath/gradpath/internal/sqlstore"
)

// Guides through their service on each engine: revisions, conflicts, publishing now and at a
// set time, restoring, a language falling back to English, and who may write.
func testGuides(t *testing.T, open Opener) {
	ctx := context.Background()
	now := Now
	s := guides.NewService(sqlstore.NewGuideStore(open(t)), func() time.Time { return now })
	admin := &gradpath.Actor{UserID: "usr_admin", Roles: []gradpath.Role{gradpath.RoleAdmin}}
	counsellor := &gradpath.Actor{UserID: "usr_c", Roles: []gradpath.Role{gradpath.RoleCounsellor}}
	g := guides.Guide{Slug: "backend-development", Lang: "en", Kind: guides.KindCourse, Title: "Backend development",
		Description: "Where to study backend development abroad: programmes, entry requirements, costs in INR and deadlines.",
		Body:        "## Why\n\nText.\n\n```programmes\nquery: tag=apis\nlimit: 4\n```\n",
		FAQs:        []guides.FAQ{{Question: "Is IELTS needed?", Answer: "Mostly, yes."}}}

	if _, err := s.Save(ctx, counsellor, g, 0); gradpath.ErrorCode(err) != gradpath.CodeForbidden {
		t.Fatalf("a counsellor saves a guide: %v", err)
	}
	bad := g
	bad.Slug, bad.Body = "Backend Dev", "```programmes\ncolour: blue\n```"
	err := bad.Validate()
	if fields := gradpath.ErrorFields(err); len(fields) != 2 || fields[0].Field != "slug" || fields[1].Field != "body" || !strings.Contains(fields[1].Detail, "line 1") {
		t.Fatalf("a bad guide: %v", err)
	}
	v1, err := s.Save(ctx, admin, g, 0)
	if err != nil || v1.Version != 1 || v1.UpdatedBy != "usr_admin" {
		t.Fatalf("save: %+v %v", v1, err)
	}
	if _, err := s.Published(ctx, g.Slug, "en"); gradpath.ErrorCode(err) != gradpath.CodeNotFound {
		t.Fatalf("a draft is public: %v", err)
	}
	if _, err := s.Save(ctx, admin, g, 0); gradpath.ErrorCode(err) != gradpath.CodeConflict {
		t.Fatalf("a save from a stale revision: %v", err)
	}
	if _, err := s.Publish(ctx, admin, g.Slug, "en", 1, time.Time{}); err != nil {
		t.Fatal(err)
	}
	g.Title = "Backend development abroad"
	if _, err := s.Save(ctx, admin, g, 1); err != nil {
		t.Fatal(err)
	}
	// The public still reads revision 1 until revision 2 is published, tomorrow.
	if p, err := s.Published(ctx, g.Slug, "en"); err != nil || p.Version != 1 {
		t.Fatalf("published: %+v %v", p, err)
	}
	st, err := s.Publish(ctx, admin, g.Slug, "en", 2, now.Add(24*time.Hour))
	if err != nil || st.Live != 1 || st.Scheduled != 2 || !st.PublishAt.Equal(now.Add(24*time.Hour)) {
		t.Fatalf("schedule: %+v %v", st, err)
	}
	now = now.Add(25 * time.Hour)
	if p, _ := s.Published(ctx, g.Slug, "en"); p.Version != 2 || p.Title != "Backend development abroad" {
		t.Errorf("after its time the scheduled revision is not live: %+v", p)
	}
	// Hindi falls back to English while the guide has no Hindi version.
	if p, err := s.Published(ctx, g.Slug, "hi"); err != nil || p.Lang != "en" {
		t.Errorf("hi: %+v %v", p, err)
	}
	r, err := s.Restore(ctx, admin, g.Slug, "en", 1)
	if err != nil || r.Version != 3 || r.Title != "Backend development" || r.Note != "restored from revision 1" {
		t.Fatalf("restore: %+v %v", r, err)
	}
	revs, err := s.Revisions(ctx, admin, g.Slug, "en")
	if err != nil || len(revs) != 3 || revs[0].Version != 3 || len(revs[2].FAQs) != 1 {
		t.Fatalf("revisions: %d %v", len(revs), err)
	}
	list, err := s.PublishedList(ctx)
	if err != nil || len(list) != 1 || list[0].Live != 2 {
		t.Fatalf("published list: %+v %v", list, err)
	}
	if _, err := s.Unpublish(ctx, admin, g.Slug, "en"); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.PublishedList(ctx); len(list) != 0 {
		t.Errorf("an unpublished guide is listed: %+v", list)
	}
}
