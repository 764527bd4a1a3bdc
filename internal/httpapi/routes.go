package httpapi

import (
	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/booking"
	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/eligibility"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/leads"
	"github.com/gradpath/gradpath/internal/transfer"
)

// route is one endpoint: its ServeMux pattern, its handler, and its OpenAPI description.
type route struct {
	pattern string
	handle  handlerFunc
	doc     operation
}

// routeTable lists every endpoint of the API. The OpenAPI document is generated from it.
func (s *Server) routeTable() []route {
	return []route{
		{"GET /{$}", s.index, operation{Hidden: true, Access: public}},
		{"GET /healthz", s.healthz, operation{Access: public, ID: "healthz", Tag: "operations",
			Summary: "Liveness: the process is up", Response: Status{}}},
		{"GET /readyz", s.readyz, operation{Access: public, ID: "readyz", Tag: "operations",
			Summary: "Readiness: the database answers", Response: Status{}, Errors: []int{503}}},
		{"GET /problems/{code}", s.problemType, operation{Access: public, ID: "problemType", Tag: "operations",
			Summary:  "What a problem type means",
			Params:   []param{pathParam("code", "An error code, such as invalid or not_found.")},
			Response: ProblemType{}, Errors: []int{404}}},
		{"GET /api/v1/openapi.json", s.openAPI, operation{Access: public, ID: "openapi", Tag: "operations",
			Summary: "This document", Response: map[string]any{}}},

		{"GET /api/v1/programmes", s.listProgrammes, operation{Access: public, ID: "listProgrammes", Tag: "catalogue",
			Summary: "Find programmes",
			Description: "Full-text search with filters, three orders and cursor pagination. Values of one filter " +
				"are alternatives (country=AU,GB); different filters must all match, and every listed tag must be " +
				"covered. Facets count the matches per value of each facet with every filter applied except its own.",
			Params: []param{
				queryParam("q", "Words to search for in titles, codes, disciplines, specialisations, module tags, summaries and university names; the last word matches as a prefix.", str()),
				listParam("country", "ISO 3166-1 alpha-2 code of the university's country.", str()),
				listParam("level", "Programme level.", enumOf(catalogue.ProgrammeLevels)),
				listParam("mode", "Delivery mode.", enumOf(catalogue.Modes)),
				listParam("intake", "Month an intake starts, YYYY-MM.", pattern(`^\d{4}-\d{2}$`)),
				listParam("tag", "Module topic the programme must cover, such as databases.", str()),
				listParam("university", "University id.", str()),
				queryParam("max_tuition", "Highest yearly tuition, in major units of currency (30000 with currency=GBP is £30,000). Programmes with tuition in other currencies or unknown tuition do not match.", pattern(`^\d+(\.\d+)?$`)),
				queryParam("currency", "ISO 4217 currency of max_tuition.", str()),
				queryParam("sort", "Order: relevance (the default with q), name (the default without), deadline (soonest open application close first) or tuition (lowest yearly tuition first, by currency).", enumOf(catalogue.Sorts)),
				limitParam(),
				cursorParam(),
			},
			Response: ProgrammeList{}, ETag: true, Errors: []int{400}}},
		{"GET /api/v1/programmes/{id}", s.getProgramme, operation{Access: public, ID: "getProgramme", Tag: "catalogue",
			Summary:  "One programme",
			Params:   []param{pathParam("id", "Programme id.")},
			Response: ProgrammeView{}, ETag: true, Errors: []int{404}}},
		{"POST /api/v1/programmes", s.createProgramme, operation{Access: admin, ID: "createProgramme", Tag: "catalogue",
			Summary:     "Add a programme",
			Description: "Every field is validated; the university must exist. Each fact cites one of the programme's sources.",
			Request:     catalogue.Programme{}, Response: ProgrammeView{}, Status: 201, Errors: []int{400, 409, 413, 415}}},
		{"PATCH /api/v1/programmes/{id}", s.patchProgramme, operation{Access: admin, ID: "patchProgramme", Tag: "catalogue",
			Summary: "Change a programme",
			Description: "A JSON merge patch (RFC 7396): the fields sent replace the programme's, null removes one. " +
				"With If-Match, the change applies only to the version read.",
			Params:  []param{pathParam("id", "Programme id."), {Name: "If-Match", In: "header", Description: "The ETag of the programme as read.", Schema: str()}},
			Request: map[string]any{}, RequestTypes: []string{"application/merge-patch+json", "application/json"},
			Response: ProgrammeView{}, Errors: []int{400, 404, 412, 413, 415}}},
		{"DELETE /api/v1/programmes/{id}", s.deleteProgramme, operation{Access: admin, ID: "deleteProgramme", Tag: "catalogue",
			Summary: "Remove a programme", Params: []param{pathParam("id", "Programme id.")}, Status: 204, Errors: []int{404}}},
		{"POST /api/v1/imports", s.createImport, operation{Access: admin, ID: "importProgrammes", Tag: "catalogue",
			Summary: "Import programmes from a CSV or JSON file",
			Description: "All or nothing: every problem is reported with its line and field, and if there is any, nothing " +
				"is written. A good file is written in one transaction; importing it again changes nothing. " +
				"Universities named in the file (university_name, university_country) that the catalogue lacks are created.",
			Params:  []param{queryParam("dry_run", "true: check and report, write nothing.", map[string]any{"type": "boolean"})},
			Request: map[string]any{}, RequestTypes: []string{"text/csv", "application/json"},
			Response: transfer.Report{}, Status: 201, Errors: []int{400, 413, 415}}},
		{"POST /api/v1/eligibility", s.checkEligibility, operation{Access: public, ID: "checkEligibility", Tag: "eligibility",
			Summary: "Where can this profile get in, and why",
			Description: "Matches the profile against every programme the filters select. Each result has a verdict " +
				"(eligible, conditional or not_eligible), every requirement checked (required, actual, pass/fail/unknown, " +
				"and a sentence), and how it fits the budget and preferred intakes. Results are ranked: verdict, then " +
				"fit, then preferences, then name. The summary counts every matched programme's verdict by country and level. " +
				"Money is in minor units (paise for INR).",
			Request: eligibility.Request{}, Response: eligibility.Response{}, Errors: []int{400, 413, 415, 503}}},
		{"POST /api/v1/eligibility/what-if", s.whatIf, operation{Access: public, ID: "whatIf", Tag: "eligibility",
			Summary: "Which single change opens the most programmes",
			Description: "For the same request: changes to one score (an English test's overall or one section, the " +
				"degree's score), to work experience or to the budget, each with the exact number of programmes it would " +
				"open (not eligible or over budget now; eligible or conditional and within budget after). For each kind of " +
				"change, the smallest change that opens anything and the one that opens the most; limit bounds the list.",
			Request: eligibility.Request{}, Response: eligibility.WhatIfResponse{}, Errors: []int{400, 413, 415, 503}}},
		{"GET /api/v1/exchange-rates", s.getRates, operation{Access: public, ID: "getExchangeRates", Tag: "catalogue",
			Summary: "The exchange-rate table", Description: "Maintained by an admin, never fetched: every conversion names its date.",
			Response: gradpath.Rates{}, ETag: true}},
		{"PUT /api/v1/exchange-rates", s.putRates, operation{Access: admin, ID: "putExchangeRates", Tag: "catalogue",
			Summary:     "Replace the exchange-rate table",
			Description: "rates gives, per currency, how many units of base one unit buys, on date.",
			Request:     gradpath.Rates{}, Response: gradpath.Rates{}, Errors: []int{400, 413, 415}}},
		{"GET /api/v1/universities", s.listUniversities, operation{Access: public, ID: "listUniversities", Tag: "catalogue",
			Summary: "Find universities", Description: "Universities ordered by name, with cursor pagination.",
			Params: []param{
				queryParam("q", "Words in the name, region, web domain or country name; the last word matches as a prefix.", str()),
				listParam("country", "ISO 3166-1 alpha-2 country code.", str()),
				limitParam(),
				cursorParam(),
			},
			Response: UniversityList{}, ETag: true, Errors: []int{400}}},
		{"GET /api/v1/universities/{id}", s.getUniversity, operation{Access: public, ID: "getUniversity", Tag: "catalogue",
			Summary:  "One university",
			Params:   []param{pathParam("id", "University id.")},
			Response: UniversityView{}, ETag: true, Errors: []int{404}}},
		{"POST /api/v1/universities", s.createUniversity, operation{Access: admin, ID: "createUniversity", Tag: "catalogue",
			Summary: "Add a university",
			Request: catalogue.University{}, Response: UniversityView{}, Status: 201, Errors: []int{400, 409, 413, 415}}},
		{"PATCH /api/v1/universities/{id}", s.patchUniversity, operation{Access: admin, ID: "patchUniversity", Tag: "catalogue",
			Summary: "Change a university", Description: "A JSON merge patch (RFC 7396).",
			Params:  []param{pathParam("id", "University id."), {Name: "If-Match", In: "header", Description: "The ETag of the university as read.", Schema: str()}},
			Request: map[string]any{}, RequestTypes: []string{"application/merge-patch+json", "application/json"},
			Response: UniversityView{}, Errors: []int{400, 404, 412, 413, 415}}},
		{"DELETE /api/v1/universities/{id}", s.deleteUniversity, operation{Access: admin, ID: "deleteUniversity", Tag: "catalogue",
			Summary: "Remove a university without programmes",
			Params:  []param{pathParam("id", "University id.")}, Status: 204, Errors: []int{404, 409}}},

		{"POST /api/v1/auth/register", s.register, operation{ID: "register", Tag: "accounts", Access: public,
			Summary: "Open a student account",
			Request: accounts.RegisterInput{}, Response: accounts.User{}, Status: 201, Errors: []int{400, 409, 413, 415, 429}}},
		{"POST /api/v1/auth/login", s.login, operation{ID: "login", Tag: "accounts", Access: public,
			Summary: "Sign in with email and password",
			Description: "Sets the session cookie and returns csrf_token: requests made with the cookie that change something " +
				"send it in the X-CSRF-Token header. A wrong email and a wrong password get the same answer; repeated failures are throttled (429).",
			Request: LoginInput{}, Response: LoginResponse{}, Errors: []int{400, 401, 413, 415, 429}}},
		{"GET /api/v1/auth/session", s.session, operation{ID: "getSession", Tag: "accounts", Access: signedIn,
			Summary: "The cookie session: its CSRF token, when it ends, and its user",
			Description: "For pages signed in by cookie, including through the OpenID provider, to learn the csrf_token to send in X-CSRF-Token. " +
				"Requests with an access token have no session (404).",
			Response: LoginResponse{}, Errors: []int{400}}},
		{"POST /api/v1/auth/logout", s.logout, operation{ID: "logout", Tag: "accounts", Access: signedIn,
			Summary: "Sign out: end this session", Status: 204, Errors: []int{400}}},
		{"POST /api/v1/auth/password-reset", s.requestReset, operation{ID: "requestPasswordReset", Tag: "accounts", Access: public,
			Summary: "Ask for a password-reset link", Description: "The same answer whether or not an account uses the email.",
			Request: EmailInput{}, Response: Status{}, Status: 202, Errors: []int{400, 413, 415, 429}}},
		{"POST /api/v1/auth/password-reset/confirm", s.confirmReset, operation{ID: "confirmPasswordReset", Tag: "accounts", Access: public,
			Summary: "Set a new password with a reset token", Description: "A token works once, for an hour; every session of the account ends.",
			Request: ResetInput{}, Status: 204, Errors: []int{400, 413, 415, 429}}},
		{"POST /api/v1/auth/password", s.changePassword, operation{ID: "changePassword", Tag: "accounts", Access: signedIn,
			Summary: "Change your password", Description: "Every other session of the account ends.",
			Request: PasswordInput{}, Status: 204, Errors: []int{400, 413, 415}}},
		{"GET /api/v1/auth/oidc/login", s.oidcLogin, operation{ID: "oidcLogin", Tag: "accounts", Access: public,
			Summary: "Sign in with the configured OpenID provider", Description: "Redirects to the provider (authorization code flow with PKCE).",
			Status: 302, Errors: []int{404, 503}}},
		{"GET /api/v1/auth/oidc/callback", s.oidcCallback, operation{ID: "oidcCallback", Tag: "accounts", Access: public,
			Summary: "Where the OpenID provider sends the browser back", Description: "Checks state, nonce and the ID token, signs in, and redirects to /.",
			Status: 302, Errors: []int{401, 403, 404, 503}}},
		{"GET /api/v1/me", s.getMe, operation{ID: "getMe", Tag: "accounts", Access: signedIn,
			Summary: "Your account", Response: accounts.User{}}},
		{"PATCH /api/v1/me", s.patchMe, operation{ID: "patchMe", Tag: "accounts", Access: signedIn,
			Summary: "Change your name", Description: "Roles, email and other fields that grant rights are not changed here; sending them is a 400.",
			Request: accounts.MeUpdate{}, Response: accounts.User{}, Errors: []int{400, 413, 415}}},
		{"GET /api/v1/me/tokens", s.listTokens, operation{ID: "listTokens", Tag: "accounts", Access: signedIn,
			Summary: "Your personal access tokens", Response: TokenList{}}},
		{"POST /api/v1/me/tokens", s.createToken, operation{ID: "createToken", Tag: "accounts", Access: signedIn,
			Summary: "Create a personal access token", Description: "The answer is the only time the token is shown. Create tokens from a signed-in session.",
			Request: accounts.TokenInput{}, Response: CreatedToken{}, Status: 201, Errors: []int{400, 409, 413, 415}}},
		{"DELETE /api/v1/me/tokens/{id}", s.deleteToken, operation{ID: "deleteToken", Tag: "accounts", Access: signedIn,
			Summary: "Revoke one of your tokens", Params: []param{pathParam("id", "Token id.")}, Status: 204, Errors: []int{404}}},
		{"GET /api/v1/users", s.listUsers, operation{ID: "listUsers", Tag: "accounts", Access: admin,
			Summary: "List accounts",
			Params: []param{queryParam("q", "Part of an email or name.", str()), queryParam("role", "Only accounts with this role.", enumOf(gradpath.Roles)),
				queryParam("limit", "Items per page, 1–200 (default 50).", map[string]any{"type": "integer"}), cursorParam()},
			Response: UserList{}, Errors: []int{400}}},
		{"GET /api/v1/users/{id}", s.getUser, operation{ID: "getUser", Tag: "accounts", Access: signedIn,
			Summary:     "One account",
			Description: "Your own; a counsellor sees the students assigned to them; an admin everyone. Anyone else's is a 404. Reading another person's account is audited.",
			Params:      []param{pathParam("id", "User id.")}, Response: accounts.User{}, Errors: []int{404}}},
		{"PATCH /api/v1/users/{id}", s.patchUser, operation{ID: "patchUser", Tag: "accounts", Access: admin,
			Summary: "Change an account's name, roles, state or counsellor", Params: []param{pathParam("id", "User id.")},
			Request: accounts.UserUpdate{}, Response: accounts.User{}, Errors: []int{400, 404, 413, 415}}},
		{"POST /api/v1/leads", needs(s.Leads != nil, "leads", s.createLead), operation{ID: "createLead", Tag: "leads", Access: public,
			Summary: "Ask for a callback or a free consultation",
			Description: "The public form. The phone number is stored in E.164 (numbers without a country code are read in the agency's region); " +
				"consent.contact must be true and consent.notice_version names the privacy notice shown; a person under 18 needs consent.guardian. " +
				"Send an Idempotency-Key to retry safely: the same key and body return the first answer, the same key with another body is a 422. " +
				"A request from the same phone or email as an open lead joins it (merged: true). 201 means the request is on disk.",
			Params:  []param{headerParam("Idempotency-Key", "A key of your choosing, such as a UUID, identifying this request across retries.")},
			Request: leads.Input{}, Response: leads.Receipt{}, Status: 201, Errors: []int{400, 413, 415, 422, 429}}},
		{"GET /api/v1/leads/form-token", needs(s.Leads != nil, "leads", s.formToken), operation{ID: "leadFormToken", Tag: "leads", Access: public,
			Summary: "A token for a public form, to tell people from scripts",
			Description: "Embed it as form_token when the form is shown, with an empty hidden field website. A request whose website is filled, " +
				"whose token is forged, or that comes back sooner than min_seconds after the token was issued is answered 202 and not stored.",
			Response: FormToken{}}},
		{"GET /api/v1/leads", needs(s.Leads != nil, "leads", s.listLeads), operation{ID: "listLeads", Tag: "leads", Access: counsellor,
			Summary:     "The lead queue, newest first",
			Description: "A counsellor sees the leads assigned to them; an admin every lead (assignee=none: the unassigned).",
			Params: []param{listParam("status", "Pipeline status.", enumOf([]string{"new", "contacted", "qualified", "converted", "lost"})),
				queryParam("assignee", "Counsellor's user id, or none.", str()),
				queryParam("breached", "true: leads whose first response is overdue.", map[string]any{"type": "boolean"}),
				limitParam(), cursorParam()},
			Response: LeadList{}, Errors: []int{400}}},
		{"GET /api/v1/leads.csv", needs(s.Leads != nil, "leads", s.exportLeadsCSV), operation{ID: "exportLeadsCSV", Tag: "leads", Access: admin,
			Summary:     "Every lead as CSV, for spreadsheets",
			Description: "The same filters as the list; newest first. Cells that a spreadsheet would run as a formula are prefixed with an apostrophe.",
			Params: []param{listParam("status", "Pipeline status.", enumOf([]string{"new", "contacted", "qualified", "converted", "lost"})),
				queryParam("assignee", "Counsellor's user id, or none.", str()),
				queryParam("breached", "true: leads whose first response is overdue.", map[string]any{"type": "boolean"})},
			ResponseType: "text/csv", Errors: []int{400}}},
		{"GET /api/v1/leads/{id}", needs(s.Leads != nil, "leads", s.getLead), operation{ID: "getLead", Tag: "leads", Access: counsellor,
			Summary: "A lead with its history and consent records", Params: []param{pathParam("id", "Lead id.")},
			Response: leads.Detail{}, Errors: []int{404}}},
		{"PATCH /api/v1/leads/{id}", needs(s.Leads != nil, "leads", s.patchLead), operation{ID: "patchLead", Tag: "leads", Access: counsellor,
			Summary: "Move a lead along the pipeline, or reassign it",
			Description: "status follows new → contacted → qualified → converted, or lost (with lost_reason) from any open status; another move is a 409. " +
				"contacted records the first contact and stops the SLA clock. assignee (admins) reassigns; an empty assignee routes again. " +
				"Send If-Match with the lead's ETag to refuse a change made meanwhile (412).",
			Params:  []param{pathParam("id", "Lead id."), headerParam("If-Match", "The ETag of the lead as you read it.")},
			Request: leads.Patch{}, RequestTypes: []string{"application/merge-patch+json", "application/json"},
			Response: leads.Lead{}, Errors: []int{400, 404, 409, 412, 415}}},
		{"GET /api/v1/leads/{id}/duplicates", needs(s.Leads != nil, "leads", s.leadDuplicates), operation{ID: "leadDuplicates", Tag: "leads", Access: counsellor,
			Summary:     "Leads that may be the same person",
			Description: "Same phone, same email, or the same name written differently (case, accents, word order); each with its reasons.",
			Params:      []param{pathParam("id", "Lead id.")}, Response: DuplicateList{}, Errors: []int{404}}},
		{"POST /api/v1/leads/{id}/merge", needs(s.Leads != nil, "leads", s.mergeLead), operation{ID: "mergeLead", Tag: "leads", Access: counsellor,
			Summary: "Merge another lead into this one",
			Description: "This lead keeps its id, status and counsellor and gains the other's requests and missing contact details; both histories " +
				"and all consent records stay and show here; the other lead leaves every list. Audited (GET /api/v1/audit?action=lead.merged lists merges).",
			Params: []param{pathParam("id", "The lead to keep.")}, Request: MergeInput{}, Response: leads.Lead{}, Errors: []int{400, 404, 409, 415}}},
		{"GET /api/v1/leads/{id}/export", needs(s.Leads != nil, "leads", s.exportLead), operation{ID: "exportLead", Tag: "leads", Access: admin,
			Summary:     "Everything about the person behind a lead, as JSON",
			Description: "The lead, the person's other leads (same phone or email) and subscriptions, with histories and consent records. Audited.",
			Params:      []param{pathParam("id", "Lead id.")}, Response: leads.Export{}, Errors: []int{404}}},
		{"POST /api/v1/leads/{id}/erase", needs(s.Leads != nil, "leads", s.eraseLead), operation{ID: "eraseLead", Tag: "leads", Access: admin,
			Summary: "Erase the person behind a lead, on their request",
			Description: "Removes name, phone, email, date of birth, messages and notes from every lead of that phone or email and ends their subscriptions; " +
				"keeps what is not personal and the consent evidence. Afterwards the person is not found by phone or email. Audited.",
			Params: []param{pathParam("id", "Lead id.")}, Response: leads.Lead{}, Errors: []int{404}}},
		{"POST /api/v1/leads/{id}/notes", needs(s.Leads != nil, "leads", s.addLeadNote), operation{ID: "addLeadNote", Tag: "leads", Access: counsellor,
			Summary: "Add a note to a lead's history", Params: []param{pathParam("id", "Lead id.")},
			Request: NoteInput{}, Response: leads.Activity{}, Status: 201, Errors: []int{400, 404, 415}}},
		{"POST /api/v1/subscriptions", needs(s.Leads != nil, "subscriptions", s.subscribe), operation{ID: "subscribe", Tag: "leads", Access: public,
			Summary:     "Ask for updates and newsletters",
			Description: "consent.marketing must be true. The same email or phone again renews the subscription. Scripts (honeypot, form token) get 202 and nothing is stored.",
			Request:     leads.SubscriptionInput{}, Response: SubscriptionReceipt{}, Status: 201, Errors: []int{400, 413, 415, 429}}},
		{"GET /api/v1/subscriptions", needs(s.Leads != nil, "subscriptions", s.listSubscriptions), operation{ID: "listSubscriptions", Tag: "leads", Access: admin,
			Summary: "Active subscriptions: who updates may go to", Params: []param{limitParam()},
			Response: SubscriptionList{}, Errors: []int{400}}},
		{"POST /api/v1/consents/withdraw", needs(s.Leads != nil, "consents", s.withdrawConsent), operation{ID: "withdrawConsent", Tag: "leads", Access: public,
			Summary: "Stop marketing to an email or phone number, at once",
			Description: "Every subscription and lead with that email or phone stops receiving updates, and each one's consent record gets the withdrawal. " +
				"The answer is the same whether or not anything matched.",
			Request: leads.WithdrawInput{}, Response: Status{}, Status: 202, Errors: []int{400, 413, 415, 429}}},
		{"GET /api/v1/calendar", needs(s.Leads != nil, "leads", s.getCalendar), operation{ID: "getCalendar", Tag: "leads", Access: counsellor,
			Summary:     "The agency's business calendar",
			Description: "Time zone, working hours per weekday and holidays: the SLA clock runs only in working time, and one business day is the longest working day unless business_day says otherwise.",
			Response:    leads.CalendarFile{}}},
		{"PUT /api/v1/calendar", needs(s.Leads != nil, "leads", s.putCalendar), operation{ID: "putCalendar", Tag: "leads", Access: admin,
			Summary:     "Replace the business calendar",
			Description: "Leads already received keep their due times; new leads follow the new calendar on every replica within 30 seconds. Audited.",
			Request:     leads.CalendarFile{}, Response: leads.CalendarFile{}, Errors: []int{400, 415}}},
		{"POST /api/v1/calendar/holidays", needs(s.Leads != nil, "leads", s.importHolidays), operation{ID: "importHolidays", Tag: "leads", Access: admin,
			Summary: "Import holidays from an iCalendar file or a list",
			Description: "text/calendar: each all-day event closes its dates (recurring events are counted in skipped_recurring, not expanded). " +
				"text/plain: one date per line, optionally followed by its name. Added to the calendar's holidays, or replacing them with replace=true.",
			Params:  []param{queryParam("replace", "true replaces every holiday.", map[string]any{"type": "boolean"})},
			Request: "", RequestTypes: []string{"text/calendar", "text/plain"},
			Response: HolidayImport{}, Errors: []int{400, 413, 415}}},
		{"GET /api/v1/counsellors", needs(s.Booking != nil, "bookings", s.listCounsellors), operation{ID: "listCounsellors", Tag: "booking", Access: public,
			Summary: "Counsellors who take bookings, with their session types (public fields only)", Response: CounsellorList{}}},
		{"GET /api/v1/counsellors/{id}/slots", needs(s.Booking != nil, "bookings", s.counsellorSlots), operation{ID: "counsellorSlots", Tag: "booking", Access: public,
			Summary: "A counsellor's free slots",
			Description: "Starts every 15 minutes within the counsellor's hours (in their time zone, following daylight saving), at least the session type's " +
				"notice ahead, clear of other bookings and their buffers; shown in tz. from and to are dates (to included) in tz, or RFC 3339 times; at most 62 days.",
			Params: []param{pathParam("id", "The counsellor's user id."),
				queryParam("type", "consultation (30 minutes, the default) or mentorship (60 minutes).", enumOf([]string{"consultation", "mentorship"})),
				queryParam("from", "First date (YYYY-MM-DD) or time; default now.", str()),
				queryParam("to", "Last date (included) or time; default 14 days after from.", str()),
				queryParam("tz", "IANA time zone to show the slots in (default UTC).", str())},
			Response: SlotList{}, Errors: []int{400, 404}}},
		{"GET /api/v1/counsellors/{id}/availability", needs(s.Booking != nil, "bookings", s.getAvailability), operation{ID: "getAvailability", Tag: "booking", Access: counsellor,
			Summary: "A counsellor's weekly hours, exceptions and session types", Params: []param{pathParam("id", "The counsellor's user id.")},
			Response: booking.Availability{}, Errors: []int{404}}},
		{"PUT /api/v1/counsellors/{id}/availability", needs(s.Booking != nil, "bookings", s.putAvailability), operation{ID: "putAvailability", Tag: "booking", Access: counsellor,
			Summary:     "Set a counsellor's weekly hours, exceptions and session types",
			Description: "Hours are in the counsellor's own time zone; an exception replaces one date's hours (no spans: not working). Existing bookings stand. A counsellor sets their own; an admin anyone's.",
			Params:      []param{pathParam("id", "The counsellor's user id.")},
			Request:     booking.Availability{}, Response: booking.Availability{}, Errors: []int{400, 404, 415}}},
		{"POST /api/v1/bookings", needs(s.Booking != nil, "bookings", s.createBooking), operation{ID: "createBooking", Tag: "booking", Access: public,
			Summary: "Book a session",
			Description: "A signed-in student books for themselves; anyone else gives lead (name, phone or email, consent) and is recorded as a consultation lead, " +
				"and gets manage_token once: GET /api/v1/bookings/{id}?token=… reads the booking. A time that is not free is a 409 whose next_slots lists the next free ones.",
			Request: booking.Input{}, Response: booking.Created{}, Status: 201, Errors: []int{400, 409, 413, 415, 429}}},
		{"GET /api/v1/bookings/{id}", needs(s.Booking != nil, "bookings", s.getBooking), operation{ID: "getBooking", Tag: "booking", Access: public,
			Summary:     "A booking; with .ics after the id, its iCalendar invitation",
			Description: "For its student, its counsellor, an admin, or with the booking's token. GET /api/v1/bookings/{id}.ics answers text/calendar (RFC 5545).",
			Params:      []param{pathParam("id", "Booking id, optionally followed by .ics."), queryParam("token", "The manage_token given when the booking was made.", str())},
			Response:    booking.Booking{}, Errors: []int{400, 404}}},
		{"PATCH /api/v1/bookings/{id}", needs(s.Booking != nil, "bookings", s.patchBooking), operation{ID: "patchBooking", Tag: "booking", Access: public,
			Summary: "Reschedule, cancel, confirm, or record the outcome of a booking",
			Description: "start moves the booking to another free time (a taken one is a 409 with next_slots, and the booking stays as it was); " +
				"status cancelled cancels (the booker, by sign-in or the token, or the counsellor); confirmed confirms a pending booking and completed or " +
				"no_show record the outcome (the counsellor or an admin). Each change bumps the invitation's SEQUENCE.",
			Params:  []param{pathParam("id", "Booking id."), queryParam("token", "The manage_token given when the booking was made.", str())},
			Request: booking.Change{}, RequestTypes: []string{"application/merge-patch+json", "application/json"},
			Response: booking.Booking{}, Errors: []int{400, 404, 409, 415}}},
		{"GET /api/v1/counsellors/{id}/profile", needs(s.Leads != nil, "leads", s.getProfile), operation{ID: "getCounsellorProfile", Tag: "leads", Access: counsellor,
			Summary: "How leads reach a counsellor: active, skills, hours, leave", Params: []param{pathParam("id", "The counsellor's user id.")},
			Description: "A counsellor reads their own; an admin anyone's.",
			Response:    leads.Profile{}, Errors: []int{404}}},
		{"PUT /api/v1/counsellors/{id}/profile", needs(s.Leads != nil, "leads", s.putProfile), operation{ID: "putCounsellorProfile", Tag: "leads", Access: counsellor,
			Summary: "Set how leads reach a counsellor",
			Description: "countries (ISO codes) and courses are skills (empty: any); hours are the counsellor's working spans in the agency's time zone " +
				"(empty: the agency's); leave lists dates away. Routing never picks a counsellor who is inactive, on leave or off for a lead's whole SLA window.",
			Params:  []param{pathParam("id", "The counsellor's user id.")},
			Request: ProfileInput{}, Response: leads.Profile{}, Errors: []int{400, 404, 415}}},

		{"GET /api/v1/audit", s.auditLog, operation{ID: "auditLog", Tag: "accounts", Access: admin,
			Summary: "The audit log, newest first",
			Params: []param{queryParam("actor", "User id of who acted.", str()), queryParam("subject", "User id of whose data.", str()),
				queryParam("action", "Such as auth.login or user.read.", str()), queryParam("limit", "Items per page, 1–500 (default 100).", map[string]any{"type": "integer"}), cursorParam()},
			Response: AuditList{}, Errors: []int{400}}},
	}
}

func limitParam() param {
	return queryParam("limit", "Items per page, 1–100 (default 20).", map[string]any{"type": "integer", "minimum": 1, "maximum": catalogue.MaxLimit, "default": catalogue.DefaultLimit})
}

func cursorParam() param {
	return queryParam("cursor", "The next_cursor of the previous page, with the same filters and order.", str())
}
