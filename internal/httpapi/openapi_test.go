package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/httpapi"
	"github.com/gradpath/gradpath/internal/sqlstore"
	"github.com/gradpath/gradpath/internal/storetest"
)

var spec struct {
	once sync.Once
	doc  map[string]any
	raw  []byte
	c    *jsonschema.Compiler
}

const specURL = "https://gradpath.test/openapi.json"

// openAPI fetches the served document once.
func openAPI(t *testing.T) map[string]any {
	t.Helper()
	spec.once.Do(func() {
		h := demoServer(t)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
		spec.raw = rec.Body.Bytes()
		if err := json.Unmarshal(spec.raw, &spec.doc); err != nil {
			t.Fatalf("openapi.json is not JSON: %v", err)
		}
		doc, _ := jsonschema.UnmarshalJSON(bytes.NewReader(spec.raw))
		spec.c = jsonschema.NewCompiler()
		if err := spec.c.AddResource(specURL, doc); err != nil {
			t.Fatal(err)
		}
	})
	if spec.doc == nil {
		t.Fatal("no OpenAPI document")
	}
	return spec.doc
}

// validate checks a response body against a component schema of the served document.
func validate(t *testing.T, component string, body []byte) {
	t.Helper()
	openAPI(t)
	sch, err := spec.c.Compile(specURL + "#/components/schemas/" + component)
	if err != nil {
		t.Fatalf("schema %s: %v", component, err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	if err := sch.Validate(v); err != nil {
		t.Errorf("body does not match the %s schema: %v\n%s", component, err, body)
	}
}

// The document is OpenAPI 3.1, describes every route the server has and no other, and every
// $ref in it resolves.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	doc := openAPI(t)
	if doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi = %v", doc["openapi"])
	}
	var documented []string
	for path, ops := range doc["paths"].(map[string]any) {
		for method, op := range ops.(map[string]any) {
			documented = append(documented, strings.ToUpper(method)+" "+path)
			o := op.(map[string]any)
			if o["operationId"] == "" || o["summary"] == "" || o["responses"] == nil {
				t.Errorf("%s %s lacks an operationId, summary or responses", method, path)
			}
			// Every path parameter of the template is declared.
			for _, m := range regexp.MustCompile(`\{(\w+)\}`).FindAllStringSubmatch(path, -1) {
				found := false
				for _, p := range asList(o["parameters"]) {
					pm, _ := p.(map[string]any)
					if pm["name"] == m[1] && pm["in"] == "path" {
						found = true
					}
				}
				if !found {
					t.Errorf("%s %s does not declare path parameter %s", method, path, m[1])
				}
			}
		}
	}
	sort.Strings(documented)

	// The routes the server answers, found by asking it: each must not be a 404 or a 405.
	h := demoServer(t)
	for _, route := range documented {
		method, path, _ := strings.Cut(route, " ")
		target := strings.NewReplacer("{id}", "gatech-omscs", "{code}", "invalid").Replace(path)
		if strings.HasPrefix(path, "/api/v1/universities/") {
			target = "/api/v1/universities/georgia-institute-of-technology"
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
		if rec.Code == 405 || rec.Code == 404 && strings.Contains(rec.Body.String(), "nothing is at") {
			t.Errorf("%s is documented but no route answers it (%d)", route, rec.Code)
		}
	}
	for _, ref := range regexp.MustCompile(`"\$ref": "#/([^"]+)"`).FindAllStringSubmatch(string(spec.raw), -1) {
		var node any = doc
		for _, part := range strings.Split(ref[1], "/") {
			m, ok := node.(map[string]any)
			if !ok || m[part] == nil {
				t.Errorf("$ref #/%s does not resolve", ref[1])
				break
			}
			node = m[part]
		}
	}
}

// Every route of the table is in the document: a new route cannot be added undocumented.
func TestRouteTableIsDocumented(t *testing.T) {
	db := storetest.OpenSQLite(t)
	h, err := newServer(catalogue.NewService(sqlstore.NewCatalogueStore(db), storetest.Clock), db.Ping, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	patterns, err := httpapi.RoutePatterns(httpapi.Deps{Catalogue: catalogue.NewService(sqlstore.NewCatalogueStore(db), storetest.Clock), Ready: db.Ping})
	if err != nil {
		t.Fatal(err)
	}
	for _, pattern := range patterns {
		method, path, _ := strings.Cut(pattern, " ")
		if path == "/{$}" {
			continue // the HTML index page
		}
		if doc.Paths[path][strings.ToLower(method)] == nil {
			t.Errorf("route %s is not in the OpenAPI document", pattern)
		}
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}
