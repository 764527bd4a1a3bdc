package main

import (
	"flag"
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// isTerminal reports whether w is a terminal a person watches.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress is a bar on a terminal and nothing elsewhere, so that logs and pipes stay clean.
type progress struct{ bar *progressbar.ProgressBar }

// newProgress returns a bar of max steps (-1: unknown, a spinner) described by desc.
func newProgress(w io.Writer, max int64, desc string, bytes bool) *progress {
	if !isTerminal(w) {
		return &progress{}
	}
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionThrottle(100e6),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionOnCompletion(func() { io.WriteString(w, "\n") }),
	}
	if bytes {
		opts = append(opts, progressbar.OptionShowBytes(true))
	}
	return &progress{bar: progressbar.NewOptions64(max, opts...)}
}

func (p *progress) Add(n int) {
	if p.bar != nil {
		p.bar.Add(n)
	}
}

func (p *progress) Write(b []byte) (int, error) {
	p.Add(len(b))
	return len(b), nil
}

// Bytes shows done of total, for work whose total is learnt as it goes.
func (p *progress) Bytes(done, total int64) {
	if p.bar != nil {
		p.bar.ChangeMax64(total)
		p.bar.Set64(done)
	}
}

func (p *progress) Finish() {
	if p.bar != nil {
		p.bar.Finish()
	}
}

// parseInterspersed parses flags that may come before or after the positional arguments
// ("import programmes FILE --dry-run" as well as "import programmes --dry-run FILE").
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}
