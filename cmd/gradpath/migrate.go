package main

import (
	"context"
	"fmt"

	"github.com/gradpath/gradpath/internal/config"
)

func migrate(ctx context.Context, env *environment, args []string) error {
	fs := env.flagSet("migrate", "Apply pending database migrations and exit. The server also applies them when it starts.")
	loader := config.NewLoader(env.getenv)
	loader.Flags(fs, "data", "database_url")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loader.Load()
	if err != nil {
		return err
	}
	db, err := openDatabase(ctx, cfg, env.stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(env.stdout, "the database (%s) is up to date\n", describeDatabase(cfg))
	return nil
}
