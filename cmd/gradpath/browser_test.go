package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath finds Debian's Chromium; outside CI a missing one skips the browser tests.
func chromiumPath(t *testing.T) string {
	for _, p := range []string{os.Getenv("GRADPATH_TEST_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed: apt-get install chromium (.ci/run does)")
	}
	t.Skip("chromium is not installed (apt-get install chromium); skipping the browser tests outside CI")
	return ""
}

// screenshots is where the browser tests leave pictures of the main pages, when
// GRADPATH_SCREENSHOTS names a directory (GRADPATH_SCREENSHOTS=$PWD/docs/screenshots refreshes
// the ones the docs show); otherwise no picture is written.
func screenshots(t *testing.T) string {
	dir := os.Getenv("GRADPATH_SCREENSHOTS")
	if dir == "" {
		return ""
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestBrowser drives headless Chromium as people would: a visitor finds a programme and asks
// for a callback; the counsellor signs in, sees the lead with its SLA clock, and marks it
// contacted.
func TestBrowser(t *testing.T) {
	t.Parallel()
	chromium := chromiumPath(t)
	s := start(t, nil, "--data", filepath.Join(t.TempDir(), "data"), "--demo")
	passwords := s.demoPasswords()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(1280, 900),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	// The first action starts the browser, on a context without a deadline; the rest are bounded.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	ctx, cancel = context.WithTimeout(ctx, 120*time.Second)
	defer cancel()
	dir := screenshots(t)
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		for i, step := range steps {
			if err := chromedp.Do(ctx, step); err != nil {
				url, _ := chromedp.Run(ctx, chromedp.Location())
				t.Fatalf("%s, step %d (at %s): %v", what, i+1, url, err)
			}
		}
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return v
	}
	// textContent reads what an element holds, shown or not (a chart's description).
	textContent := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text content of %s: %v", sel, err)
		}
		return v
	}
	value := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("value of %s: %v", sel, err)
		}
		return v
	}
	// accessible checks the page in the browser as assistive technology would see it: a language,
	// one h1, a label for every control, a name for every image and chart, and no positive
	// tabindex that would break the focus order.
	audited := 0
	accessible := func() {
		t.Helper()
		problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](a11yAudit))
		if err != nil {
			t.Fatalf("accessibility audit: %v", err)
		}
		if len(problems) > 0 {
			loc, _ := chromedp.Run(ctx, chromedp.Location())
			t.Errorf("accessibility of %s: %v", loc, problems)
		}
		audited++
	}
	shot := func(name string) {
		t.Helper()
		if dir != "" {
			buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatalf("screenshot %s: %v", name, err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), buf, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		accessible()
	}
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	// waitURL waits for the browser to be at an address containing want, and for that page to load.
	waitURL := func(want string) {
		t.Helper()
		loc := ""
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.readyState === "complete" ? location.href : ""`))
			if err == nil && strings.Contains(v, want) {
				return
			}
			loc = v
		}
		t.Fatalf("the browser is at %q, want an address with %q", loc, want)
	}
	// waitText waits for the page that replaces this one (after a form) to show want in sel.
	waitText := func(sel, want string) string {
		t.Helper()
		got := ""
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if v, err := chromedp.Run(ctx, chromedp.Text(css(sel))); err == nil {
				if got = v; strings.Contains(got, want) {
					return got
				}
			}
		}
		t.Fatalf("%s shows %q, want %q", sel, got, want)
		return got
	}

	// A visitor looks for programmes in Australia and opens one.
	do("finder",
		chromedp.Navigate(s.url+"/"),
		chromedp.WaitVisible(css(`#country`)),
		chromedp.SetValue(css(`#country`), "AU"),
		chromedp.Click(css(`form.search button`)),
	)
	// With JavaScript, htmx swaps in the results and puts the search in the address bar.
	found := waitText(`#found`, "2 programmes")
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasSuffix(loc, "/programmes?country=AU") {
		t.Fatalf("the address after the search: %s", loc)
	}
	shot("finder.png")
	do("open a programme", chromedp.Click(css(`.results .card h2 a`)), chromedp.WaitVisible(css(`a.button`)))
	if title := text(`h1`); !strings.Contains(found, "2 programmes") || !strings.Contains(title, "Computer Science") {
		t.Fatalf("found %q, opened %q", found, title)
	}

	// An address that leads nowhere is a page a person understands.
	do("404", chromedp.Navigate(s.url+"/no-such-page"), chromedp.WaitVisible(css(`h1`)))
	if h := text(`h1`); h != "Page not found" {
		t.Fatalf("404 page heading %q", h)
	}

	// The visitor checks where they can get in.
	do("eligibility",
		chromedp.Navigate(s.url+"/eligibility"),
		chromedp.WaitVisible(css(`#score`)),
		chromedp.SendKeys(css(`#score`), "7.8"),
		chromedp.SendKeys(css(`#overall`), "6.0"),
		chromedp.SendKeys(css(`#s_writing`), "5.5"),
		chromedp.Click(css(`form.search button`)),
		chromedp.WaitVisible(css(`.results .card .tag`)),
	)
	if v := text(`.results`); !strings.Contains(v, "needs") || !strings.Contains(v, "you have") {
		t.Fatalf("eligibility results: %q", v)
	}
	// Each numeric requirement has its bar (required against yours), and the page says what
	// would open the programmes still closed.
	if label, err := chromedp.Run(ctx, chromedp.AttributeValue(css(`svg.gauge`), "aria-label")); err != nil || !strings.Contains(label.Value, "needs") {
		t.Fatalf("requirement bar: %q %v", label.Value, err)
	}
	if v := text(`.whatif`); !strings.Contains(v, "Raise your IELTS") {
		t.Fatalf("what-if: %q", v)
	}
	shot("finder-eligibility.png")

	// The visitor ticks two programmes in the finder and compares them.
	do("compare",
		chromedp.Navigate(s.url+"/programmes?country=AU"),
		chromedp.WaitVisible(css(`#pick-unimelb-mc-cs`)),
		chromedp.Click(css(`#pick-unimelb-mc-cs`)),
		chromedp.Click(css(`#pick-usyd-mcs-software-engineering`)),
		chromedp.Click(css(`#compare`)),
		chromedp.WaitVisible(css(`table.compare`)),
	)
	if v := text(`table.compare thead`); !strings.Contains(v, "University of Melbourne") || !strings.Contains(v, "University of Sydney") {
		t.Fatalf("compare: %q", v)
	}
	shot("compare.png")

	// Careers: salary charts drawn by the server.
	do("careers", chromedp.Navigate(s.url+"/careers"), chromedp.WaitVisible(css(`figure.chart svg`)))
	if v, err := chromedp.Run(ctx, chromedp.TextContent(css(`figure.chart desc`))); err != nil || !strings.Contains(v, "United States: USD 120,000") {
		t.Fatalf("salary chart: %q", v)
	}
	shot("careers.png")
	do("back to the programme", chromedp.Navigate(s.url+"/programmes/unimelb-mc-cs"), chromedp.WaitVisible(css(`a.button`)))

	// A form with errors keeps what was typed and says what is wrong, next to the field.
	do("callback with errors",
		chromedp.Click(css(`a.button`)),
		chromedp.WaitVisible(css(`#name`)),
		chromedp.SendKeys(css(`#name`), "Riya Sharma"),
		chromedp.SendKeys(css(`#phone`), "12345"),
		chromedp.Sleep(3200*time.Millisecond), // a person takes a few seconds
		chromedp.Click(css(`form button[type=submit]`)),
		chromedp.WaitVisible(css(`#phone-error`)),
	)
	if e, name := text(`#phone-error`), value(`#name`); !strings.Contains(e, "not a valid phone number") || name != "Riya Sharma" {
		t.Fatalf("phone error %q, name kept %q", e, name)
	}
	shot("callback-errors.png")
	do("callback",
		chromedp.Clear(css(`#phone`)),
		chromedp.SendKeys(css(`#phone`), "98765 43210"),
		chromedp.Click(css(`#age-adult`)),
		chromedp.Click(css(`#contact`)),
		chromedp.Sleep(3200*time.Millisecond),
		chromedp.Click(css(`form button[type=submit]`)),
		chromedp.WaitVisible(css(`[role=status]`)),
	)
	if thanks := text(`[role=status]`); !strings.Contains(thanks, "A counsellor will be in touch by") || strings.Contains(thanks, "one business day from now") {
		t.Fatalf("thank-you page: %q", thanks)
	}

	// The visitor books a free session at the first free time.
	do("booking",
		chromedp.Navigate(s.url+"/book"),
		chromedp.WaitVisible(css(`.results .card h2 a`)),
		chromedp.Click(css(`.results .card h2 a`)),
	)
	// The page moves to the browser's own time zone first (Chromium here runs in UTC).
	waitURL("tz=UTC")
	do("booking a slot",
		chromedp.WaitVisible(css(`#slot-0-0`)),
		chromedp.Click(css(`#slot-0-0`)),
		chromedp.SendKeys(css(`#name`), "Meera Iyer"),
		chromedp.SendKeys(css(`#phone`), "98111 22334"),
		chromedp.SendKeys(css(`#email`), "meera@example.in"),
		chromedp.Click(css(`#age-adult`)),
		chromedp.Click(css(`#contact`)),
		chromedp.Click(css(`form[method=post] button[type=submit]`)),
		chromedp.WaitVisible(css(`[role=status]`)),
	)
	if booked := text(`[role=status]`); !strings.Contains(booked, "Your session is booked for") || !strings.Contains(booked, "UTC") {
		t.Fatalf("booking: %q", booked)
	}
	shot("booked.png")

	// The counsellor signs in, finds the lead with its clock, and marks it contacted.
	do("sign in",
		chromedp.Navigate(s.url+"/sign-in"),
		chromedp.WaitVisible(css(`#email`)),
		chromedp.SendKeys(css(`#email`), "counsellor@demo.gradpath.test"),
		chromedp.SendKeys(css(`#password`), passwords["counsellor@demo.gradpath.test"]),
		chromedp.Click(css(`form button[type=submit]`)),
		chromedp.WaitVisible(css(`table tbody tr`)),
	)
	row := text(`table tbody`)
	shot("counsellor-queue.png")
	do("mark contacted", chromedp.Click(css(`table tbody tr form button`)), chromedp.WaitVisible(css(`table tbody tr .tag.ok`)))
	// Both requests are there (the booking made a consultation lead); the first is now contacted.
	after := text(`table tbody tr`)
	if !strings.Contains(row, "Riya Sharma") || !strings.Contains(row, "Meera Iyer") || !strings.Contains(row, "of business time") || !strings.Contains(after, "contacted") {
		t.Fatalf("queue row %q, after %q", row, after)
	}
	// A new request arrives while the queue is open: the table shows it without a reload.
	res, body := s.call(t, "POST", "/api/v1/leads", "application/json", strings.NewReader(s.withToken(t,
		`{"kind": "callback", "name": "Ananya Live", "phone": "98450 33221", "interest": {"course": "Data Science", "country": "AU"}, "consent": {"contact": true, "notice_version": "2026-11-01"}}`)))
	if res.StatusCode != 201 {
		t.Fatalf("a lead while the queue is open: %d %s", res.StatusCode, body)
	}
	waitText(`table tbody`, "Ananya Live")
	waitText(`#queue-live`, "the queue changed")
	shot("counsellor-queue-live.png")

	// The counsellor opens Riya's lead, sees its history, and notes the call.
	do("lead detail",
		chromedp.Click(chromedp.Search(`//table/tbody/tr/td/a[contains(., "Meera Iyer")]`)),
		chromedp.WaitVisible(css(`#clock`)),
		chromedp.SendKeys(css(`#text`), "Called; she prefers the July intake."),
		chromedp.Click(css(`form[action$="/notes"] button`)),
	)
	if h := waitText(`.history`, "you noted: Called; she prefers the July intake."); !strings.Contains(h, "Status changed to contacted") {
		t.Fatalf("lead history %q", h)
	}
	shot("lead.png")

	// A student signs in, starts an application, and sees its timeline.
	do("student",
		chromedp.Click(css(`header form button`)),
		chromedp.WaitVisible(css(`#country`)),
		chromedp.Navigate(s.url+"/sign-in"),
		chromedp.WaitVisible(css(`#email`)),
		chromedp.SendKeys(css(`#email`), "student@demo.gradpath.test"),
		chromedp.SendKeys(css(`#password`), passwords["student@demo.gradpath.test"]),
		chromedp.Click(css(`form button[type=submit]`)),
		chromedp.WaitVisible(css(`a[href="/me/shortlist"]`)),
		chromedp.Navigate(s.url+"/programmes/unimelb-mc-cs"),
		chromedp.WaitVisible(css(`#apply`)),
		chromedp.Click(css(`#apply`)),
		chromedp.WaitVisible(css(`.timeline li`)),
	)
	if tl := text(`.timeline`); !strings.Contains(tl, "English test result") || !strings.Contains(tl, "by 20") {
		t.Fatalf("timeline %q", tl)
	}
	shot("student-timeline.png")

	// The student ticks the first step done with the keyboard; htmx updates the timeline and the
	// focus stays on that step's button, now "reopen" (htmx keeps the focus on an element whose
	// id the new content has: the step buttons have stable ids for that).
	step, err := chromedp.Run(ctx, chromedp.AttributeValue(css(`.timeline li button`), "id"))
	if err != nil || step.Value == "" {
		t.Fatalf("the first step's button: %v", err)
	}
	do("tick a step", chromedp.Focus(css("#"+step.Value)), chromedp.KeyEvent("\r"))
	waitText(`.timeline li`, "reopen")
	if active, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id`)); err != nil || active != step.Value {
		t.Errorf("focus after the update is on %q, want %q (%v)", active, step.Value, err)
	}

	// The student marks the first roadmap topic done; the page updates in place.
	do("roadmap",
		chromedp.Navigate(s.url+"/roadmaps/backend"),
		chromedp.WaitVisible(css(`#progress`)),
		chromedp.Poll[chromedp.Void](`document.readyState === "complete" && window.htmx !== undefined`),
		// Chosen in script: the page is long, and the DOM that chromedp mirrors may still be
		// catching up with it; the form is sent as a click on Save would send it.
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector(".roadmap select"); s.value = "done"; s.form.requestSubmit(); })()`),
	)
	waitText(`#progress`, "You have done 1 of")
	shot("roadmap.png")
	do("back to the applications", chromedp.Navigate(s.url+"/me/applications"), chromedp.WaitVisible(css(`.timeline li`)))

	// The student uploads a passport: an HTML file named .pdf is refused, a PDF is taken.
	tmp := t.TempDir()
	fake, pdf := filepath.Join(tmp, "passport.pdf"), filepath.Join(tmp, "scan.pdf")
	os.WriteFile(fake, []byte("<!doctype html><html><body>not a passport</body></html>"), 0o644)
	os.WriteFile(pdf, []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"), 0o644)
	passport := `table.documents tr:first-child`
	do("upload a fake",
		chromedp.SetUploadFiles(css(passport+` input[type=file]`), []string{fake}),
		chromedp.Click(css(passport+` button`)),
		chromedp.WaitVisible(css(`[role=alert]`)),
	)
	if e := text(`[role=alert]`); !strings.Contains(e, "not a PDF, JPEG or PNG") {
		t.Fatalf("upload of HTML: %q", e)
	}
	do("upload a PDF",
		chromedp.SetUploadFiles(css(passport+` input[type=file]`), []string{pdf}),
		chromedp.Click(css(passport+` button`)),
	)
	// The page is replaced after the upload; wait for the new one to say so.
	waitText(`[data-kind=passport]`, "Uploaded")

	// The admin imports a file with a mistake and gets a report of the row to fix.
	bad := filepath.Join(tmp, "programmes.csv")
	os.WriteFile(bad, []byte("id,university_id,title,level,source_id,source_title,source_date\n"+
		"unimelb-ms-ds,university-of-melbourne,Master of Data Science,master,agency,Agency notes,2026-11-01\n"+
		"unimelb-ms-ai,university-of-melbourne,Master of Artificial Intelligence,grandmaster,agency,Agency notes,2026-11-01\n"), 0o644)
	do("admin import",
		chromedp.Click(css(`header form button`)),
		chromedp.WaitVisible(css(`#country`)),
		chromedp.Navigate(s.url+"/sign-in"),
		chromedp.WaitVisible(css(`#email`)),
		chromedp.SendKeys(css(`#email`), "admin@demo.gradpath.test"),
		chromedp.SendKeys(css(`#password`), passwords["admin@demo.gradpath.test"]),
		chromedp.Click(css(`form button[type=submit]`)),
		chromedp.WaitVisible(css(`table`)),
		chromedp.Navigate(s.url+"/admin/import"),
		chromedp.WaitVisible(css(`#file`)),
		chromedp.SetUploadFiles(css(`#file`), []string{bad}),
		chromedp.Click(css(`main form[enctype] button[type=submit]`)),
		chromedp.WaitVisible(css(`#report`)),
	)
	if v := text(`#report`); !strings.Contains(v, "nothing was imported") || !strings.Contains(text(`table.problems`), "grandmaster") {
		t.Fatalf("import report %q", v)
	}
	shot("admin-import.png")

	// The owner reads the insights of the last 30 days: the three requests of this visit
	// (Riya's callback, Meera's booking, a consultation, and Ananya's callback that came while
	// the queue was open; the counsellor contacted the first of the queue), one booking, and
	// the student's application to Melbourne. The funnel counts the leads that got at least so
	// far: Meera's consultation counts as contacted too.
	contacted := "1 (33.3%)"
	if strings.Contains(after, "Riya Sharma") {
		contacted = "2 (66.7%)"
	}
	do("insights", chromedp.Navigate(s.url+"/insights"), chromedp.WaitVisible(css(`#figure-leads`)))
	for sel, want := range map[string]string{"#figure-leads": "3", "#figure-contacted": contacted[:1], "#figure-consultation": "1",
		"#figure-application": "0", "#figure-bookings-made": "1", "#figure-no-show": "0"} {
		if got := text(sel); got != want {
			t.Errorf("insights %s = %q, want %q", sel, got, want)
		}
	}
	if f := textContent(`#funnel-desc`); !strings.Contains(f, "Leads: 3 (100%). Contacted: "+contacted+". Consultation: 1 (33.3%). Application: 0 (0%).") {
		t.Errorf("funnel chart: %q", f)
	}
	if c := textContent(`#applications-by-country-desc`); !strings.Contains(c, "Australia: 1.") {
		t.Errorf("applications by country: %q", c)
	}
	if src := textContent(`#sources-desc`); !strings.Contains(src, "Direct or unknown: 3.") {
		t.Errorf("sources: %q", src)
	}
	if rows := text(`#counsellors tbody`); !strings.Contains(rows, "100%") {
		t.Errorf("the response table has no counsellor in time: %q", rows)
	}
	shot("insights.png")
	// A range the agency had no leads in says so, and a range backwards is refused next to the field.
	do("insights, empty range", chromedp.Navigate(s.url+"/insights?from=2020-01-01&to=2020-01-31"), chromedp.WaitVisible(css(`#figure-leads`)))
	if got := text(`#figure-leads`); got != "0" {
		t.Errorf("leads in January 2020: %q", got)
	}
	do("insights, backwards", chromedp.Navigate(s.url+"/insights?from=2026-02-01&to=2026-01-01"), chromedp.WaitVisible(css(`#to-error`)))
	if e := text(`#to-error`); !strings.Contains(e, "before the first day") {
		t.Errorf("a backwards range: %q", e)
	}
	if audited < 10 {
		t.Errorf("only %d pages were audited for accessibility", audited)
	}
}

