package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/leads"
	"github.com/gradpath/gradpath/internal/observability"
	"github.com/gradpath/gradpath/internal/outbox"
)

// Batches. Lead requests that arrive together are taken in one transaction with a handful of
// statements in all, instead of a dozen each: the rows the requests may read are fetched at
// once (by IN lists), each request runs its rules against them in memory, and what they write
// goes out as one multi-row statement per table before the commit. A request whose rules fail
// leaves nothing behind; a batch that cannot commit is retried request by request by the
// caller.

// JobBatchInserter inserts many jobs in one call, inside a transaction.
type JobBatchInserter interface {
	InsertManyTx(ctx context.Context, tx *sql.Tx, js []outbox.Job) error
}

// Batch implements leads.Store.
func (s *LeadStore) Batch(ctx context.Context, probe leads.Probe, fn func(leads.BatchTx) error) error {
	return s.db.inGroup(ctx, func(tx *sql.Tx) error {
		b := &leadBatch{t: &leadTx{s: s, tx: tx}, idem: map[string]leads.Idempotency{}, byID: map[string]*leads.Lead{},
			updated: map[string]int{}, assigned: map[string]time.Time{}, nonces: map[string]bool{}}
		if err := b.prefetch(ctx, probe); err != nil {
			return err
		}
		if err := fn(b); err != nil {
			return err
		}
		return b.flush(ctx)
	})
}

type leadBatch struct {
	t *leadTx

	idem      map[string]leads.Idempotency
	byID      map[string]*leads.Lead // every lead read or written, in its latest state
	inserted  []string               // new leads, in order
	updated   map[string]int         // existing leads changed → their version as read
	cands     []leads.Candidate
	candsRead bool
	candsOpen bool
	admins    []string

	activities []leads.Activity
	consents   []leads.ConsentRecord
	idemNew    []leads.Idempotency
	jobs       []outbox.Job
	assigned   map[string]time.Time
	// nonces are the form tokens' nonces used before or in this batch; noncesNew the ones to
	// store, with their expiry.
	nonces    map[string]bool
	noncesNew []formToken

	undo []func() // reverses the current request's changes to the maps
}

type formToken struct {
	nonce   string
	expires time.Time
}

func (b *leadBatch) prefetch(ctx context.Context, p leads.Probe) error {
	if len(p.Nonces) > 0 {
		rows, err := b.t.tx.QueryContext(ctx, b.t.s.db.q(`SELECT nonce FROM form_tokens WHERE nonce IN (`+placeholders(len(p.Nonces))+`)`), anys(p.Nonces)...)
		if err != nil {
			return wrap(err, "batch form tokens")
		}
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return wrap(err, "batch form tokens")
			}
			b.nonces[n] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return wrap(err, "batch form tokens")
		}
	}
	if len(p.Keys) > 0 {
		rows, err := b.t.tx.QueryContext(ctx, b.t.s.db.q(`SELECT key, request_hash, status, body, created_at FROM idempotency_keys WHERE key IN (`+placeholders(len(p.Keys))+`)`), anys(p.Keys)...)
		if err != nil {
			return wrap(err, "batch idempotency keys")
		}
		for rows.Next() {
			var r leads.Idempotency
			var body string
			if err := rows.Scan(&r.Key, &r.RequestHash, &r.Status, &body, &r.CreatedAt); err != nil {
				rows.Close()
				return wrap(err, "batch idempotency keys")
			}
			r.Body = []byte(body)
			b.idem[r.Key] = r
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return wrap(err, "batch idempotency keys")
		}
	}
	var conds []string
	var args []any
	if len(p.Phones) > 0 {
		// "<> ''" lets the planners use the partial indexes.
		conds = append(conds, "(phone IN ("+placeholders(len(p.Phones))+") AND phone <> '')")
		args = append(args, anys(p.Phones)...)
	}
	if len(p.Emails) > 0 {
		conds = append(conds, "(email IN ("+placeholders(len(p.Emails))+") AND email <> '')")
		args = append(args, anys(p.Emails)...)
	}
	if len(conds) == 0 {
		return nil
	}
	args = append(args, utc(p.Since))
	rows, err := b.t.tx.QueryContext(ctx, b.t.s.db.q(`SELECT `+leadColumns+` FROM leads WHERE (`+strings.Join(conds, " OR ")+`)
		AND status IN ('new', 'contacted', 'qualified') AND updated_at >= ?`), args...)
	if err != nil {
		return wrap(err, "batch leads")
	}
	defer rows.Close()
	for rows.Next() {
		l, err := scanLead(rows)
		if err != nil {
			return wrap(err, "batch leads")
		}
		b.byID[l.ID] = &l
	}
	return wrap(rows.Err(), "batch leads")
}

