package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/gradpath"
)

// CatalogueStore implements catalogue.Store.
type CatalogueStore struct {
	db *DB
}

var _ catalogue.Store = (*CatalogueStore)(nil)

// NewCatalogueStore returns the catalogue store of db.
func NewCatalogueStore(db *DB) *CatalogueStore { return &CatalogueStore{db: db} }

// batchSize bounds the rows of one multi-row statement, well under both engines' limits on
// the number of parameters.
const batchSize = 200

// noDeadline sorts programmes without an upcoming deadline after every real date.
const noDeadline = "9999-12-31"

// noTuition sorts programmes without a known tuition after every currency code.
const noTuition = "~"

// University implements catalogue.Store.
func (s *CatalogueStore) University(ctx context.Context, id string) (catalogue.University, error) {
	row := s.db.read.QueryRowContext(ctx, s.db.q(`SELECT doc, updated_at FROM universities WHERE id = ?`), id)
	u, err := scanUniversity(row)
	if err == sql.ErrNoRows {
		return u, gradpath.NotFound("university", id)
	}
	return u, wrap(err, "university")
}

type scanner interface{ Scan(...any) error }

func scanUniversity(r scanner, extra ...any) (catalogue.University, error) {
	var (
		u   catalogue.University
		doc []byte
		at  time.Time
	)
	if err := r.Scan(append([]any{&doc, &at}, extra...)...); err != nil {
		return u, err
	}
	if err := json.Unmarshal(doc, &u); err != nil {
		return u, fmt.Errorf("decode university: %w", err)
	}
	u.UpdatedAt = at.UTC()
	return u, nil
}

// Universities implements catalogue.Store.
func (s *CatalogueStore) Universities(ctx context.Context, q catalogue.UniversityQuery) (catalogue.UniversityPage, error) {
	var page catalogue.UniversityPage
	var conds []string
	var args []any
	if len(q.Countries) > 0 {
		conds = append(conds, "u.country IN ("+placeholders(len(q.Countries))+")")
		args = append(args, anys(q.Countries)...)
	}
	if ts := terms(q.Text); len(ts) > 0 {
		if s.db.Engine == Postgres {
			conds = append(conds, "u.search @@ to_tsquery('simple', ?)")
		} else {
			conds = append(conds, "u.rowid IN (SELECT rowid FROM universities_fts WHERE universities_fts MATCH ?)")
		}
		args = append(args, ftsQuery(s.db.Engine, ts))
	}
	where := "TRUE"
	if len(conds) > 0 {
		where = strings.Join(conds, " AND ")
	}
	err := s.db.readTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, s.db.q(`SELECT COUNT(*) FROM universities u WHERE `+where), args...).Scan(&page.Total); err != nil {
			return err
		}
		query := `SELECT u.doc, u.updated_at, u.sort_name FROM universities u WHERE ` + where
		pargs := append([]any(nil), args...)
		if q.After != nil {
			query += ` AND (u.sort_name > ? OR (u.sort_name = ? AND u.id > ?))`
			pargs = append(pargs, q.After.Key, q.After.Key, q.After.ID)
		}
		query += ` ORDER BY u.sort_name, u.id LIMIT ?`
		pargs = append(pargs, q.Limit+1)
		rows, err := tx.QueryContext(ctx, s.db.q(query), pargs...)
		if err != nil {
			return err
		}
		defer rows.Close()
		var keys []string
		for rows.Next() {
			var key string
			u, err := scanUniversity(rows, &key)
			if err != nil {
				return err
			}
			page.Items = append(page.Items, u)
			keys = append(keys, key)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(page.Items) > q.Limit {
			page.Items = page.Items[:q.Limit]
			last := page.Items[q.Limit-1]
			page.Next = &catalogue.Position{Key: keys[q.Limit-1], ID: last.ID}
		}
		return nil
	})
	return page, wrap(err, "universities")
}

// Put implements catalogue.Store.
func (s *CatalogueStore) Put(ctx context.Context, c catalogue.Change) (catalogue.PutResult, error) {
	return s.PutParts(ctx, func(put func(catalogue.Change) (catalogue.PutResult, error)) error {
		_, err := put(c)
		return err
	})
}

