package app_test

import (
	"os/exec"
	"strings"
	"testing"
)

// layers are gradpath's packages from the bottom up: a package may import its own layer and
// those below, never one above. The shared vocabulary and small tools are at the bottom, the
// domain above them, the adapters (storage, HTTP, pages, jobs) above the domain, and only the
// composition root and the command import everything.
var layers = map[string]int{
	"internal/gradpath": 0, "internal/mail": 0, "internal/outbox": 0, "internal/calendar": 0, "internal/ratelimit": 0,
	"internal/config": 0, "internal/observability": 0, "internal/blobstore": 0,
	"internal/catalogue": 1, "internal/eligibility": 1, "internal/accounts": 1, "internal/leads": 1, "internal/booking": 1,
	"internal/workspace": 1, "internal/roadmap": 1, "internal/guides": 1, "internal/careers": 1, "internal/exchange": 1, "internal/synth": 1,
	"internal/transfer": 1, "internal/webhooks": 1, "internal/insights": 1, "data": 1, "data/convert": 1,
	"internal/sqlstore": 2, "internal/sqlite": 2, "internal/postgres": 2, "internal/jobs": 2, "internal/storetest": 2, "internal/stream": 2, "internal/live": 2,
	"internal/edge": 2, "internal/httpapi": 2, "internal/graphql": 2, "internal/web": 2, "internal/backup": 2,
	"internal/app": 3,
	"cmd/gradpath": 4, "bench/finder": 4, "bench/leads": 4, "deploy": 4,
}

func TestLayers(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "github.com/gradpath/gradpath/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const module = "github.com/gradpath/gradpath/"
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], module)
		layer, known := layers[pkg]
		if !known {
			t.Errorf("package %s has no layer: add it to layers", pkg)
			continue
		}
		for _, imp := range fields[1:] {
			dep, ok := strings.CutPrefix(imp, module)
			if !ok {
				continue
			}
			if layers[dep] > layer {
				t.Errorf("%s (layer %d) imports %s (layer %d), which is above it", pkg, layer, dep, layers[dep])
			}
		}
	}
}