// Request implements leads.BatchTx.
func (b *leadBatch) Request(fn func(leads.Tx) error) error {
	lens := [6]int{len(b.inserted), len(b.activities), len(b.consents), len(b.idemNew), len(b.jobs), len(b.noncesNew)}
	b.undo = b.undo[:0]
	if err := fn(b); err != nil {
		for i := len(b.undo) - 1; i >= 0; i-- {
			b.undo[i]()
		}
		b.inserted, b.activities, b.consents = b.inserted[:lens[0]], b.activities[:lens[1]], b.consents[:lens[2]]
		b.idemNew, b.jobs, b.noncesNew = b.idemNew[:lens[3]], b.jobs[:lens[4]], b.noncesNew[:lens[5]]
		return err
	}
	return nil
}

func (b *leadBatch) Idempotent(ctx context.Context, key string) (leads.Idempotency, bool, error) {
	r, ok := b.idem[key]
	return r, ok, nil
}

func (b *leadBatch) SaveIdempotent(ctx context.Context, rec leads.Idempotency) error {
	b.idem[rec.Key] = rec
	b.undo = append(b.undo, func() { delete(b.idem, rec.Key) })
	b.idemNew = append(b.idemNew, rec)
	return nil
}

func (b *leadBatch) OpenLeadByContact(ctx context.Context, phone, email string, since time.Time) (leads.Lead, bool, error) {
	var best *leads.Lead
	for _, l := range b.byID {
		if !l.Status.Open() || l.UpdatedAt.Before(since) {
			continue
		}
		if !(phone != "" && l.Phone == phone) && !(email != "" && l.Email == email) {
			continue
		}
		if best == nil || l.UpdatedAt.After(best.UpdatedAt) || (l.UpdatedAt.Equal(best.UpdatedAt) && l.ID > best.ID) {
			best = l
		}
	}
	if best == nil {
		return leads.Lead{}, false, nil
	}
	return *best, true, nil
}

func (b *leadBatch) Lead(ctx context.Context, id string) (leads.Lead, error) {
	if l, ok := b.byID[id]; ok {
		return *l, nil
	}
	l, err := b.t.Lead(ctx, id)
	if err != nil {
		return l, err
	}
	b.byID[id] = &l
	return l, nil
}

func (b *leadBatch) Candidates(ctx context.Context, withOpen bool) ([]leads.Candidate, error) {
	if !b.candsRead || (withOpen && !b.candsOpen) {
		cs, err := b.t.Candidates(ctx, withOpen)
		if err != nil {
			return nil, err
		}
		b.cands, b.candsRead, b.candsOpen = cs, true, withOpen
	}
	return slices.Clone(b.cands), nil
}

func (b *leadBatch) AdminEmails(ctx context.Context) ([]string, error) {
	if b.admins == nil {
		as, err := b.t.AdminEmails(ctx)
		if err != nil {
			return nil, err
		}
		b.admins = append([]string{}, as...)
	}
	return b.admins, nil
}

// countOpen keeps the candidates' open counts right as leads change hands within the batch.
func (b *leadBatch) countOpen(assignee string, open bool, delta int) {
	if assignee == "" || !open {
		return
	}
	for i := range b.cands {
		if b.cands[i].UserID == assignee {
			i := i
			b.cands[i].Open += delta
			b.undo = append(b.undo, func() { b.cands[i].Open -= delta })
		}
	}
}

func (b *leadBatch) InsertLead(ctx context.Context, l leads.Lead) error {
	if _, ok := b.byID[l.ID]; ok {
		return gradpath.Errorf(gradpath.CodeConflict, "lead %s exists", l.ID)
	}
	c := l
	b.byID[l.ID] = &c
	b.undo = append(b.undo, func() { delete(b.byID, l.ID) })
	b.inserted = append(b.inserted, l.ID)
	b.countOpen(l.Assignee, l.Status.Open(), +1)
	return nil
}