// PutParts implements catalogue.Store.
func (s *CatalogueStore) PutParts(ctx context.Context, fill func(put func(catalogue.Change) (catalogue.PutResult, error)) error) (catalogue.PutResult, error) {
	var res catalogue.PutResult
	now := utc(s.db.now())
	add := func(to *catalogue.Counts, n catalogue.Counts) {
		to.Created += n.Created
		to.Updated += n.Updated
		to.Unchanged += n.Unchanged
	}
	err := s.db.inTx(ctx, func(tx *sql.Tx) error {
		restore, err := s.deferIndexes(ctx, tx)
		if err != nil {
			return err
		}
		err = fill(func(c catalogue.Change) (catalogue.PutResult, error) {
			var part catalogue.PutResult
			var err error
			if part.Universities, err = s.putUniversities(ctx, tx, c.Universities, now); err != nil {
				return part, err
			}
			if part.Programmes, err = s.putProgrammes(ctx, tx, c.Programmes, now); err != nil {
				return part, err
			}
			add(&res.Universities, part.Universities)
			add(&res.Programmes, part.Programmes)
			return part, nil
		})
		if err != nil {
			return err
		}
		if err := restore(); err != nil {
			return err
		}
		changed := res.Universities.Created + res.Universities.Updated + res.Programmes.Created + res.Programmes.Updated
		res.Version, err = s.bumpVersion(ctx, tx, changed > 0)
		return err
	})
	return res, wrap(err, "put catalogue")
}

