package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/guides"
)

// GuideStore implements guides.Store.
type GuideStore struct{ db *DB }

var _ guides.Store = (*GuideStore)(nil)

// NewGuideStore returns the guide store of db.
func NewGuideStore(db *DB) *GuideStore { return &GuideStore{db: db} }

// PutRevision implements guides.Store: the revision and the guide's row in one transaction,
// refused as a conflict when another revision took the number first.
func (s *GuideStore) PutRevision(ctx context.Context, g guides.Guide) error {
	return s.db.inTx(ctx, func(tx *sql.Tx) error {
		var latest int
		err := tx.QueryRowContext(ctx, s.db.q(`SELECT latest FROM guides WHERE slug = ? AND lang = ?`), g.Slug, g.Lang).Scan(&latest)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return wrap(err, "guide")
		}
		if latest != g.Version-1 {
			return gradpath.Errorf(gradpath.CodeConflict, "the guide was saved by someone else meanwhile (it is at revision %d): read it again", latest)
		}
		if _, err := tx.ExecContext(ctx, s.db.q(`INSERT INTO guide_revisions (slug, lang, version, doc, updated_by, created_at) VALUES (?, ?, ?, ?, ?, ?)`),
			g.Slug, g.Lang, g.Version, jsonText(g), g.UpdatedBy, utc(g.UpdatedAt)); err != nil {
			if isUnique(err) {
				return gradpath.Errorf(gradpath.CodeConflict, "the guide was saved by someone else meanwhile: read it again")
			}
			return wrap(err, "put guide revision")
		}
		_, err = tx.ExecContext(ctx, s.db.q(`INSERT INTO guides (slug, lang, kind, title, latest, updated_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (slug, lang) DO UPDATE SET kind = excluded.kind, title = excluded.title, latest = excluded.latest, updated_at = excluded.updated_at`),
			g.Slug, g.Lang, g.Kind, g.Title, g.Version, utc(g.UpdatedAt))
		return wrap(err, "put guide")
	})
}

// Revision implements guides.Store.
func (s *GuideStore) Revision(ctx context.Context, slug, lang string, version int) (guides.Guide, error) {
	var doc string
	err := s.db.read.QueryRowContext(ctx, s.db.q(`SELECT doc FROM guide_revisions WHERE slug = ? AND lang = ? AND version = ?`), slug, lang, version).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return guides.Guide{}, gradpath.NotFound("guide", slug)
	} else if err != nil {
		return guides.Guide{}, wrap(err, "guide revision")
	}
	var g guides.Guide
	return g, wrap(json.Unmarshal([]byte(doc), &g), "guide revision")
}

// Revisions implements guides.Store, newest first.
func (s *GuideStore) Revisions(ctx context.Context, slug, lang string) ([]guides.Guide, error) {
	rows, err := s.db.read.QueryContext(ctx, s.db.q(`SELECT doc FROM guide_revisions WHERE slug = ? AND lang = ? ORDER BY version DESC`), slug, lang)
	if err != nil {
		return nil, wrap(err, "guide revisions")
	}
	defer rows.Close()
	var out []guides.Guide
	for rows.Next() {
		var doc string
		var g guides.Guide
		if err := rows.Scan(&doc); err != nil {
			return nil, wrap(err, "guide revisions")
		}
		if err := json.Unmarshal([]byte(doc), &g); err != nil {
			return nil, wrap(err, "guide revisions")
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "guide revisions")
	}
	if len(out) == 0 {
		return nil, gradpath.NotFound("guide", slug)
	}
	return out, nil
}

const guideColumns = `slug, lang, kind, title, latest, live, scheduled, publish_at, updated_at`

func scanState(row interface{ Scan(...any) error }) (guides.State, error) {
	var st guides.State
	var at sql.NullTime
	if err := row.Scan(&st.Slug, &st.Lang, &st.Kind, &st.Title, &st.Latest, &st.Live, &st.Scheduled, &at, &st.UpdatedAt); err != nil {
		return st, err
	}
	if at.Valid {
		st.PublishAt = at.Time.UTC()
	}
	st.UpdatedAt = st.UpdatedAt.UTC()
	return st, nil
}

// State implements guides.Store.
func (s *GuideStore) State(ctx context.Context, slug, lang string) (guides.State, error) {
	st, err := scanState(s.db.read.QueryRowContext(ctx, s.db.q(`SELECT `+guideColumns+` FROM guides WHERE slug = ? AND lang = ?`), slug, lang))
	if errors.Is(err, sql.ErrNoRows) {
		return guides.State{}, gradpath.NotFound("guide", slug)
	}
	return st, wrap(err, "guide")
}

// States implements guides.Store, by kind and title.
func (s *GuideStore) States(ctx context.Context) ([]guides.State, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT `+guideColumns+` FROM guides ORDER BY kind, title, slug, lang`)
	if err != nil {
		return nil, wrap(err, "guides")
	}
	defer rows.Close()
	var out []guides.State
	for rows.Next() {
		st, err := scanState(rows)
		if err != nil {
			return nil, wrap(err, "guides")
		}
		out = append(out, st)
	}
	return out, wrap(rows.Err(), "guides")
}

// SetPublication implements guides.Store.
func (s *GuideStore) SetPublication(ctx context.Context, slug, lang string, live, scheduled int, at time.Time) error {
	var when any
	if !at.IsZero() {
		when = utc(at)
	}
	res, err := s.db.write.ExecContext(ctx, s.db.q(`UPDATE guides SET live = ?, scheduled = ?, publish_at = ? WHERE slug = ? AND lang = ?`),
		live, scheduled, when, slug, lang)
	if err != nil {
		return wrap(err, "publish guide")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return gradpath.NotFound("guide", slug)
	}
	return nil
}
