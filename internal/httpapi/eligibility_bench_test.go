package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gradpath/gradpath/data"
	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/eligibility"
	"github.com/gradpath/gradpath/internal/exchange"
	"github.com/gradpath/gradpath/internal/httpapi"
	"github.com/gradpath/gradpath/internal/sqlstore"
	"github.com/gradpath/gradpath/internal/storetest"
	"github.com/gradpath/gradpath/internal/synth"
)

// p99 reports the 99th percentile of the durations as a benchmark metric, in milliseconds.
func p99(b *testing.B, ds []time.Duration) {
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkEligibility matches the contract's profile against 100,000 generated programmes:
// in process (the Service: validation, matching, ranking, summary, the page explained) and
// over HTTP on loopback (the same, plus decoding the request and encoding the answer).
//
//	go test -run '^$' -bench BenchmarkEligibility -cpu 1 ./internal/httpapi/
func BenchmarkEligibility(b *testing.B) {
	ctx := context.Background()
	db := storetest.OpenSQLite(b)
	cat := catalogue.NewService(sqlstore.NewCatalogueStore(db), storetest.Clock)
	us, _ := data.Universities()
	c := synth.Change(us, synth.Options{Programmes: 100_000, Seed: 1})
	if _, err := cat.Put(ctx, c); err != nil {
		b.Fatal(err)
	}
	if err := cat.UseIndex(ctx); err != nil {
		b.Fatal(err)
	}
	rates := exchange.NewService(sqlstore.NewExchangeStore(db))
	svc := eligibility.NewService(cat, eligibility.DefaultTables(), rates, storetest.Clock, nil)
	if _, err := svc.Compiled(); err != nil {
		b.Fatal(err)
	}
	h, err := handler(httpapi.Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Catalogue: cat,
		Eligibility: svc, Exchange: rates, Ready: db.Ping, Now: storetest.Clock})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	body := strings.Replace(contractRequest, `"filters": {"country": "AU"}`, `"filters": {}`, 1)
	var req eligibility.Request
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		b.Fatal(err)
	}

	b.Run("in-process", func(b *testing.B) {
		var ds []time.Duration
		for b.Loop() {
			t := time.Now()
			if _, err := svc.Match(ctx, req); err != nil {
				b.Fatal(err)
			}
			ds = append(ds, time.Since(t))
		}
		p99(b, ds)
	})
	b.Run("http", func(b *testing.B) {
		var ds []time.Duration
		for b.Loop() {
			t := time.Now()
			res, err := http.Post(srv.URL+"/api/v1/eligibility", "application/json", strings.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				b.Fatalf("status %d", res.StatusCode)
			}
			ds = append(ds, time.Since(t))
		}
		p99(b, ds)
	})
	b.Run("what-if", func(b *testing.B) {
		var ds []time.Duration
		for b.Loop() {
			t := time.Now()
			if _, err := svc.WhatIf(ctx, req); err != nil {
				b.Fatal(err)
			}
			ds = append(ds, time.Since(t))
		}
		p99(b, ds)
	})
}
