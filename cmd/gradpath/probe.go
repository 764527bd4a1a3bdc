package main

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// probeCmd asks a gradpath's health endpoint, for a container's health check where no curl
// is installed: exit 0 on 200, 1 otherwise.
func probeCmd(ctx context.Context, env *environment, args []string) error {
	fs := env.flagSet("probe", "Ask a running gradpath whether it is ready, for a container's health check: exit 0 when\nthe URL answers 200, 1 otherwise.")
	url := fs.String("url", "http://127.0.0.1:8080/readyz", "the endpoint to ask")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return usageError{fmt.Sprintf("--url: %v", err)}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", *url, res.Status)
	}
	fmt.Fprintf(env.stdout, "%s answered %s\n", *url, res.Status)
	return nil
}