// deferIndexes readies a write into an empty catalogue on SQLite (the first import): the
// secondary indexes of the programme tables and the full-text trigger are dropped within the
// transaction, and restore builds them once, after the rows (sorting is far cheaper than
// 100,000 inserts into each B-tree). Their definitions are read from the schema, so they come
// back as the migrations made them; readers keep seeing the old catalogue until the commit.
func (s *CatalogueStore) deferIndexes(ctx context.Context, tx *sql.Tx) (restore func() error, err error) {
	none := func() error { return nil }
	if s.db.Engine != SQLite {
		return none, nil
	}
	var any int
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM programmes)`).Scan(&any); err != nil || any == 1 {
		return none, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT type, name, sql FROM sqlite_master
		WHERE tbl_name IN ('programmes', 'programme_intakes', 'programme_tags') AND sql IS NOT NULL
		AND (type = 'index' OR (type = 'trigger' AND name = 'programmes_fts_insert'))`)
	if err != nil {
		return nil, err
	}
	type object struct{ kind, name, sql string }
	var objects []object
	for rows.Next() {
		var o object
		if err := rows.Scan(&o.kind, &o.name, &o.sql); err != nil {
			rows.Close()
			return nil, err
		}
		objects = append(objects, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, o := range objects {
		if _, err := tx.ExecContext(ctx, `DROP `+strings.ToUpper(o.kind)+` "`+o.name+`"`); err != nil {
			return nil, err
		}
	}
	return func() error {
		for _, o := range objects {
			if _, err := tx.ExecContext(ctx, o.sql); err != nil {
				return fmt.Errorf("restoring %s %s: %w", o.kind, o.name, err)
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO programmes_fts (programmes_fts) VALUES ('rebuild')`)
		return err
	}, nil
}

// bumpVersion increments the catalogue version when changed, and returns it.
func (s *CatalogueStore) bumpVersion(ctx context.Context, tx *sql.Tx, changed bool) (int64, error) {
	var v int64
	if !changed {
		err := tx.QueryRowContext(ctx, `SELECT version FROM catalogue_state WHERE id = 1`).Scan(&v)
		return v, err
	}
	err := tx.QueryRowContext(ctx, `UPDATE catalogue_state SET version = version + 1 WHERE id = 1 RETURNING version`).Scan(&v)
	return v, err
}

// Version implements catalogue.Store.
func (s *CatalogueStore) Version(ctx context.Context) (int64, error) {
	var v int64
	err := s.db.read.QueryRowContext(ctx, `SELECT version FROM catalogue_state WHERE id = 1`).Scan(&v)
	return v, wrap(err, "catalogue version")
}

// hashDoc identifies a record's content, so that a write of an equal record changes nothing.
func hashDoc(doc []byte) string {
	sum := sha256.Sum256(doc)
	return hex.EncodeToString(sum[:16])
}

// storedHashes reads the content hashes of the rows of table with those ids.
func (s *CatalogueStore) storedHashes(ctx context.Context, tx *sql.Tx, table string, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	for start := 0; start < len(ids); start += batchSize {
		batch := ids[start:min(start+batchSize, len(ids))]
		rows, err := tx.QueryContext(ctx, s.db.q(`SELECT id, doc_hash FROM `+table+` WHERE id IN (`+placeholders(len(batch))+`)`), anys(batch)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id, h string
			if err := rows.Scan(&id, &h); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = h
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *CatalogueStore) putUniversities(ctx context.Context, tx *sql.Tx, us []catalogue.University, now time.Time) (catalogue.Counts, error) {
	var counts catalogue.Counts
	if len(us) == 0 {
		return counts, nil
	}
	ids := universityIDs(us)
	// Programmes copy their university's country and name (for filtering and search): find
	// the universities whose country or name changes, to refresh their programmes after.
	var hashes map[string]string
	var old map[string]universityHead
	err := s.db.planned(ctx, tx, func() (err error) {
		if hashes, err = s.storedHashes(ctx, tx, "universities", ids); err != nil {
			return err
		}
		old, err = s.universityHeads(ctx, tx, ids)
		return err
	})
	if err != nil {
		return counts, err
	}
	var rows [][]any
	for _, u := range us {
		u.UpdatedAt = time.Time{}
		doc, err := json.Marshal(u)
		if err != nil {
			return counts, err
		}
		h := hashDoc(doc)
		stored, exists := hashes[u.ID]
		switch {
		case exists && stored == h:
			counts.Unchanged++
			continue
		case exists:
			counts.Updated++
		default:
			counts.Created++
		}
		rows = append(rows, []any{u.ID, u.Name, fold(u.Name), u.Country, universitySearchText(u), string(doc), h, now})
	}
	if err := s.upsertRowsTold(ctx, tx, "writing universities", `INSERT INTO universities (id, name, sort_name, country, search_text, doc, doc_hash, updated_at) VALUES `,
		` ON CONFLICT (id) DO UPDATE SET name = excluded.name, sort_name = excluded.sort_name, country = excluded.country,
		search_text = excluded.search_text, doc = excluded.doc, doc_hash = excluded.doc_hash, updated_at = excluded.updated_at`, rows); err != nil {
		return counts, err
	}
	for _, u := range us {
		if h, ok := old[u.ID]; ok && (h.name != u.Name || h.country != u.Country) {
			if err := s.refreshProgrammesOf(ctx, tx, u.ID, now); err != nil {
				return counts, err
			}
		}
	}
	return counts, nil
}

func universityIDs(us []catalogue.University) []string {
	ids := make([]string, len(us))
	for i, u := range us {
		ids[i] = u.ID
	}
	return ids
}

func universitySearchText(u catalogue.University) string {
	parts := []string{u.Name, u.Region}
	parts = append(parts, u.Domains...)
	if n, ok := gradpath.CountryName(u.Country); ok {
		parts = append(parts, n)
	}
	return fold(strings.Join(parts, " "))
}

type universityHead struct{ name, country string }

// universityHeads reads the name and country of the universities with those ids.
func (s *CatalogueStore) universityHeads(ctx context.Context, tx *sql.Tx, ids []string) (map[string]universityHead, error) {
	out := make(map[string]universityHead, len(ids))
	for start := 0; start < len(ids); start += batchSize {
		batch := ids[start:min(start+batchSize, len(ids))]
		rows, err := tx.QueryContext(ctx, s.db.q(`SELECT id, name, country FROM universities WHERE id IN (`+placeholders(len(batch))+`)`), anys(batch)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id string
			var h universityHead
			if err := rows.Scan(&id, &h.name, &h.country); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = h
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// refreshProgrammesOf rewrites the copied country and search text of a university's
// programmes after the university changed.
func (s *CatalogueStore) refreshProgrammesOf(ctx context.Context, tx *sql.Tx, universityID string, now time.Time) error {
	var name, country string
	if err := tx.QueryRowContext(ctx, s.db.q(`SELECT name, country FROM universities WHERE id = ?`), universityID).Scan(&name, &country); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, s.db.q(`SELECT doc FROM programmes WHERE university_id = ?`), universityID)
	if err != nil {
		return err
	}
	var ps []catalogue.Programme
	for rows.Next() {
		var doc []byte
		var p catalogue.Programme
		if err := rows.Scan(&doc); err != nil {
			rows.Close()
			return err
		}
		if err := json.Unmarshal(doc, &p); err != nil {
			rows.Close()
			return err
		}
		ps = append(ps, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, p := range ps {
		p.University.Name, p.University.Country = name, country
		if _, err := tx.ExecContext(ctx, s.db.q(`UPDATE programmes SET country = ?, search_text = ?, updated_at = ? WHERE id = ?`),
			country, programmeSearchText(p), now, p.ID); err != nil {
			return err
		}
	}
	return nil
}

// MissingUniversities implements catalogue.Store.
func (s *CatalogueStore) MissingUniversities(ctx context.Context, ids []string) ([]string, error) {
	found := make(map[string]bool, len(ids))
	for start := 0; start < len(ids); start += batchSize {
		batch := ids[start:min(start+batchSize, len(ids))]
		rows, err := s.db.read.QueryContext(ctx, s.db.q(`SELECT id FROM universities WHERE id IN (`+placeholders(len(batch))+`)`), anys(batch)...)
		if err != nil {
			return nil, wrap(err, "missing universities")
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, wrap(err, "missing universities")
			}
			found[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, wrap(err, "missing universities")
		}
	}
	var missing []string
	for _, id := range ids {
		if !found[id] {
			missing = append(missing, id)
		}
	}
	return missing, nil
}

// UniversitiesByID implements catalogue.Store.
func (s *CatalogueStore) UniversitiesByID(ctx context.Context, ids []string) ([]catalogue.University, error) {
	var out []catalogue.University
	for start := 0; start < len(ids); start += batchSize {
		batch := ids[start:min(start+batchSize, len(ids))]
		rows, err := s.db.read.QueryContext(ctx, s.db.q(`SELECT doc, updated_at FROM universities WHERE id IN (`+placeholders(len(batch))+`)`), anys(batch)...)
		if err != nil {
			return nil, wrap(err, "universities by id")
		}
		for rows.Next() {
			u, err := scanUniversity(rows)
			if err != nil {
				rows.Close()
				return nil, wrap(err, "universities by id")
			}
			out = append(out, u)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, wrap(err, "universities by id")
		}
	}
	return out, nil
}

// ProgrammesByID implements catalogue.Store.
func (s *CatalogueStore) ProgrammesByID(ctx context.Context, ids []string) ([]catalogue.Programme, error) {
	var out []catalogue.Programme
	for start := 0; start < len(ids); start += batchSize {
		batch := ids[start:min(start+batchSize, len(ids))]
		rows, err := s.db.read.QueryContext(ctx, s.db.q(`SELECT p.doc, p.updated_at, u.name, u.country
			FROM programmes p JOIN universities u ON u.id = p.university_id WHERE p.id IN (`+placeholders(len(batch))+`)`), anys(batch)...)
		if err != nil {
			return nil, wrap(err, "programmes by id")
		}
		for rows.Next() {
			p, err := scanProgramme(rows)
			if err != nil {
				rows.Close()
				return nil, wrap(err, "programmes by id")
			}
			out = append(out, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, wrap(err, "programmes by id")
		}
	}
	return out, nil
}

// Programme implements catalogue.Store.
func (s *CatalogueStore) Programme(ctx context.Context, id string) (catalogue.Programme, error) {
	row := s.db.read.QueryRowContext(ctx, s.db.q(`SELECT p.doc, p.updated_at, u.name, u.country
		FROM programmes p JOIN universities u ON u.id = p.university_id WHERE p.id = ?`), id)
	p, err := scanProgramme(row)
	if err == sql.ErrNoRows {
		return p, gradpath.NotFound("programme", id)
	}
	return p, wrap(err, "programme")
}

func scanProgramme(r scanner, extra ...any) (catalogue.Programme, error) {
	var (
		p              catalogue.Programme
		doc            []byte
		at             time.Time
		uname, country string
	)
	if err := r.Scan(append([]any{&doc, &at, &uname, &country}, extra...)...); err != nil {
		return p, err
	}
	if err := json.Unmarshal(doc, &p); err != nil {
		return p, fmt.Errorf("decode programme: %w", err)
	}
	p.University.Name, p.University.Country = uname, country
	p.UpdatedAt = at.UTC()
	if p.Intakes == nil {
		p.Intakes = []catalogue.Intake{}
	}
	if p.Sources == nil {
		p.Sources = []catalogue.Source{}
	}
	return p, nil
}

func (s *CatalogueStore) putProgrammes(ctx context.Context, tx *sql.Tx, ps []catalogue.Programme, now time.Time) (catalogue.Counts, error) {
	var counts catalogue.Counts
	if len(ps) == 0 {
		return counts, nil
	}
	uids := map[string]bool{}
	ids := make([]string, len(ps))
	for i, p := range ps {
		uids[p.University.ID] = true
		ids[i] = p.ID
	}
	ulist := make([]string, 0, len(uids))
	for id := range uids {
		ulist = append(ulist, id)
	}
	var heads map[string]universityHead
	var hashes map[string]string
	err := s.db.planned(ctx, tx, func() (err error) {
		if heads, err = s.universityHeads(ctx, tx, ulist); err != nil {
			return err
		}
		hashes, err = s.storedHashes(ctx, tx, "programmes", ids)
		return err
	})
	if err != nil {
		return counts, err
	}
	for _, p := range ps {
		if _, ok := heads[p.University.ID]; !ok {
			return counts, gradpath.Errorf(gradpath.CodeNotFound, "programme %q: no university has the id %q", p.ID, p.University.ID)
		}
	}
	prepared, err := prepareProgrammes(ps, heads)
	if err != nil {
		return counts, err
	}
	var rows [][]any
	var changed []catalogue.Programme
	var replaced []any // programmes stored before, whose intakes and topics go
	for i, p := range ps {
		pr := prepared[i]
		stored, exists := hashes[p.ID]
		switch {
		case exists && stored == pr.hash:
			counts.Unchanged++
			continue
		case exists:
			counts.Updated++
			replaced = append(replaced, p.ID)
		default:
			counts.Created++
		}
		rows = append(rows, []any{p.ID, p.University.ID, heads[p.University.ID].country, p.Title, pr.sortName, string(p.Level), string(p.Mode),
			pr.currency, pr.annual, pr.tuitionKey, pr.search, pr.doc, pr.hash, now})
		changed = append(changed, p)
	}
	if err := s.upsertRowsTold(ctx, tx, "writing programmes", `INSERT INTO programmes (id, university_id, country, title, sort_name, level, mode,
		tuition_currency, tuition_annual, tuition_key, search_text, doc, doc_hash, updated_at) VALUES `,
		` ON CONFLICT (id) DO UPDATE SET university_id = excluded.university_id, country = excluded.country,
		title = excluded.title, sort_name = excluded.sort_name, level = excluded.level, mode = excluded.mode,
		tuition_currency = excluded.tuition_currency, tuition_annual = excluded.tuition_annual,
		tuition_key = excluded.tuition_key, search_text = excluded.search_text, doc = excluded.doc,
		doc_hash = excluded.doc_hash, updated_at = excluded.updated_at`, rows); err != nil {
		return counts, err
	}
	for start := 0; start < len(replaced); start += batchSize {
		ids := replaced[start:min(start+batchSize, len(replaced))]
		in := placeholders(len(ids))
		if _, err := tx.ExecContext(ctx, s.db.q(`DELETE FROM programme_intakes WHERE programme_id IN (`+in+`)`), ids...); err != nil {
			return counts, err
		}
		if _, err := tx.ExecContext(ctx, s.db.q(`DELETE FROM programme_tags WHERE programme_id IN (`+in+`)`), ids...); err != nil {
			return counts, err
		}
	}
	var intakeRows, tagRows [][]any
	for _, p := range changed {
		for i, in := range p.Intakes {
			var first, last any
			if c := in.ApplicationCloses; !c.IsZero() {
				first, last = c.Earliest().Format(time.DateOnly), c.Latest().Format(time.DateOnly)
			}
			intakeRows = append(intakeRows, []any{p.ID, i, in.Start.MonthOf().String(), in.Start.Earliest().Format(time.DateOnly), first, last})
		}
		for _, t := range p.Tags {
			tagRows = append(tagRows, []any{p.ID, t})
		}
	}
	if err := s.upsertRowsTold(ctx, tx, "writing intakes", `INSERT INTO programme_intakes (programme_id, position, start_month, start_first, closes_first, closes_last) VALUES `, "", intakeRows); err != nil {
		return counts, err
	}
	return counts, s.upsertRowsTold(ctx, tx, "writing topics", `INSERT INTO programme_tags (programme_id, tag) VALUES `, "", tagRows)
}

// preparedProgramme is a programme's row values that take CPU to compute.
type preparedProgramme struct {
	doc, hash, search, sortName, tuitionKey string
	currency, annual                        any
}

// prepareProgrammes computes the row values of programmes on every core: encoding, hashing
// and folding 100,000 programmes is seconds of work that need not wait for the database.
func prepareProgrammes(ps []catalogue.Programme, heads map[string]universityHead) ([]preparedProgramme, error) {
	out := make([]preparedProgramme, len(ps))
	workers := min(runtime.GOMAXPROCS(0), max(1, len(ps)/256))
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(ps); i += workers {
				p := ps[i]
				h := heads[p.University.ID]
				p.University.Name, p.University.Country = h.name, h.country
				pr := preparedProgramme{search: programmeSearchText(p), sortName: fold(p.Title), tuitionKey: noTuition}
				p.University = catalogue.UniversityRef{ID: p.University.ID}
				p.UpdatedAt = time.Time{}
				doc, err := json.Marshal(p)
				if err != nil {
					errs[w] = err
					return
				}
				pr.doc, pr.hash = string(doc), hashDoc(doc)
				if m, ok := p.Tuition.Annual(p.DurationMonths); ok {
					pr.currency, pr.annual = m.Currency, m.Amount
					pr.tuitionKey = fmt.Sprintf("%s:%019d", m.Currency, m.Amount)
				}
				out[i] = pr
			}
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// EachProgramme implements catalogue.Store.
func (s *CatalogueStore) EachProgramme(ctx context.Context, fn func(catalogue.Programme) error) (int64, error) {
	var version int64
	err := s.db.readTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT version FROM catalogue_state WHERE id = 1`).Scan(&version); err != nil {
			return err
		}
		// The universities first, then the programmes in primary-key order without a join: a
		// join here makes the engine sort every programme's document in memory.
		heads := map[string]universityHead{}
		urows, err := tx.QueryContext(ctx, `SELECT id, name, country FROM universities`)
		if err != nil {
			return err
		}
		for urows.Next() {
			var id string
			var h universityHead
			if err := urows.Scan(&id, &h.name, &h.country); err != nil {
				urows.Close()
				return err
			}
			heads[id] = h
		}
		urows.Close()
		if err := urows.Err(); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT doc, updated_at, university_id FROM programmes ORDER BY id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var uid string
			var doc []byte
			var at time.Time
			if err := rows.Scan(&doc, &at, &uid); err != nil {
				return err
			}
			var p catalogue.Programme
			if err := json.Unmarshal(doc, &p); err != nil {
				return fmt.Errorf("decode programme: %w", err)
			}
			h := heads[uid]
			p.University.Name, p.University.Country = h.name, h.country
			p.UpdatedAt = at.UTC()
			if p.Intakes == nil {
				p.Intakes = []catalogue.Intake{}
			}
			if err := fn(p); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	return version, wrap(err, "each programme")
}

// DeleteProgramme implements catalogue.Store.
func (s *CatalogueStore) DeleteProgramme(ctx context.Context, id string) (int64, error) {
	var v int64
	err := s.db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.db.q(`DELETE FROM programmes WHERE id = ?`), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return gradpath.NotFound("programme", id)
		}
		v, err = s.bumpVersion(ctx, tx, true)
		return err
	})
	return v, wrap(err, "delete programme")
}

