package main

import (
	"context"
	"fmt"

	"github.com/gradpath/gradpath/internal/app"
)

func migrate(ctx context.Context, env *environment, args []string) error {
	fs := env.flagSet("migrate", "Apply pending database migrations and exit. The server also applies them when it starts.")
	cfg, err := env.config(fs, args, "data", "database_url")
	if err != nil {
		return err
	}
	a, err := app.New(ctx, cfg, app.Options{Progress: env.stderr})
	if err != nil {
		return err
	}
	defer a.Close(context.Background())
	fmt.Fprintf(env.stdout, "the database (%s) is up to date\n", app.DescribeDatabase(cfg))
	return nil
}
