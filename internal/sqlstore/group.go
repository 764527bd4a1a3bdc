package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/gradpath/gradpath/internal/observability"
	"go.opentelemetry.io/otel/attribute"
)

// Group commit. On SQLite every commit with synchronous=FULL waits for the disk, and there is one
// writer; committing each request alone would cap writes at the disk's flush rate. Requests that
// arrive while a transaction commits wait together and run in the next one, each inside its own
// savepoint: one request's failure rolls back only its own changes, and every request is answered
// only after the commit that holds it is durable.

// maxGroup bounds how many requests share one transaction.
const maxGroup = 256

type groupOp struct {
	ctx  context.Context
	fn   func(tx *sql.Tx) error
	done chan error
}

// startGroup starts the group-commit loop of a SQLite DB.
func (db *DB) startGroup() {
	db.group = make(chan *groupOp)
	db.groupStop = make(chan struct{})
	db.groupDone = make(chan struct{})
	go db.groupLoop()
}

func (db *DB) stopGroup() {
	if db.group == nil {
		return
	}
	db.groupOnce.Do(func() { close(db.groupStop) })
	<-db.groupDone
}

// inGroup runs fn in a write transaction that other requests may share; it returns once that
// transaction has committed (fn's changes are durable) or fn's changes were rolled back.
func (db *DB) inGroup(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	if db.group == nil {
		return db.inTx(ctx, fn)
	}
	ctx, span := observability.CallerSpan(ctx, attribute.String("db.system.name", db.Engine.String()), attribute.String("db.operation.name", "group commit"))
	defer func() { observability.End(span, err) }()
	op := &groupOp{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case db.group <- op:
	case <-ctx.Done():
		return ctx.Err()
	case <-db.groupStop:
		return fmt.Errorf("the database is closing")
	}
	// Once taken, the request's fate is decided by its transaction: wait for it even if the
	// client goes away, so that what is answered is what happened.
	return <-op.done
}

func (db *DB) groupLoop() {
	defer close(db.groupDone)
	ops := make([]*groupOp, 0, maxGroup)
	for {
		ops = ops[:0]
		select {
		case op := <-db.group:
			ops = append(ops, op)
		case <-db.groupStop:
			return
		}
	gather:
		for len(ops) < maxGroup {
			select {
			case op := <-db.group:
				ops = append(ops, op)
			default:
				break gather
			}
		}
		db.prepareWanted()
		db.runGroup(ops)
	}
}

func (db *DB) runGroup(ops []*groupOp) {
	errs := make([]error, len(ops))
	tx, err := db.write.BeginTx(context.Background(), nil)
	if err != nil {
		for _, op := range ops {
			op.done <- fmt.Errorf("begin: %w", err)
		}
		return
	}
	ok := 0
	for i, op := range ops {
		if err := op.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if _, err := tx.Exec(`SAVEPOINT request`); err != nil {
			errs[i] = err
			continue
		}
		if err := op.fn(tx); err != nil {
			errs[i] = err
			if _, rerr := tx.Exec(`ROLLBACK TO request`); rerr != nil {
				// The transaction is unusable: nobody in it can be acknowledged.
				_ = tx.Rollback()
				for j, op := range ops {
					if j != i {
						op.done <- fmt.Errorf("group rollback: %w", rerr)
					} else {
						op.done <- err
					}
				}
				return
			}
		} else {
			ok++
		}
		if _, err := tx.Exec(`RELEASE request`); err != nil && errs[i] == nil {
			errs[i] = err
		}
	}
	var commitErr error
	if ok > 0 {
		commitErr = tx.Commit()
	} else {
		commitErr = tx.Rollback()
	}
	for i, op := range ops {
		switch {
		case errs[i] != nil:
			op.done <- errs[i]
		case commitErr != nil:
			op.done <- fmt.Errorf("commit: %w", commitErr)
		default:
			op.done <- nil
		}
	}
}
