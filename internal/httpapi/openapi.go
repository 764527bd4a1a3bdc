package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/booking"
	"github.com/gradpath/gradpath/internal/calendar"
	"github.com/gradpath/gradpath/internal/careers"
	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/edge"
	"github.com/gradpath/gradpath/internal/eligibility"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/guides"
	"github.com/gradpath/gradpath/internal/leads"
	"github.com/gradpath/gradpath/internal/roadmap"
	"github.com/gradpath/gradpath/internal/transfer"
)

// operation is the OpenAPI description of one route.
type operation struct {
	ID, Summary, Description, Tag string
	Params                        []param
	// Request is a value of the request body's type, sent as one of RequestTypes
	// (application/json when empty).
	Request      any
	RequestTypes []string
	// Response is a value of the success response's type; its schema is reflected from the
	// type. Status is the success status (200 when 0); 204 has no body.
	Response any
	// ResponseType is the success body's media type when it is not JSON (text/csv).
	ResponseType string
	Status       int
	// AlsoStatus lists other success statuses with the same body (201 and 202 of a sign-up).
	AlsoStatus []int
	// Access says who may call the route.
	Access policy
	// ETag says the response carries an ETag and answers If-None-Match with 304.
	ETag bool
	// Errors lists the problem statuses the operation returns besides 500.
	Errors []int
	// Hidden routes (the HTML index) are not part of the API document.
	Hidden bool
}

type param struct {
	Name, In, Description string
	Schema                map[string]any
	Required, List        bool
}

func str() map[string]any             { return map[string]any{"type": "string"} }
func pattern(p string) map[string]any { return map[string]any{"type": "string", "pattern": p} }
func enumOf[T ~string](vs []T) map[string]any {
	e := make([]string, len(vs))
	for i, v := range vs {
		e[i] = string(v)
	}
	return map[string]any{"type": "string", "enum": e}
}
func queryParam(name, desc string, schema map[string]any) param {
	return param{Name: name, In: "query", Description: desc, Schema: schema}
}
func listParam(name, desc string, schema map[string]any) param {
	return param{Name: name, In: "query", Description: desc + " Repeat the parameter or separate values with commas.", Schema: schema, List: true}
}
func headerParam(name, desc string) param {
	return param{Name: name, In: "header", Description: desc, Schema: str()}
}
func pathParam(name, desc string) param {
	return param{Name: name, In: "path", Description: desc, Schema: str(), Required: true}
}

// accessSentence says who may call an operation, for its description.
func accessSentence(a policy) string {
	switch a {
	case public:
		return "Public: no sign-in is needed."
	case admin:
		return "For admins; a token needs the admin scope."
	case counsellor:
		return "For counsellors (their own students and leads) and admins; a token needs the read scope, and write to change."
	}
	return "For the signed-in person; a token needs the read scope, and write to change."
}