// DeleteUniversity implements catalogue.Store.
func (s *CatalogueStore) DeleteUniversity(ctx context.Context, id string) (int64, error) {
	var v int64
	err := s.db.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.db.q(`SELECT COUNT(*) FROM programmes WHERE university_id = ?`), id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return gradpath.Errorf(gradpath.CodeConflict, "university %q still has %d programme(s); delete or move them first", id, n)
		}
		res, err := tx.ExecContext(ctx, s.db.q(`DELETE FROM universities WHERE id = ?`), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return gradpath.NotFound("university", id)
		}
		v, err = s.bumpVersion(ctx, tx, true)
		return err
	})
	return v, wrap(err, "delete university")
}

// upsertRows inserts rows of equal width with multi-row statements, each followed by suffix.
func (s *CatalogueStore) upsertRows(ctx context.Context, tx *sql.Tx, prefix, suffix string, rows [][]any) error {
	return s.upsertRowsTold(ctx, tx, "", prefix, suffix, rows)
}

// upsertRowsTold is upsertRows telling the context's catalogue.Progress of each batch under
// stage (none when it is empty).
func (s *CatalogueStore) upsertRowsTold(ctx context.Context, tx *sql.Tx, stage, prefix, suffix string, rows [][]any) error {
	for start := 0; start < len(rows); start += batchSize {
		if stage != "" {
			catalogue.ReportProgress(ctx, stage, start, len(rows))
		}
		batch := rows[start:min(start+batchSize, len(rows))]
		var b strings.Builder
		b.WriteString(prefix)
		args := make([]any, 0, len(batch)*len(batch[0]))
		tuple := "(" + placeholders(len(batch[0])) + ")"
		for i, r := range batch {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(tuple)
			args = append(args, r...)
		}
		b.WriteString(suffix)
		if _, err := tx.ExecContext(ctx, s.db.q(b.String()), args...); err != nil {
			return err
		}
	}
	if stage != "" {
		catalogue.ReportProgress(ctx, stage, len(rows), len(rows))
	}
	return nil
}

