// Command gradpath is the whole of gradpath in one binary: the server and the commands that
// look after its data.
//
//	gradpath serve --demo        start on the embedded database with the demo dataset
//	gradpath migrate             apply pending database migrations
//	gradpath import programmes   import a CSV or JSON file of programmes, all or nothing
//	gradpath export programmes   write every programme as CSV or JSON
//	gradpath gen catalogue       write a synthetic catalogue
//	gradpath backup, restore     snapshot a data directory while it serves, and restore one
//	gradpath doctor              check the configuration and every dependency
//	gradpath probe               a container's health check
//	gradpath version             print the version and commit
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	_ "time/tzdata" // the zone database in the binary: agencies' zones work on any base image

	"github.com/gradpath/gradpath/internal/config"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3"; otherwise it comes
// from the module's build information.
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) && !errors.Is(err, errReported) {
			fmt.Fprintln(os.Stderr, "gradpath:", err)
		}
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0) // asked for with -h: the usage is on standard output
		}
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a mistake on the command line; it exits with status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// errReported means the command has already told the user what went wrong.
var errReported = errors.New("reported")

const usage = `gradpath runs a study-abroad and career counselling platform.

Usage:
  gradpath <command> [flags]

Commands:
  serve     start the server (REST API at /api/v1, health at /healthz)
  migrate   apply pending database migrations and exit
  import    import programmes from a CSV or JSON file, all or nothing
  export    write every programme as CSV or JSON
  gen       write a synthetic catalogue for tests and benchmarks
  user      create an account with roles, or issue a password-reset token
  backup    write a snapshot of the data directory while gradpath serves it
  restore   restore a snapshot into a new data directory
  doctor    check the configuration and every service gradpath depends on, and say what to fix
  probe     ask a running gradpath whether it is ready (a container's health check)
  version   print the version

Run "gradpath <command> -h" for a command's flags. Every flag can also be set with a
GRADPATH_* environment variable (GRADPATH_ADDR, GRADPATH_DATA, GRADPATH_DATABASE_URL, ...)
or in a TOML file given with --config.
`

// run is the whole program, with its environment passed in so that tests can call it.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		fmt.Fprint(stderr, usage)
		return usageError{"no command given"}
	}
	env := &environment{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr, args: args}
	cmd, rest := args[1], args[2:]
	switch cmd {
	case "serve":
		return serve(ctx, env, rest)
	case "migrate":
		return migrate(ctx, env, rest)
	case "import":
		return importCmd(ctx, env, rest)
	case "export":
		return exportCmd(ctx, env, rest)
	case "gen":
		return genCmd(ctx, env, rest)
	case "user":
		return userCmd(ctx, env, rest)
	case "backup":
		return backupCmd(ctx, env, rest)
	case "restore":
		return restoreCmd(ctx, env, rest)
	case "doctor":
		return doctorCmd(ctx, env, rest)
	case "probe":
		return probeCmd(ctx, env, rest)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "gradpath", versionString())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usageError{fmt.Sprintf("unknown command %q", cmd)}
}

// environment is what a command may touch of the outside world.
type environment struct {
	getenv         func(string) string
	stdin          io.Reader
	stdout, stderr io.Writer
	args           []string
}

// wantsHelp says whether the command line asks for a command's usage.
func (e *environment) wantsHelp() bool {
	for _, a := range e.args {
		switch a {
		case "-h", "-help", "--h", "--help":
			return true
		}
	}
	return false
}

// flagSet returns a flag set for a command, printing its usage to stderr.
func (e *environment) flagSet(name, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		// Asked for, the usage is the answer (standard output); after a mistake, the
		// explanation of the mistake (standard error).
		w := e.stderr
		if e.wantsHelp() {
			w = e.stdout
		}
		fs.SetOutput(w)
		fmt.Fprintf(w, "%s\n\nUsage:\n  gradpath %s [flags]\n\nFlags:\n", summary, name)
		fs.PrintDefaults()
		fs.SetOutput(e.stderr)
	}
	return fs
}

// config registers the named settings as flags on fs, parses args, and loads the
// configuration from every source.
func (e *environment) config(fs *flag.FlagSet, args []string, keys ...string) (config.Config, error) {
	loader := config.NewLoader(e.getenv)
	loader.Flags(fs, keys...)
	if err := fs.Parse(args); err != nil {
		return config.Config{}, err
	}
	return loader.Load()
}

func versionString() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	if rev := buildSetting("vcs.revision"); len(rev) >= 12 {
		v += " " + rev[:12]
		if buildSetting("vcs.modified") == "true" {
			v += "+changes"
		}
	}
	return v
}

// buildSetting is one setting of the build information (vcs.revision, vcs.time), or "".
func buildSetting(key string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range info.Settings {
		if s.Key == key {
			return s.Value
		}
	}
	return ""
}
