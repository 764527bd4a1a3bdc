package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/gradpath/gradpath/data"
	"github.com/gradpath/gradpath/internal/app"
	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/config"
	"github.com/gradpath/gradpath/internal/synth"
	"github.com/gradpath/gradpath/internal/transfer"
)

func importCmd(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 || args[0] != "programmes" {
		return usageError{"what to import? gradpath import programmes [--dry-run] FILE.csv|FILE.json"}
	}
	fs := env.flagSet("import programmes", "Import programmes from a CSV or JSON file, all or nothing.\n\nEvery bad row is reported as \"line N: field: reason\"; if there is any, nothing is imported\nand the exit status is 1. Importing the same file again changes nothing.")
	loader := config.NewLoader(env.getenv)
	loader.Flags(fs, "data", "database_url")
	dryRun := fs.Bool("dry-run", false, "check the file and report, but write nothing")
	formatFlag := fs.String("format", "", "csv or json (default: from the file's extension; required for - , standard input)")
	files, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return usageError{"give one file: gradpath import programmes [--dry-run] FILE.csv|FILE.json"}
	}
	name := files[0]
	var format transfer.Format
	if *formatFlag != "" {
		format, err = transfer.ParseFormat(*formatFlag)
	} else if name == "-" {
		err = usageError{"reading standard input needs --format csv or --format json"}
	} else {
		format, err = transfer.FormatOf(name)
	}
	if err != nil {
		return err
	}
	cfg, err := loader.Load()
	if err != nil {
		return err
	}

	var in io.Reader = env.stdin
	var size int64 = -1
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil {
			size = st.Size()
		}
		in = f
	}
	a, err := app.New(ctx, cfg, app.Options{Progress: env.stderr})
	if err != nil {
		return err
	}
	defer a.Close(context.Background())
	svc := a.Catalogue

	start := time.Now()
	bar := newProgress(env.stderr, size, "reading "+name, true)
	// After the file, the write: a bar per stage, so the screen moves for the minute that
	// 100,000 programmes take.
	stage := ""
	ctx = catalogue.WithProgress(ctx, func(s string, done, total int) {
		if s != stage {
			bar.Finish()
			steps := int64(total)
			if total == 0 {
				steps = -1 // a spinner
			}
			stage, bar = s, newProgress(env.stderr, steps, s, false)
		}
		if total > 0 {
			bar.Bytes(int64(done), int64(total))
		}
	})
	rep, err := transfer.Import(ctx, svc, format, io.TeeReader(bufio.NewReaderSize(in, 1<<20), bar), *dryRun)
	bar.Finish()
	if err != nil {
		return err
	}
	out := bufio.NewWriter(env.stdout)
	for _, p := range rep.Problems {
		fmt.Fprintln(out, p.String())
	}
	out.Flush()
	took := time.Since(start).Round(time.Millisecond)
	switch {
	case len(rep.Problems) > 0:
		fmt.Fprintf(env.stderr, "%s (%d problems in all). Fix them and run the import again.\n", rep.Summary(), len(rep.Problems))
		return errReported
	case rep.DryRun:
		r := rep.Result
		fmt.Fprintf(env.stderr, "%s rows checked in %s: all good; importing would create %s programmes, update %s and create %s universities. Run again without --dry-run to import them.\n",
			count(rep.Rows), took, count(r.Programmes.Created), count(r.Programmes.Updated), count(r.Universities.Created))
	default:
		r := rep.Result
		fmt.Fprintf(env.stderr, "imported %s rows in %s: %s programmes created, %s updated, %s unchanged; %s universities created.\n",
			count(rep.Rows), took, count(r.Programmes.Created), count(r.Programmes.Updated), count(r.Programmes.Unchanged), count(r.Universities.Created))
	}
	return nil
}

func exportCmd(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 || args[0] != "programmes" {
		return usageError{"what to export? gradpath export programmes --format csv|json > FILE"}
	}
	fs := env.flagSet("export programmes", "Write every programme to standard output, in id order.")
	loader := config.NewLoader(env.getenv)
	loader.Flags(fs, "data", "database_url")
	formatFlag := fs.String("format", "json", "csv or json")
	rest, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError{fmt.Sprintf("export takes no file, got %q: redirect standard output instead", rest)}
	}
	format, err := transfer.ParseFormat(*formatFlag)
	if err != nil {
		return err
	}
	cfg, err := loader.Load()
	if err != nil {
		return err
	}
	a, err := app.New(ctx, cfg, app.Options{Progress: env.stderr})
	if err != nil {
		return err
	}
	defer a.Close(context.Background())
	svc := a.Catalogue
	out := bufio.NewWriterSize(env.stdout, 1<<20)
	n, err := transfer.Export(ctx, svc, format, out)
	if err != nil {
		return err
	}
	if err := out.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(env.stderr, "exported %s programmes as %s\n", count(n), format)
	return nil
}

func genCmd(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 || args[0] != "catalogue" {
		return usageError{"what to generate? gradpath gen catalogue --programmes N --seed S > FILE.json"}
	}
	fs := env.flagSet("gen catalogue", "Write a synthetic catalogue, in the JSON import format, to standard output.\n\nProgrammes are spread over the real university list with each country's calendar, fees and\nrequirements; every one is marked synthetic. The same seed gives the same file.")
	n := fs.Int("programmes", 1000, "how many programmes")
	seed := fs.Uint64("seed", 1, "random seed")
	year := fs.Int("first-year", 2026, "year of the first intake cycle")
	rest, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError{fmt.Sprintf("gen takes no arguments, got %q", rest)}
	}
	if *n < 1 || *n > 10_000_000 {
		return usageError{"--programmes must be between 1 and 10,000,000"}
	}
	us, err := data.Universities()
	if err != nil {
		return err
	}
	g := synth.New(us, synth.Options{Programmes: *n, Seed: *seed, FirstYear: *year})
	bar := newProgress(env.stderr, int64(*n), "generating", false)
	ps := make([]catalogue.Programme, 0, *n)
	for g.More() {
		ps = append(ps, g.Next())
		bar.Add(1)
	}
	bar.Finish()
	out := bufio.NewWriterSize(env.stdout, 1<<20)
	if err := transfer.WriteJSON(out, ps); err != nil {
		return err
	}
	return out.Flush()
}

// count formats a number with thousands separators: 100000 → 100,000.
func count(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
