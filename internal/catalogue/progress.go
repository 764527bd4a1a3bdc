package catalogue

import "context"

// Progress is told how far a long write (an import of 100,000 programmes) has got: its stage
// ("writing programmes", "indexing") and done of total rows (total 0: not counted).
type Progress func(stage string, done, total int)

type progressKey struct{}

// WithProgress returns ctx carrying p, for the writes made with it.
func WithProgress(ctx context.Context, p Progress) context.Context {
	return context.WithValue(ctx, progressKey{}, p)
}

// ReportProgress tells ctx's Progress, if it has one, how far the write has got.
func ReportProgress(ctx context.Context, stage string, done, total int) {
	if p, ok := ctx.Value(progressKey{}).(Progress); ok && p != nil {
		p(stage, done, total)
	}
}
