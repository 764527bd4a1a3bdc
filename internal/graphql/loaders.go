package graphql

import (
	"context"
	"sync"

	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/eligibility"
	"github.com/gradpath/gradpath/internal/gradpath"
)

// Nested reads are batched per request. A resolver that returns records (a finder page, a
// shortlist, eligibility results) announces what their fields will ask for; the first field
// that asks loads everything announced in one call, and the others read what it loaded. So a
// page of 100 programmes with their universities and verdicts costs one call for the
// universities and one evaluation for the verdicts, however many programmes there are, and no
// resolver waits on a timer to gather a batch.

// batch loads values by key, everything wanted so far at once.
type batch[V any] struct {
	mu     sync.Mutex
	wanted map[string]bool // true: to load; false: loaded, and not there
	got    map[string]V
	load   func(ctx context.Context, keys []string) (map[string]V, error)
}

func newBatch[V any](load func(context.Context, []string) (map[string]V, error)) *batch[V] {
	return &batch[V]{wanted: map[string]bool{}, got: map[string]V{}, load: load}
}

// want announces keys that will be asked for.
func (b *batch[V]) want(keys ...string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, k := range keys {
		if _, ok := b.got[k]; !ok {
			b.wanted[k] = true
		}
	}
}

// get returns the value of key, loading it with everything wanted so far; ok is false when
// there is none.
func (b *batch[V]) get(ctx context.Context, key string) (v V, ok bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if v, ok := b.got[key]; ok {
		return v, true, nil
	}
	if pending, seen := b.wanted[key]; seen && !pending {
		return v, false, nil // loaded before, and not there
	}
	b.wanted[key] = true
	var keys []string
	for k, pending := range b.wanted {
		if pending {
			keys = append(keys, k)
		}
	}
	got, err := b.load(ctx, keys)
	if err != nil {
		return v, false, err
	}
	for _, k := range keys {
		b.wanted[k] = false
		if val, ok := got[k]; ok {
			b.got[k] = val
		}
	}
	v, ok = b.got[key]
	return v, ok, nil
}

// loaders are one request's batches.
type loaders struct {
	programmes   *batch[catalogue.Programme]
	universities *batch[catalogue.University]
	verdicts     *batch[eligibility.Verdict]
}

type loadersKey struct{}

func withLoaders(ctx context.Context, d Deps) context.Context {
	l := &loaders{}
	l.universities = newBatch(func(ctx context.Context, ids []string) (map[string]catalogue.University, error) {
		us, err := d.Catalogue.UniversitiesByID(ctx, ids)
		out := make(map[string]catalogue.University, len(us))
		for _, u := range us {
			out[u.ID] = u
		}
		return out, err
	})
	l.programmes = newBatch(func(ctx context.Context, ids []string) (map[string]catalogue.Programme, error) {
		ps, err := d.Catalogue.ProgrammesByID(ctx, ids)
		out := make(map[string]catalogue.Programme, len(ps))
		for _, p := range ps {
			out[p.ID] = p
		}
		l.sawProgrammes(ps)
		return out, err
	})
	var profile struct {
		once sync.Once
		p    *eligibility.Profile
		err  error
	}
	l.verdicts = newBatch(func(ctx context.Context, ids []string) (map[string]eligibility.Verdict, error) {
		a := actor(ctx)
		if a.Anonymous() || d.Workspace == nil || d.Eligibility == nil {
			return nil, nil
		}
		profile.once.Do(func() {
			v, err := d.Workspace.Profile(ctx, a, a.UserID)
			switch {
			case gradpath.ErrorCode(err) == gradpath.CodeNotFound:
			case err != nil:
				profile.err = err
			default:
				profile.p = &v.Profile
			}
		})
		if profile.err != nil || profile.p == nil {
			return nil, profile.err
		}
		return d.Eligibility.Verdicts(ctx, *profile.p, ids)
	})
	return context.WithValue(ctx, loadersKey{}, l)
}

func loadersOf(ctx context.Context) *loaders {
	l, ok := ctx.Value(loadersKey{}).(*loaders)
	if !ok {
		panic("graphql: a request not served by Server.ServeHTTP")
	}
	return l
}

// sawProgrammes announces what the fields of these programmes will ask for.
func (l *loaders) sawProgrammes(ps []catalogue.Programme) {
	for _, p := range ps {
		l.universities.want(p.University.ID)
		l.verdicts.want(p.ID)
	}
}

// wantProgrammes announces programmes that fields will ask for by id.
func (l *loaders) wantProgrammes(ids []string) { l.programmes.want(ids...) }

func (l *loaders) programme(ctx context.Context, id string) (*catalogue.Programme, error) {
	p, ok, err := l.programmes.get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, gradpath.NotFound("programme", id)
	}
	return &p, nil
}

func (l *loaders) university(ctx context.Context, id string) (*catalogue.University, error) {
	u, ok, err := l.universities.get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, gradpath.NotFound("university", id)
	}
	return &u, nil
}

// verdict is the signed-in student's verdict for a programme, or nil without a profile.
func (l *loaders) verdict(ctx context.Context, id string) (*eligibility.Verdict, error) {
	v, ok, err := l.verdicts.get(ctx, id)
	if err != nil || !ok {
		return nil, err
	}
	return &v, nil
}