func (b *leadBatch) UpdateLead(ctx context.Context, l leads.Lead) error {
	old, ok := b.byID[l.ID]
	if !ok || old.Version != l.Version-1 {
		return gradpath.Errorf(gradpath.CodePrecondition, "the lead %s changed meanwhile; read it again", l.ID)
	}
	prev := *old
	c := l
	b.byID[l.ID] = &c
	b.undo = append(b.undo, func() { b.byID[l.ID] = &prev })
	if !slices.Contains(b.inserted, l.ID) {
		if _, seen := b.updated[l.ID]; !seen {
			b.updated[l.ID] = prev.Version
			b.undo = append(b.undo, func() { delete(b.updated, l.ID) })
		}
	}
	b.countOpen(prev.Assignee, prev.Status.Open(), -1)
	b.countOpen(l.Assignee, l.Status.Open(), +1)
	return nil
}

func (b *leadBatch) MarkAssigned(ctx context.Context, userID string, at time.Time) error {
	prev, had := b.assigned[userID]
	b.assigned[userID] = at
	b.undo = append(b.undo, func() {
		if had {
			b.assigned[userID] = prev
		} else {
			delete(b.assigned, userID)
		}
	})
	for i := range b.cands {
		if b.cands[i].UserID == userID {
			i, before := i, b.cands[i].LastAssigned
			b.cands[i].LastAssigned = at
			b.undo = append(b.undo, func() { b.cands[i].LastAssigned = before })
		}
	}
	return nil
}

func (b *leadBatch) AddActivity(ctx context.Context, a leads.Activity) error {
	b.activities = append(b.activities, a)
	return nil
}

func (b *leadBatch) AddConsent(ctx context.Context, c leads.ConsentRecord) error {
	b.consents = append(b.consents, c)
	return nil
}

func (b *leadBatch) Enqueue(ctx context.Context, j outbox.Job) error {
	if j.Trace == "" {
		j.Trace = observability.Traceparent(ctx)
	}
	b.jobs = append(b.jobs, j)
	return nil
}

// The batch path serves lead requests only; these belong to other changes.
var errNotInBatch = errors.New("not part of a lead batch")

func (b *leadBatch) UpsertSubscription(context.Context, leads.Subscription) (leads.Subscription, error) {
	return leads.Subscription{}, errNotInBatch
}
func (b *leadBatch) StopMarketing(context.Context, string, string, time.Time) ([]string, error) {
	return nil, errNotInBatch
}
func (b *leadBatch) LeadIDsByContact(context.Context, string, string) ([]string, error) {
	return nil, errNotInBatch
}
func (b *leadBatch) EraseSubscriptions(context.Context, string, string, time.Time) ([]string, error) {
	return nil, errNotInBatch
}
func (b *leadBatch) EraseActivity(context.Context, string) error { return errNotInBatch }

func (b *leadBatch) ErasePerson(context.Context, leads.Person, time.Time) (leads.Erased, error) {
	return leads.Erased{}, errNotInBatch
}

func (b *leadBatch) InsertNotice(context.Context, leads.Notice) (bool, error) {
	return false, errNotInBatch
}

func (b *leadBatch) UseFormToken(ctx context.Context, nonce string, expires time.Time) error {
	if b.nonces[nonce] {
		return leads.ErrTokenUsed
	}
	b.nonces[nonce] = true
	b.undo = append(b.undo, func() { delete(b.nonces, nonce) })
	b.noncesNew = append(b.noncesNew, formToken{nonce, expires})
	return nil
}

