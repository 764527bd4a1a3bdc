package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/roadmap"
)

// RoadmapStore implements roadmap.Store.
type RoadmapStore struct{ db *DB }

var _ roadmap.Store = (*RoadmapStore)(nil)

// NewRoadmapStore returns the roadmap store of db.
func NewRoadmapStore(db *DB) *RoadmapStore { return &RoadmapStore{db: db} }

// Roadmaps implements roadmap.Store.
func (s *RoadmapStore) Roadmaps(ctx context.Context) ([]roadmap.Roadmap, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT doc FROM roadmaps ORDER BY title, slug`)
	if err != nil {
		return nil, wrap(err, "roadmaps")
	}
	defer rows.Close()
	var out []roadmap.Roadmap
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, wrap(err, "roadmaps")
		}
		var r roadmap.Roadmap
		if err := json.Unmarshal([]byte(doc), &r); err != nil {
			return nil, wrap(err, "roadmaps")
		}
		out = append(out, r)
	}
	return out, wrap(rows.Err(), "roadmaps")
}

// Roadmap implements roadmap.Store.
func (s *RoadmapStore) Roadmap(ctx context.Context, slug string) (roadmap.Roadmap, error) {
	var doc string
	err := s.db.read.QueryRowContext(ctx, s.db.q(`SELECT doc FROM roadmaps WHERE slug = ?`), slug).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return roadmap.Roadmap{}, gradpath.NotFound("roadmap", slug)
	}
	if err != nil {
		return roadmap.Roadmap{}, wrap(err, "roadmap")
	}
	var r roadmap.Roadmap
	return r, wrap(json.Unmarshal([]byte(doc), &r), "roadmap")
}

// PutRoadmap implements roadmap.Store.
func (s *RoadmapStore) PutRoadmap(ctx context.Context, r roadmap.Roadmap) error {
	_, err := s.db.write.ExecContext(ctx, s.db.q(`INSERT INTO roadmaps (slug, title, doc, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (slug) DO UPDATE SET title = excluded.title, doc = excluded.doc, updated_at = excluded.updated_at`), r.Slug, r.Title, jsonText(r), utc(r.UpdatedAt))
	return wrap(err, "put roadmap")
}

// Marks implements roadmap.Store.
func (s *RoadmapStore) Marks(ctx context.Context, userID string) (map[string]roadmap.Mark, error) {
	rows, err := s.db.read.QueryContext(ctx, s.db.q(`SELECT topic_id, status, updated_at, done_at FROM topic_marks WHERE user_id = ?`), userID)
	if err != nil {
		return nil, wrap(err, "marks")
	}
	defer rows.Close()
	out := map[string]roadmap.Mark{}
	for rows.Next() {
		var m roadmap.Mark
		var done sql.NullTime
		if err := rows.Scan(&m.TopicID, &m.Status, &m.UpdatedAt, &done); err != nil {
			return nil, wrap(err, "marks")
		}
		m.UpdatedAt = m.UpdatedAt.UTC()
		if done.Valid {
			t := done.Time.UTC()
			m.DoneAt = &t
		}
		out[m.TopicID] = m
	}
	return out, wrap(rows.Err(), "marks")
}

// SetMark implements roadmap.Store.
func (s *RoadmapStore) SetMark(ctx context.Context, userID string, m roadmap.Mark) error {
	return s.db.inGroup(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.db.q(`INSERT INTO topic_marks (user_id, topic_id, status, updated_at, done_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (user_id, topic_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at,
			done_at = COALESCE(excluded.done_at, topic_marks.done_at)`), userID, m.TopicID, m.Status, utc(m.UpdatedAt), nullTime(m.DoneAt)); err != nil {
			return wrap(err, "set mark")
		}
		_, err := tx.ExecContext(ctx, s.db.q(`INSERT INTO topic_events (user_id, topic_id, status, at) VALUES (?, ?, ?, ?)`), userID, m.TopicID, m.Status, utc(m.UpdatedAt))
		return wrap(err, "mark history")
	})
}

// History implements roadmap.Store.
func (s *RoadmapStore) History(ctx context.Context, userID string, limit int) ([]roadmap.Event, error) {
	rows, err := s.db.read.QueryContext(ctx, s.db.q(`SELECT topic_id, status, at FROM topic_events WHERE user_id = ? ORDER BY id DESC LIMIT ?`), userID, limit)
	if err != nil {
		return nil, wrap(err, "history")
	}
	defer rows.Close()
	out := []roadmap.Event{}
	for rows.Next() {
		var e roadmap.Event
		if err := rows.Scan(&e.TopicID, &e.Status, &e.At); err != nil {
			return nil, wrap(err, "history")
		}
		e.At = e.At.UTC()
		out = append(out, e)
	}
	return out, wrap(rows.Err(), "history")
}

func scanCohort(r scanner) (roadmap.Cohort, error) {
	var c roadmap.Cohort
	var members string
	if err := r.Scan(&c.ID, &c.Name, &c.MentorID, &c.Roadmap, &members, &c.Created); err != nil {
		return c, err
	}
	c.Created = c.Created.UTC()
	return c, json.Unmarshal([]byte(members), &c.Members)
}

// Cohorts implements roadmap.Store.
func (s *RoadmapStore) Cohorts(ctx context.Context, mentorID string) ([]roadmap.Cohort, error) {
	rows, err := s.db.read.QueryContext(ctx, s.db.q(`SELECT id, name, mentor_id, roadmap, members, created_at FROM cohorts WHERE mentor_id = ? ORDER BY created_at`), mentorID)
	if err != nil {
		return nil, wrap(err, "cohorts")
	}
	defer rows.Close()
	out := []roadmap.Cohort{}
	for rows.Next() {
		c, err := scanCohort(rows)
		if err != nil {
			return nil, wrap(err, "cohorts")
		}
		out = append(out, c)
	}
	return out, wrap(rows.Err(), "cohorts")
}

// Cohort implements roadmap.Store.
func (s *RoadmapStore) Cohort(ctx context.Context, id string) (roadmap.Cohort, error) {
	c, err := scanCohort(s.db.read.QueryRowContext(ctx, s.db.q(`SELECT id, name, mentor_id, roadmap, members, created_at FROM cohorts WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, gradpath.NotFound("cohort", id)
	}
	return c, wrap(err, "cohort")
}

// PutCohort implements roadmap.Store.
func (s *RoadmapStore) PutCohort(ctx context.Context, c roadmap.Cohort) error {
	_, err := s.db.write.ExecContext(ctx, s.db.q(`INSERT INTO cohorts (id, name, mentor_id, roadmap, members, created_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, roadmap = excluded.roadmap, members = excluded.members`),
		c.ID, c.Name, c.MentorID, c.Roadmap, jsonText(c.Members), utc(c.Created))
	return wrap(err, "put cohort")
}
