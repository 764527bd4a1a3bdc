package workspace_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/blobstore"
	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/sqlstore"
	"github.com/gradpath/gradpath/internal/storetest"
	"github.com/gradpath/gradpath/internal/workspace"
)

// A student has one document library: a passport uploaded once serves every application,
// flagged against each one's dates; a review shows everywhere; a statement of purpose is one
// application's own; the latest of a kind is the current one, and removing it falls back to
// the one before. Documents uploaded to an application before the library join it. Both
// engines.
func TestDocumentLibrary(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		cat := catalogueOf(t, db, clock)
		// prog-1 lasts a year (ends 2028-09), prog-2 three years (ends 2030-09).
		for id, months := range map[string]int{"prog-1": 12, "prog-2": 36} {
			p, _ := cat.Programme(ctx, id)
			p.DurationMonths = months
			if _, err := cat.Put(ctx, catalogue.Change{Programmes: []catalogue.Programme{p}}); err != nil {
				t.Fatal(err)
			}
		}
		acc := accounts.NewService(sqlstore.NewAccountStore(db, nil), accounts.DefaultConfig(clock))
		system := &gradpath.Actor{Via: "system"}
		c, _ := acc.CreateUser(ctx, system, "priya@agency.in", "Priya", []gradpath.Role{gradpath.RoleCounsellor}, "")
		other, _ := acc.CreateUser(ctx, system, "ben@agency.in", "Ben", []gradpath.Role{gradpath.RoleCounsellor}, "")
		st, _ := acc.CreateUser(ctx, system, "arjun@example.in", "Arjun", []gradpath.Role{gradpath.RoleStudent}, "")
		cid := c.ID
		if _, err := acc.UpdateUser(ctx, system, st.ID, accounts.UserUpdate{Counsellor: &cid}); err != nil {
			t.Fatal(err)
		}
		users := sqlstore.NewAccountStore(db, nil)
		blobs, err := blobstore.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		store := sqlstore.NewWorkspaceStore(db, nil)
		ws := workspace.NewService(workspace.Deps{Store: store, Catalogue: cat, Files: store, Blobs: blobs,
			CounsellorOf: func(ctx context.Context, id string) (string, error) {
				u, err := users.User(ctx, id)
				return u.Counsellor, err
			}, Now: clock})
		me := &gradpath.Actor{UserID: st.ID, Roles: st.Roles}
		priya := &gradpath.Actor{UserID: c.ID, Roles: c.Roles}
		ben := &gradpath.Actor{UserID: other.ID, Roles: other.Roles}
		short, err := ws.CreateApplication(ctx, me, st.ID, workspace.ApplicationInput{ProgrammeID: "prog-1", Intake: date(t, "2027-09")})
		if err != nil {
			t.Fatal(err)
		}
		long, err := ws.CreateApplication(ctx, me, st.ID, workspace.ApplicationInput{ProgrammeID: "prog-2", Intake: date(t, "2027-09")})
		if err != nil {
			t.Fatal(err)
		}
		item := func(appID, kind string) workspace.Document {
			t.Helper()
			app, err := ws.Application(ctx, me, st.ID, appID)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range app.Documents {
				if d.Kind == kind {
					return d
				}
			}
			t.Fatalf("no %s in the checklist", kind)
			return workspace.Document{}
		}
		pdf := func(s string) []byte { return []byte("%PDF-1.7\n%" + s + "\n1 0 obj << >> endobj\n%%EOF\n") }

		// One passport, valid to 2029-06: fine for the one-year course, flagged for the three-year one.
		pass, err := ws.AddDocument(ctx, me, st.ID, workspace.UploadInput{Kind: "passport", Name: "passport.pdf", Data: pdf("p1"), ExpiresOn: date(t, "2029-06-30")})
		if err != nil {
			t.Fatal(err)
		}
		if d := item(short.ID, "passport"); d.LibraryID != pass.ID || d.Status != workspace.DocUploaded || d.Flag != "" {
			t.Errorf("the passport in the one-year application: %+v", d)
		}
		if d := item(long.ID, "passport"); d.LibraryID != pass.ID || !strings.Contains(d.Flag, "expires before the course ends (2030-09-01)") {
			t.Errorf("the passport in the three-year application: %+v", d)
		}
		// Reviewed once, seen in both; the student cannot review, nor can another counsellor.
		if _, err := ws.ReviewLibraryDocument(ctx, me, st.ID, pass.ID, workspace.Review{Status: workspace.DocVerified}); gradpath.ErrorCode(err) != gradpath.CodeForbidden {
			t.Errorf("the student verifies their passport: %v", err)
		}
		if _, err := ws.ReviewLibraryDocument(ctx, ben, st.ID, pass.ID, workspace.Review{Status: workspace.DocVerified}); err == nil {
			t.Error("another counsellor verifies the passport")
		}
		if _, err := ws.Library(ctx, ben, st.ID); err == nil {
			t.Error("another counsellor reads the library")
		}
		if _, err := ws.ReviewLibraryDocument(ctx, priya, st.ID, pass.ID, workspace.Review{Status: workspace.DocVerified}); err != nil {
			t.Fatal(err)
		}
		if item(short.ID, "passport").Status != workspace.DocVerified || item(long.ID, "passport").Status != workspace.DocVerified {
			t.Error("the review does not show in both applications")
		}
		// A statement of purpose for the short course only.
		if _, err := ws.AddDocument(ctx, me, st.ID, workspace.UploadInput{Kind: "sop", Name: "sop.pdf", Data: pdf("sop"), ApplicationID: short.ID, Title: "SOP for the one-year MSc"}); err != nil {
			t.Fatal(err)
		}
		if item(short.ID, "sop").Status != workspace.DocUploaded || item(long.ID, "sop").Status != workspace.DocMissing {
			t.Error("a statement of purpose for one application shows in the other")
		}
		if _, err := ws.AddDocument(ctx, me, st.ID, workspace.UploadInput{Kind: "sop", Data: pdf("x"), ApplicationID: "app_someone_else"}); gradpath.ErrorCode(err) != gradpath.CodeInvalid {
			t.Errorf("a document for an application that is not the student's: %v", err)
		}
		// Uploaded through an application, the renewed passport replaces the first everywhere.
		renewed, err := ws.Upload(ctx, me, st.ID, short.ID, workspace.UploadInput{Kind: "passport", Name: "new.pdf", Data: pdf("p2"), ExpiresOn: date(t, "2036-01-31")})
		if err != nil {
			t.Fatal(err)
		}
		if d := item(long.ID, "passport"); d.LibraryID != renewed.LibraryID || d.Flag != "" || d.Status != workspace.DocUploaded {
			t.Errorf("the renewed passport in the other application: %+v", d)
		}
		lib, err := ws.Library(ctx, priya, st.ID)
		if err != nil || len(lib) != 3 || !lib[0].Current || lib[0].ID != renewed.LibraryID {
			t.Fatalf("the library, newest first: %v %+v", err, lib)
		}
		for _, d := range lib {
			if d.ID == pass.ID && d.Current {
				t.Error("the first passport is still current")
			}
		}
		// Removing the renewed passport falls back to the first.
		if err := ws.DeleteDocument(ctx, me, st.ID, renewed.LibraryID); err != nil {
			t.Fatal(err)
		}
		if d := item(long.ID, "passport"); d.LibraryID != pass.ID || d.Status != workspace.DocVerified {
			t.Errorf("after removing the renewed passport: %+v", d)
		}
		if err := ws.DeleteDocument(ctx, me, st.ID, renewed.LibraryID); gradpath.ErrorCode(err) != gradpath.CodeNotFound {
			t.Errorf("removing it twice: %v", err)
		}

		// Transcripts an application held itself, from before the library, join it and serve
		// the other application too.
		stored, err := store.Application(ctx, long.ID)
		if err != nil {
			t.Fatal(err)
		}
		for i := range stored.Documents {
			if d := &stored.Documents[i]; d.Kind == "transcripts" {
				d.Status, d.FileID, d.LibraryID, d.UpdatedAt = workspace.DocUploaded, pass.FileID, "", now
			}
		}
		stored.Version++
		if err := store.UpdateApplication(ctx, stored); err != nil {
			t.Fatal(err)
		}
		if d := item(short.ID, "transcripts"); d.Status != workspace.DocUploaded || d.FileID != pass.FileID || d.LibraryID == "" {
			t.Errorf("transcripts from before the library: %+v", d)
		}
		if lib, _ := ws.Library(ctx, me, st.ID); len(lib) != 3 {
			t.Errorf("the adopted transcripts are not in the library once: %+v", lib)
		}
	})
}