// insertRows writes rows of cols into table with multi-row INSERTs of at most chunk rows.
func (b *leadBatch) insertRows(ctx context.Context, table string, cols []string, rows [][]any, suffix string) error {
	const chunk = 100
	row := "(" + placeholders(len(cols)) + ")"
	for start := 0; start < len(rows); start += chunk {
		end := min(start+chunk, len(rows))
		var args []any
		values := make([]string, 0, end-start)
		for _, r := range rows[start:end] {
			values = append(values, row)
			args = append(args, r...)
		}
		q := `INSERT INTO ` + table + ` (` + strings.Join(cols, ", ") + `) VALUES ` + strings.Join(values, ", ") + suffix
		// Prepared once per table and number of rows: parsing these statements was a
		// quarter of the writer's time.
		if _, err := b.t.exec(ctx, q, args...); err != nil {
			if table == "idempotency_keys" && isUnique(err) {
				return leads.ErrIdempotencyRace
			}
			return wrap(err, "insert "+table)
		}
	}
	return nil
}

func (b *leadBatch) flush(ctx context.Context) error {
	var rows [][]any
	for _, id := range b.inserted {
		l := b.byID[id]
		rows = append(rows, leadRow(*l))
	}
	if err := b.insertRows(ctx, "leads", leadInsertColumns, rows, ""); err != nil {
		return err
	}
	// Rows that concurrent batches may both change are written in one order (ids sorted), so
	// that they wait for each other instead of deadlocking.
	for _, id := range slices.Sorted(maps.Keys(b.updated)) {
		version := b.updated[id]
		l := *b.byID[id]
		l.Version = version + 1 // one write from the version read, whatever the steps within the batch
		final := b.byID[id].Version
		if err := b.t.UpdateLead(ctx, l); err != nil {
			return err
		}
		if final != l.Version {
			if _, err := b.t.exec(ctx, `UPDATE leads SET version = ? WHERE id = ?`, final, id); err != nil {
				return wrap(err, "update lead version")
			}
		}
	}
	rows = rows[:0]
	for _, a := range b.activities {
		details := "{}"
		if a.Details != nil {
			details = jsonText(a.Details)
		}
		rows = append(rows, []any{a.LeadID, utc(a.At), a.ActorID, a.Type, details})
	}
	if err := b.insertRows(ctx, "lead_activity", []string{"lead_id", "at", "actor_id", "type", "details"}, rows, ""); err != nil {
		return err
	}
	rows = rows[:0]
	for _, c := range b.consents {
		guardian := ""
		if c.Guardian != nil {
			guardian = jsonText(c.Guardian)
		}
		rows = append(rows, []any{c.SubjectID, c.Purpose, c.Granted, c.NoticeVersion, utc(c.At), c.IP, c.UserAgent, guardian})
	}
	if err := b.insertRows(ctx, "consents", []string{"subject_id", "purpose", "granted", "notice_version", "at", "ip", "user_agent", "guardian"}, rows, ""); err != nil {
		return err
	}
	rows = rows[:0]
	for _, r := range b.idemNew {
		rows = append(rows, []any{r.Key, r.RequestHash, r.Status, string(r.Body), utc(r.CreatedAt)})
	}
	if err := b.insertRows(ctx, "idempotency_keys", []string{"key", "request_hash", "status", "body", "created_at"}, rows, ""); err != nil {
		return err
	}
	rows = rows[:0]
	for _, f := range b.noncesNew {
		rows = append(rows, []any{f.nonce, utc(f.expires)})
	}
	if err := b.insertRows(ctx, "form_tokens", []string{"nonce", "expires_at"}, rows, ""); err != nil {
		return err
	}
	rows = rows[:0]
	for _, user := range slices.Sorted(maps.Keys(b.assigned)) {
		at := b.assigned[user]
		rows = append(rows, []any{user, false, utc(at), utc(at)})
	}
	if err := b.insertRows(ctx, "counsellor_profiles", []string{"user_id", "active", "last_assigned_at", "updated_at"}, rows,
		` ON CONFLICT (user_id) DO UPDATE SET last_assigned_at = excluded.last_assigned_at`); err != nil {
		return err
	}
	if len(b.jobs) == 0 || b.t.s.jobs == nil {
		return nil
	}
	jobs := leads.Digest(b.jobs) // one message per counsellor per batch
	if many, ok := b.t.s.jobs.(JobBatchInserter); ok {
		return many.InsertManyTx(ctx, b.t.tx, jobs)
	}
	for _, j := range jobs {
		if err := b.t.s.jobs.InsertTx(ctx, b.t.tx, j); err != nil {
			return err
		}
	}
	return nil
}