// a11yAudit lists what a page lacks for people using a screen reader or a keyboard.
const a11yAudit = `(() => {
  const out = [];
  if (!document.documentElement.lang) out.push("no lang on <html>");
  const h1 = document.querySelectorAll("h1").length;
  if (h1 !== 1) out.push(h1 + " h1 headings");
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.type === "hidden" || el.closest("[aria-hidden=true]")) continue;
    const named = (el.labels && el.labels.length > 0) || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby");
    if (!named) out.push("unlabelled " + el.tagName.toLowerCase() + (el.name ? " " + el.name : ""));
  }
  for (const el of document.querySelectorAll("img, svg[role=img]")) {
    if (!el.getAttribute("alt") && !el.getAttribute("aria-label") && !el.getAttribute("aria-labelledby")) out.push("unnamed image");
  }
  for (const el of document.querySelectorAll("[tabindex]")) {
    if (el.tabIndex > 0) out.push("positive tabindex on " + el.tagName.toLowerCase());
  }
  for (const el of document.querySelectorAll("button, a[href]")) {
    if (!el.closest("[aria-hidden=true]") && !(el.textContent || "").trim() && !el.getAttribute("aria-label")) out.push("a " + el.tagName.toLowerCase() + " without a name");
  }
  // Contrast (WCAG AA): 4.5:1 for text, 3:1 for large text, against the nearest opaque background.
  const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  let checked = 0;
  for (const el of document.querySelectorAll("body *")) {
    const text = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!text || el.closest("svg, .hp, .skip") || !el.getClientRects().length || checked++ > 400) continue;
    const st = getComputedStyle(el);
    const l1 = lum(rgb(st.color).slice(0, 3)), l2 = lum(background(el));
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(st.fontSize), bold = parseInt(st.fontWeight, 10) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < need) out.push("contrast " + ratio.toFixed(2) + " of " + el.tagName.toLowerCase() + " '" + el.textContent.trim().slice(0, 30) + "'");
  }
  const ids = {};
  for (const el of document.querySelectorAll("[id]")) {
    if (ids[el.id]) out.push("duplicate id " + el.id);
    ids[el.id] = true;
  }
  return out;
})()`