// programmeSearchText is what the full-text index of a programme holds: its own words, and
// its university's name and country so that "melbourne computer science" finds it.
func programmeSearchText(p catalogue.Programme) string {
	parts := []string{p.Title, p.Code, p.Discipline, p.Summary, p.University.Name}
	parts = append(parts, p.Specialisations...)
	for _, t := range p.Tags {
		parts = append(parts, strings.ReplaceAll(t, "-", " "))
	}
	if n, ok := gradpath.CountryName(p.University.Country); ok {
		parts = append(parts, n)
	}
	return fold(strings.Join(parts, " \n"))
}

// facet names a filter whose condition a facet count leaves out.
type facet int

const (
	noFacet facet = iota
	countryFacet
	levelFacet
	modeFacet
	intakeFacet
)

// programmeWhere renders the filters of q on alias p, leaving out the one of facet except.
func (s *CatalogueStore) programmeWhere(q catalogue.ProgrammeQuery, except facet) (string, []any) {
	var conds []string
	var args []any
	if len(q.Countries) > 0 && except != countryFacet {
		conds = append(conds, "p.country IN ("+placeholders(len(q.Countries))+")")
		args = append(args, anys(q.Countries)...)
	}
	if len(q.Levels) > 0 && except != levelFacet {
		conds = append(conds, "p.level IN ("+placeholders(len(q.Levels))+")")
		args = append(args, anys(q.Levels)...)
	}
	if len(q.Modes) > 0 && except != modeFacet {
		conds = append(conds, "p.mode IN ("+placeholders(len(q.Modes))+")")
		args = append(args, anys(q.Modes)...)
	}
	if len(q.Intakes) > 0 && except != intakeFacet {
		months := intakeMonths(q)
		conds = append(conds, "EXISTS (SELECT 1 FROM programme_intakes i WHERE i.programme_id = p.id AND i.start_month IN ("+placeholders(len(months))+"))")
		args = append(args, months...)
	}
	if q.Open {
		// Not started, and not closed: the same states as catalogue.Intake.StateOn.
		conds = append(conds, "EXISTS (SELECT 1 FROM programme_intakes i WHERE i.programme_id = p.id AND i.start_first > ? AND (i.closes_last IS NULL OR i.closes_last >= ?))")
		args = append(args, q.Today.String(), q.Today.String())
	}
	for _, t := range q.Tags {
		conds = append(conds, "EXISTS (SELECT 1 FROM programme_tags t WHERE t.programme_id = p.id AND t.tag = ?)")
		args = append(args, t)
	}
	if len(q.Universities) > 0 {
		conds = append(conds, "p.university_id IN ("+placeholders(len(q.Universities))+")")
		args = append(args, anys(q.Universities)...)
	}
	if bs := q.Budgets(); len(bs) > 0 {
		var or []string
		for _, m := range bs {
			or = append(or, "p.tuition_currency = ? AND p.tuition_annual <= ?")
			args = append(args, m.Currency, m.Amount)
		}
		conds = append(conds, "("+strings.Join(or, " OR ")+")")
	}
	if ts := terms(q.Text); len(ts) > 0 {
		if s.db.Engine == Postgres {
			conds = append(conds, "p.search @@ to_tsquery('english', ?)")
		} else {
			conds = append(conds, "p.rowid IN (SELECT rowid FROM programmes_fts WHERE programmes_fts MATCH ?)")
		}
		args = append(args, ftsQuery(s.db.Engine, ts))
	}
	if len(conds) == 0 {
		return "TRUE", nil
	}
	return strings.Join(conds, " AND "), args
}

