package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A large catalogue is served at once: the finder answers from the database while its index
// is built, /readyz says 503 until the index is in use (so that a load balancer waits for
// it), and then the finder answers from the index (which corrects a misspelling; SQL does
// not). Before, serve built the index first: 7 s for 100,000 programmes on one core. The
// demo catalogue (6 programmes) stands for a large one: index_in_background_above is 0.
func TestServesWhileIndexing(t *testing.T) {
	t.Parallel()
	s := start(t, []string{"GRADPATH_INDEX_IN_BACKGROUND_ABOVE=0"}, "--demo", "--log-level", "info")
	logs := func() string { return s.stderr.String() }
	get := func(path string) (int, map[string]any) {
		res, err := http.Get(s.url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body map[string]any
		json.NewDecoder(res.Body).Decode(&body)
		return res.StatusCode, body
	}
	if !strings.Contains(logs(), `"msg":"serving while the finder index is built"`) {
		t.Fatalf("no word of serving before the index:\n%s", logs())
	}
	building := 0
	for deadline := time.Now().Add(2 * time.Minute); ; {
		code, body := get("/readyz")
		if code == http.StatusOK {
			break
		}
		if d, _ := body["detail"].(string); code != http.StatusServiceUnavailable || !strings.Contains(d, "index is being built") {
			t.Fatalf("readyz while indexing: %d %v", code, body)
		}
		building++
		if code, page := get("/api/v1/programmes?country=AU&limit=5"); code != 200 || page["total"].(float64) == 0 {
			t.Fatalf("the finder while indexing: %d %v", code, page)
		}
		if time.Now().After(deadline) {
			t.Fatal("the index was not built within 2 minutes")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(logs(), `"msg":"finder index built"`) {
		t.Fatal("ready before the index was built")
	}
	t.Logf("/readyz said the index was being built %d times", building)
	if code, page := get("/api/v1/programmes?q=enginering"); code != 200 || page["did_you_mean"] != "engineering" {
		t.Errorf("after indexing, a misspelling: %d did_you_mean %v", code, page["did_you_mean"])
	}
	// Without the setting, the index is built before serving.
	s = start(t, nil, "--demo", "--log-level", "info")
	if serving, indexed := strings.Index(s.stderr.String(), `"msg":"serving"`), strings.Index(s.stderr.String(), `"msg":"finder index built"`); indexed < 0 || serving < indexed {
		t.Errorf("a small catalogue: serving at %d, index built at %d", serving, indexed)
	}
}