// openAPIDocument builds the OpenAPI 3.1 description of every route of the table.
func (s *Server) openAPIDocument() ([]byte, error) {
	g := newSchemaGen()
	paths := map[string]map[string]any{}
	for _, rt := range s.routes {
		if rt.doc.Hidden {
			continue
		}
		method, path, ok := strings.Cut(rt.pattern, " ")
		if !ok {
			return nil, fmt.Errorf("route %q has no method", rt.pattern)
		}
		op := rt.doc
		var params []any
		for _, p := range op.Params {
			m := map[string]any{"name": p.Name, "in": p.In, "description": p.Description, "schema": p.Schema}
			if p.Required {
				m["required"] = true
			}
			if p.List {
				m["schema"] = map[string]any{"type": "array", "items": p.Schema}
				m["style"], m["explode"] = "form", true
			}
			params = append(params, m)
		}
		status := op.Status
		if status == 0 {
			status = http.StatusOK
		}
		ok200 := map[string]any{
			"description": op.Summary,
			"headers":     map[string]any{"X-Request-Id": map[string]any{"$ref": "#/components/headers/X-Request-Id"}},
		}
		if status == http.StatusFound {
			ok200 = map[string]any{"description": op.Summary, "headers": map[string]any{"Location": map[string]any{"schema": str()}}}
		} else if op.ResponseType != "" {
			ok200["content"] = map[string]any{op.ResponseType: map[string]any{"schema": str()}}
		} else if status != http.StatusNoContent {
			ok200["content"] = map[string]any{"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(op.Response))}}
		}
		responses := map[string]any{fmt.Sprint(status): ok200}
		for _, also := range op.AlsoStatus {
			responses[fmt.Sprint(also)] = ok200
		}
		if op.ETag {
			ok200["headers"].(map[string]any)["ETag"] = map[string]any{"$ref": "#/components/headers/ETag"}
			responses["304"] = map[string]any{"description": "Not modified: the If-None-Match header names the current ETag."}
			params = append(params, map[string]any{"$ref": "#/components/parameters/If-None-Match"})
		}
		// Every operation refuses a query parameter it does not know, or a malformed one.
		for _, code := range append(op.Errors, http.StatusBadRequest, http.StatusInternalServerError) {
			responses[fmt.Sprint(code)] = map[string]any{"$ref": "#/components/responses/Problem"}
		}
		o := map[string]any{"operationId": op.ID, "summary": op.Summary, "responses": responses}
		if op.Request != nil {
			types := op.RequestTypes
			if len(types) == 0 {
				types = []string{"application/json"}
			}
			content := map[string]any{}
			for _, t := range types {
				schema := g.schema(reflect.TypeOf(op.Request))
				switch t {
				case "text/csv":
					schema = map[string]any{"type": "string", "description": "CSV with a header line; see the columns in the README."}
				case "text/calendar", "text/plain":
					schema = str()
				case "multipart/form-data":
					schema = map[string]any{"type": "object", "properties": map[string]any{"kind": str(), "expires_on": str(),
						"file": map[string]any{"type": "string", "contentMediaType": "application/octet-stream"}}, "required": []string{"kind", "file"}}
				}
				content[t] = map[string]any{"schema": schema}
			}
			o["requestBody"] = map[string]any{"required": true, "content": content}
		}
		if op.Access != public {
			o["security"] = []any{map[string]any{"bearerToken": []string{}}, map[string]any{"sessionCookie": []string{}}}
			responses["401"] = map[string]any{"$ref": "#/components/responses/Problem"}
			responses["403"] = map[string]any{"$ref": "#/components/responses/Problem"}
			switch op.Access {
			case admin:
				o["x-gradpath-access"] = "admin"
			case counsellor:
				o["x-gradpath-access"] = "counsellor"
			default:
				o["x-gradpath-access"] = "signed-in"
			}
		} else {
			// Public: no credentials at all (an explicit empty list, not a forgotten one).
			o["security"] = []any{}
			o["x-gradpath-access"] = "public"
		}
		o["description"] = strings.TrimSpace(op.Description + " " + accessSentence(op.Access))
		if op.Tag != "" {
			o["tags"] = []string{op.Tag}
		}
		if len(params) > 0 {
			o["parameters"] = params
		}
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		paths[path][strings.ToLower(method)] = o
	}
	paths["/metrics"] = map[string]any{"get": map[string]any{
		"operationId": "metrics", "summary": "Prometheus metrics", "tags": []string{"operations"},
		"description": "Served to the networks in metrics_from only (loopback by default), or on metrics_addr instead.",
		"security":    []any{},
		"responses": map[string]any{"200": map[string]any{"description": "Metrics in the Prometheus text format.",
			"content": map[string]any{"text/plain": map[string]any{"schema": str()}}},
			"403": map[string]any{"$ref": "#/components/responses/Problem"}},
	}}
	server := s.ServerURL
	if server == "" {
		server = "/"
	}
	info := map[string]any{
		"title":   "gradpath API",
		"version": s.Version,
		"description": "The REST API of gradpath: the programme catalogue and finder, eligibility, leads, bookings, " +
			"students' workspaces, roadmaps, careers and webhooks. Errors are RFC 9457 problem details whose errors list " +
			"names each offending parameter or field. Lists use cursor pagination; catalogue reads carry ETags.",
	}
	if strings.HasPrefix(server, "http") {
		info["contact"] = map[string]any{"name": "The agency that runs this gradpath", "url": strings.TrimSuffix(server, "/") + "/"}
	}
	g.schema(reflect.TypeOf(Problem{}))
	doc := map[string]any{
		"openapi":           "3.1.0",
		"jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
		"info":              info,
		"servers":           []any{map[string]any{"url": server, "description": "This gradpath"}},
		"tags": []any{
			map[string]any{"name": "catalogue", "description": "Universities, programmes, the finder and exchange rates"},
			map[string]any{"name": "eligibility", "description": "Eligibility and what-if for a student profile"},
			map[string]any{"name": "accounts", "description": "Sign-in, sessions, tokens, users and the audit log"},
			map[string]any{"name": "leads", "description": "Enquiries from the public forms, their pipeline, consent, privacy notices and erasure"},
			map[string]any{"name": "booking", "description": "Counsellors' hours, consultation and mentorship slots, and bookings"},
			map[string]any{"name": "workspace", "description": "A student's shortlist, applications, documents, costs and calendar"},
			map[string]any{"name": "roadmaps", "description": "Learning roadmaps, progress and mentors' cohorts"},
			map[string]any{"name": "careers", "description": "Roles, salaries by city and companies"},
			map[string]any{"name": "guides", "description": "The agency's guide pages: revisions and publishing"},
			map[string]any{"name": "webhooks", "description": "Signed webhook endpoints and their delivery logs (Standard Webhooks)"},
			map[string]any{"name": "insights", "description": "The agency's figures: leads, the funnel, response times, bookings and applications"},
			map[string]any{"name": "operations", "description": "Health, readiness, metrics and this document"},
		},
		"paths": paths,
		"components": map[string]any{
			"schemas": g.components,
			"responses": map[string]any{"Problem": map[string]any{
				"description": "A problem: what went wrong and, for invalid input, which fields.",
				"content": map[string]any{"application/problem+json": map[string]any{
					"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}},
			}},
			"headers": map[string]any{
				"X-Request-Id": map[string]any{"description": "The request's id, as logged; quote it when reporting a problem.", "schema": str()},
				"ETag":         map[string]any{"description": "Version of the response body; send it back in If-None-Match.", "schema": str()},
			},
			"securitySchemes": map[string]any{
				"bearerToken": map[string]any{"type": "http", "scheme": "bearer",
					"description": "A personal access token (POST /api/v1/me/tokens), with the scopes the operation needs: read for GET, write to change, admin for admin routes."},
				"sessionCookie": map[string]any{"type": "apiKey", "in": "cookie", "name": "__Host-gradpath_session",
					"description": "The browser session set by POST /api/v1/auth/login; requests that change something also send its csrf_token in X-CSRF-Token."},
			},
			"parameters": map[string]any{
				"If-None-Match": map[string]any{"name": "If-None-Match", "in": "header", "schema": str(),
					"description": "An ETag from an earlier answer: 304 if the answer is unchanged."},
			},
		},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// schemaGen reflects JSON Schemas (draft 2020-12, as OpenAPI 3.1 uses) from Go types. Named
// structs become components referenced by $ref.
type schemaGen struct {
	components map[string]any
	types      map[string]reflect.Type
	enums      map[reflect.Type][]string
}

// componentNames renames view types after what they show.
var componentNames = map[reflect.Type]string{
	reflect.TypeOf(ProgrammeView{}):        "Programme",
	reflect.TypeOf(UniversityView{}):       "University",
	reflect.TypeOf(catalogue.Programme{}):  "ProgrammeInput",
	reflect.TypeOf(catalogue.University{}): "UniversityInput",
	reflect.TypeOf(transfer.Problem{}):     "ImportProblem",
	reflect.TypeOf(leads.Profile{}):        "CounsellorProfile",
	reflect.TypeOf(leads.ImportReport{}):   "LeadImportReport",
	reflect.TypeOf(guides.Source{}):        "GuideSource",
	reflect.TypeOf(guides.State{}):         "GuideState",
	// Generated clients name an operation's answer <OperationId>Response: the schemas of the
	// login and what-if answers must not take those names.
	reflect.TypeOf(LoginResponse{}):              "LoginResult",
	reflect.TypeOf(eligibility.WhatIfResponse{}): "WhatIfResult",
	reflect.TypeOf(leads.ImportProblem{}):        "LeadImportProblem",
	reflect.TypeOf(calendar.File{}):              "CalendarFile",
	reflect.TypeOf(leads.Input{}):                "LeadInput",
	reflect.TypeOf(leads.Detail{}):               "LeadDetail",
	reflect.TypeOf(leads.Receipt{}):              "LeadReceipt",
	reflect.TypeOf(leads.Interest{}):             "LeadInterest",
	reflect.TypeOf(leads.Patch{}):                "LeadPatch",
	reflect.TypeOf(leads.Activity{}):             "LeadActivity",
	reflect.TypeOf(leads.Export{}):               "LeadExport",
	reflect.TypeOf(booking.Input{}):              "BookingInput",
	reflect.TypeOf(roadmap.Summary{}):            "RoadmapSummary",
	reflect.TypeOf(roadmap.Progress{}):           "RoadmapProgress",
	reflect.TypeOf(roadmap.Source{}):             "RoadmapSource",
	reflect.TypeOf(careers.Source{}):             "CareerSource",
	reflect.TypeOf(roadmap.Event{}):              "ProgressEvent",
	reflect.TypeOf(booking.Created{}):            "BookingCreated",
	reflect.TypeOf(transfer.Report{}):            "ImportReport",
	reflect.TypeOf(eligibility.Request{}):        "EligibilityRequest",
	reflect.TypeOf(eligibility.Response{}):       "EligibilityResponse",
	reflect.TypeOf(eligibility.Match{}):          "EligibilityResult",
	reflect.TypeOf(gradpath.Rates{}):             "ExchangeRates",
}

func newSchemaGen() *schemaGen {
	strs := func(vs ...string) []string { return vs }
	g := &schemaGen{components: map[string]any{}, types: map[string]reflect.Type{}, enums: map[reflect.Type][]string{}}
	put := func(v any, values []string) { g.enums[reflect.TypeOf(v)] = values }
	put(catalogue.Level(""), enumOf(catalogue.PriorLevels)["enum"].([]string))
	put(catalogue.Mode(""), enumOf(catalogue.Modes)["enum"].([]string))
	put(catalogue.TuitionBasis(""), strs(string(catalogue.PerYear), string(catalogue.Total)))
	put(catalogue.Scale(""), enumOf(catalogue.Scales)["enum"].([]string))
	put(catalogue.ComparisonPoint(""), enumOf(catalogue.ComparisonPoints)["enum"].([]string))
	tests := make([]string, len(catalogue.Tests))
	for i, t := range catalogue.Tests {
		tests[i] = string(t.Test)
	}
	put(catalogue.Test(""), tests)
	codes := []string{}
	for _, c := range edge.Codes() {
		codes = append(codes, string(c))
	}
	sort.Strings(codes)
	put(gradpath.Code(""), codes)
	put(gradpath.Role(""), enumOf(gradpath.Roles)["enum"].([]string))
	put(gradpath.Scope(""), enumOf(gradpath.Scopes)["enum"].([]string))
	put(leads.Kind(""), []string{string(leads.Callback), string(leads.Consultation)})
	put(leads.Status(""), []string{string(leads.StatusNew), string(leads.StatusContacted), string(leads.StatusQualified), string(leads.StatusConverted), string(leads.StatusLost)})
	put(eligibility.Verdict(""), []string{string(eligibility.Eligible), string(eligibility.Conditional), string(eligibility.NotEligible)})
	put(eligibility.Result(""), []string{string(eligibility.Pass), string(eligibility.Fail), string(eligibility.Unknown)})
	return g
}

var (
	timeType = reflect.TypeOf(time.Time{})
	dateType = reflect.TypeOf(gradpath.Date{})
)

func (g *schemaGen) schema(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case dateType:
		return map[string]any{"type": "string", "pattern": `^\d{4}-\d{2}(-\d{2})?$`,
			"description": "A date, YYYY-MM-DD, or YYYY-MM when only the month is known."}
	}
	if values, ok := g.enums[t]; ok {
		return map[string]any{"type": "string", "enum": values}
	}
	switch t {
	case reflect.TypeOf(calendar.Span{}):
		return map[string]any{"type": "string", "pattern": `^\d{2}:\d{2}-\d{2}:\d{2}$`, "description": "Working time within a day, such as 09:30-18:30."}
	case reflect.TypeOf(calendar.Week{}):
		return map[string]any{"type": "object", "description": "Working spans by weekday; a day left out is closed.",
			"propertyNames":        map[string]any{"enum": []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}},
			"additionalProperties": map[string]any{"type": "array", "items": g.schema(reflect.TypeOf(calendar.Span{}))}}
	}
	if t == reflect.TypeOf(eligibility.Strings{}) {
		return map[string]any{"anyOf": []any{str(), map[string]any{"type": "array", "items": str()}}}
	}
	switch t.Kind() {
	case reflect.String:
		return str()
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		m := map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
		if values, ok := g.enums[t.Key()]; ok {
			m["propertyNames"] = map[string]any{"enum": values}
		}
		return m
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		name := componentNames[t]
		if name == "" {
			name = t.Name()
		}
		if name == "" {
			return g.object(t)
		}
		ref := map[string]any{"$ref": "#/components/schemas/" + name}
		if other, ok := g.types[name]; ok && other != t {
			panic(fmt.Sprintf("openapi: %s and %s are both named %s; add one to componentNames", other, t, name))
		}
		g.types[name] = t
		if _, done := g.components[name]; !done {
			g.components[name] = map[string]any{} // placeholder against recursion
			g.components[name] = g.object(t)
		}
		return ref
	}
	panic(fmt.Sprintf("openapi: cannot describe %s", t))
}

// object describes a struct: its JSON properties (embedded structs flattened) and which are
// always present.
func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" || (!f.IsExported() && !f.Anonymous) {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" {
				ft := f.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					walk(ft)
					continue
				}
			}
			if name == "" {
				name = f.Name
			}
			s := g.schema(f.Type)
			omitted := strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero")
			if f.Type.Kind() == reflect.Pointer && !omitted {
				// A nil pointer that is not omitted is written as null.
				s = map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
			}
			props[name] = s
			if !omitted {
				required = append(required, name)
			}
		}
	}
	walk(t)
	sort.Strings(required)
	m := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		m["required"] = required
	}
	return m
}