func intakeMonths(q catalogue.ProgrammeQuery) []any {
	out := make([]any, len(q.Intakes))
	for i, d := range q.Intakes {
		out[i] = d.MonthOf().String()
	}
	return out
}

// Programmes implements catalogue.Store.
func (s *CatalogueStore) Programmes(ctx context.Context, q catalogue.ProgrammeQuery) (catalogue.ProgrammePage, error) {
	var page catalogue.ProgrammePage
	err := s.db.readTx(ctx, func(tx *sql.Tx) error {
		where, args := s.programmeWhere(q, noFacet)
		if err := tx.QueryRowContext(ctx, s.db.q(`SELECT COUNT(*) FROM programmes p WHERE `+where), args...).Scan(&page.Total); err != nil {
			return err
		}
		var err error
		if q.Sort == catalogue.SortRelevance && len(terms(q.Text)) > 0 {
			err = s.rankedPage(ctx, tx, q, &page)
		} else {
			err = s.keysetPage(ctx, tx, q, &page)
		}
		if err != nil {
			return err
		}
		return s.facets(ctx, tx, q, &page.Facets)
	})
	return page, wrap(err, "programmes")
}

// keysetPage reads a page in name, deadline or tuition order, continuing after q.After.
func (s *CatalogueStore) keysetPage(ctx context.Context, tx *sql.Tx, q catalogue.ProgrammeQuery, page *catalogue.ProgrammePage) error {
	var key string
	var keyArgs []any
	switch q.Sort {
	case catalogue.SortDeadline:
		key = `COALESCE((SELECT MIN(i.closes_first) FROM programme_intakes i WHERE i.programme_id = p.id AND i.closes_last >= ?`
		keyArgs = append(keyArgs, q.Today.String())
		if len(q.Intakes) > 0 {
			months := intakeMonths(q)
			key += ` AND i.start_month IN (` + placeholders(len(months)) + `)`
			keyArgs = append(keyArgs, months...)
		}
		key += `), '` + noDeadline + `')`
	case catalogue.SortTuition:
		key = `p.tuition_key`
	default:
		key = `p.sort_name`
	}
	where, args := s.programmeWhere(q, noFacet)
	query := `SELECT t.doc, t.updated_at, t.uname, t.ucountry, t.sort_key, t.id FROM (
		SELECT p.id, p.doc, p.updated_at, u.name AS uname, u.country AS ucountry, ` + key + ` AS sort_key
		FROM programmes p JOIN universities u ON u.id = p.university_id WHERE ` + where + `) t`
	all := append(keyArgs, args...)
	if q.After != nil {
		query += ` WHERE t.sort_key > ? OR (t.sort_key = ? AND t.id > ?)`
		all = append(all, q.After.Key, q.After.Key, q.After.ID)
	}
	query += ` ORDER BY t.sort_key, t.id LIMIT ?`
	all = append(all, q.Limit+1)
	rows, err := tx.QueryContext(ctx, s.db.q(query), all...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k, id string
		p, err := scanProgramme(rows, &k, &id)
		if err != nil {
			return err
		}
		page.Items = append(page.Items, p)
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(page.Items) > q.Limit {
		page.Items = page.Items[:q.Limit]
		page.Next = &catalogue.Position{Key: keys[q.Limit-1], ID: page.Items[q.Limit-1].ID}
	}
	return nil
}

// rankedPage reads a page in relevance order. Ranks are floats that change as the catalogue
// changes, so the position is an offset rather than a key.
func (s *CatalogueStore) rankedPage(ctx context.Context, tx *sql.Tx, q catalogue.ProgrammeQuery, page *catalogue.ProgrammePage) error {
	text := ftsQuery(s.db.Engine, terms(q.Text))
	rest := q
	rest.Text = ""
	where, args := s.programmeWhere(rest, noFacet)
	offset := 0
	if q.After != nil {
		offset = q.After.Offset
	}
	var query string
	var all []any
	if s.db.Engine == Postgres {
		query = `SELECT p.doc, p.updated_at, u.name, u.country FROM programmes p JOIN universities u ON u.id = p.university_id
			WHERE p.search @@ to_tsquery('english', ?) AND ` + where + `
			ORDER BY ts_rank(p.search, to_tsquery('english', ?)) DESC, p.id LIMIT ? OFFSET ?`
		all = append(append([]any{text}, args...), text, q.Limit+1, offset)
	} else {
		query = `SELECT p.doc, p.updated_at, u.name, u.country FROM programmes_fts
			JOIN programmes p ON p.rowid = programmes_fts.rowid JOIN universities u ON u.id = p.university_id
			WHERE programmes_fts MATCH ? AND ` + where + `
			ORDER BY programmes_fts.rank, p.id LIMIT ? OFFSET ?`
		all = append(append([]any{text}, args...), q.Limit+1, offset)
	}
	rows, err := tx.QueryContext(ctx, s.db.q(query), all...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		p, err := scanProgramme(rows)
		if err != nil {
			return err
		}
		page.Items = append(page.Items, p)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(page.Items) > q.Limit {
		page.Items = page.Items[:q.Limit]
		page.Next = &catalogue.Position{Offset: offset + q.Limit}
	}
	return nil
}

// facets counts the matches per country, level, mode and intake month (from this month on).
func (s *CatalogueStore) facets(ctx context.Context, tx *sql.Tx, q catalogue.ProgrammeQuery, f *catalogue.Facets) error {
	count := func(dst *[]catalogue.FacetCount, query string, args ...any) error {
		rows, err := tx.QueryContext(ctx, s.db.q(query), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		*dst = []catalogue.FacetCount{}
		for rows.Next() {
			var c catalogue.FacetCount
			if err := rows.Scan(&c.Value, &c.Count); err != nil {
				return err
			}
			*dst = append(*dst, c)
		}
		return rows.Err()
	}
	byColumn := func(dst *[]catalogue.FacetCount, column string, except facet) error {
		where, args := s.programmeWhere(q, except)
		return count(dst, `SELECT `+column+`, COUNT(*) FROM programmes p WHERE `+where+` AND `+column+` <> ''
			GROUP BY `+column+` ORDER BY COUNT(*) DESC, `+column, args...)
	}
	if err := byColumn(&f.Country, "p.country", countryFacet); err != nil {
		return err
	}
	if err := byColumn(&f.Level, "p.level", levelFacet); err != nil {
		return err
	}
	if err := byColumn(&f.Mode, "p.mode", modeFacet); err != nil {
		return err
	}
	where, args := s.programmeWhere(q, intakeFacet)
	return count(&f.Intake, `SELECT i.start_month, COUNT(DISTINCT i.programme_id) FROM programme_intakes i
		JOIN programmes p ON p.id = i.programme_id WHERE i.start_month >= ? AND `+where+`
		GROUP BY i.start_month ORDER BY i.start_month`, append([]any{q.Today.MonthOf().String()}, args...)...)
}

// Counts implements catalogue.Store.
func (s *CatalogueStore) Counts(ctx context.Context) (universities, programmes int, err error) {
	err = s.db.read.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM universities), (SELECT COUNT(*) FROM programmes)`).Scan(&universities, &programmes)
	return universities, programmes, wrap(err, "counts")
}
