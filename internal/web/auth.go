package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/edge"
	"github.com/gradpath/gradpath/internal/gradpath"
)

func (p *Pages) signInForm(w http.ResponseWriter, r *http.Request) error {
	next := r.URL.Query().Get("next")
	if !localPath(next) {
		next = ""
	}
	p.render(w, r, http.StatusOK, "signin", "Sign in", map[string]any{"Values": map[string]string{"next": next}, "Errors": map[string]string{}, "OIDC": p.OIDC,
		"Reset": r.URL.Query().Get("reset") != ""})
	return nil
}

func (p *Pages) signIn(w http.ResponseWriter, r *http.Request) error {
	if !p.publicForm(w, r, 8<<10) {
		return nil
	}
	email := r.PostFormValue("email")
	actor := edge.Anonymous(r)
	c := p.Identity.Cookies()
	device := ""
	if ck, err := r.Cookie(c.Name("device")); err == nil {
		device = ck.Value
	}
	in, err := p.Accounts.SignIn(r.Context(), actor, accounts.Credentials{Email: email, Password: r.PostFormValue("password"), Device: device})
	u, sess, token := in.User, in.Session, in.Token
	if err == nil && in.Device != "" {
		c.Set(w, r, c.Name("device"), in.Device, accounts.DeviceTTL)
	}
	if err != nil {
		p.render(w, r, http.StatusUnauthorized, "signin", "Sign in", map[string]any{"Values": map[string]string{"email": email, "next": r.PostFormValue("next")},
			"Errors": map[string]string{"form": p.explain(w, r, err)}, "OIDC": p.OIDC})
		return nil
	}
	p.setSession(w, r, token, sess)
	next := "/me/applications"
	if u.Has(gradpath.RoleCounsellor) || u.Has(gradpath.RoleAdmin) {
		next = "/queue"
	}
	if back := r.PostFormValue("next"); localPath(back) {
		next = back
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// toSignIn sends someone who is not signed in (or whose session ended) to sign in, and back
// here afterwards: to this page, or for a form, to the page that sent it.
func (p *Pages) toSignIn(w http.ResponseWriter, r *http.Request) {
	back := r.URL.RequestURI()
	if r.Method != http.MethodGet {
		back = ""
		if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host {
			back = ref.RequestURI()
		}
	}
	to := "/sign-in"
	if localPath(back) {
		to += "?next=" + url.QueryEscape(back)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// localPath accepts only a path on this site as a place to go back to, never another site.
func localPath(s string) bool {
	return strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "//") && !strings.HasPrefix(s, "/\\") &&
		!strings.ContainsAny(s, "\r\n") && !strings.HasPrefix(s, "/sign-")
}

// gate lets a request through when someone is signed in who may use the page, and answers it
// itself otherwise (a redirect to sign in, or a page saying whose page it is).
type gate func(w http.ResponseWriter, r *http.Request) (*gradpath.Actor, *accounts.Session, bool)

// form reads a form sent past a gate: at most max bytes (a multipart one keeps files beyond
// 1 MiB on disk until the caller removes them), from this site, with the session's CSRF
// token. It answers the request itself when it refuses one.
func (p *Pages) form(w http.ResponseWriter, r *http.Request, g gate, max int64) (*gradpath.Actor, bool) {
	a, s, ok := g(w, r)
	if !ok {
		return nil, false
	}
	r.Body = http.MaxBytesReader(w, r.Body, max)
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		err = r.ParseMultipartForm(1 << 20)
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		p.fail(w, r, http.StatusRequestEntityTooLarge, "The form could not be read", fmt.Sprintf("It may be too large: at most %d MiB. Go back and try again.", max>>20))
		return nil, false
	}
	if !p.checkCSRF(r, s) {
		if r.MultipartForm != nil {
			r.MultipartForm.RemoveAll()
		}
		p.fail(w, r, http.StatusForbidden, "Refused", "The form had expired; reload the page and try again.")
		return nil, false
	}
	if field, bad := nulIn(r); bad {
		if r.MultipartForm != nil {
			r.MultipartForm.RemoveAll()
		}
		p.fail(w, r, http.StatusBadRequest, "The form could not be read", "The field "+field+" holds a NUL character, which cannot be stored. Go back, remove it and send the form again.")
		return nil, false
	}
	return a, true
}

// publicForm reads a form anyone may send (sign-in, sign-up, the public requests): at most
// max bytes, and only from this site. It answers the request itself when it refuses one.
func (p *Pages) publicForm(w http.ResponseWriter, r *http.Request, max int64) bool {
	if !edge.SameOrigin(r, p.PublicURL) {
		p.fail(w, r, http.StatusForbidden, "Refused", "This form was sent from another site.")
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, max)
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, http.StatusRequestEntityTooLarge, "The form could not be read", "It may be too large. Go back and try again.")
		return false
	}
	if field, bad := nulIn(r); bad {
		p.fail(w, r, http.StatusBadRequest, "The form could not be read", "The field "+field+" holds a NUL character, which cannot be stored. Go back, remove it and send the form again.")
		return false
	}
	return true
}

// nulIn finds a form field that holds a NUL character, which no database stores.
func nulIn(r *http.Request) (string, bool) {
	for _, values := range []url.Values{r.PostForm, r.Form} {
		for k, vs := range values {
			for _, v := range vs {
				if strings.ContainsRune(v, 0) || strings.ContainsRune(k, 0) {
					return strings.ReplaceAll(k, "\x00", ""), true
				}
			}
		}
	}
	if r.MultipartForm != nil {
		for k, vs := range r.MultipartForm.Value {
			for _, v := range vs {
				if strings.ContainsRune(v, 0) {
					return k, true
				}
			}
		}
	}
	return "", false
}

// checkCSRF checks a signed-in form: the same origin and the session's token.
func (p *Pages) checkCSRF(r *http.Request, s *accounts.Session) bool {
	return edge.SameOrigin(r, p.PublicURL) && edge.CSRFValid(s, r.PostFormValue("csrf_token"))
}

func (p *Pages) signOut(w http.ResponseWriter, r *http.Request) error {
	_ = r.ParseForm()
	u, s := p.who(r)
	if u != nil && p.checkCSRF(r, s) {
		_ = p.Accounts.Logout(r.Context(), &gradpath.Actor{UserID: u.ID, Roles: u.Roles, Via: "session", SessionID: s.Hash})
	}
	c := p.Identity.Cookies()
	c.Clear(w, r, c.SessionName())
	http.Redirect(w, r, "/programmes", http.StatusSeeOther)
	return nil
}

func (p *Pages) staff(w http.ResponseWriter, r *http.Request) (*gradpath.Actor, *accounts.Session, bool) {
	u, s := p.who(r)
	if u == nil {
		p.toSignIn(w, r)
		return nil, nil, false
	}
	if !u.Has(gradpath.RoleCounsellor) && !u.Has(gradpath.RoleAdmin) {
		p.fail(w, r, http.StatusForbidden, "For counsellors", "This page is for counsellors and admins.")
		return nil, nil, false
	}
	return &gradpath.Actor{UserID: u.ID, Roles: u.Roles, Via: "session", SessionID: s.Hash, IP: edge.ClientIP(r), UserAgent: r.UserAgent(), RequestID: edge.RequestID(r.Context())}, s, true
}

func (p *Pages) signedIn(w http.ResponseWriter, r *http.Request) (*gradpath.Actor, *accounts.Session, bool) {
	u, s := p.who(r)
	if u == nil {
		p.toSignIn(w, r)
		return nil, nil, false
	}
	return &gradpath.Actor{UserID: u.ID, Roles: u.Roles, Via: "session", SessionID: s.Hash, IP: edge.ClientIP(r), UserAgent: r.UserAgent(), RequestID: edge.RequestID(r.Context())}, s, true
}

func (p *Pages) signUpForm(w http.ResponseWriter, r *http.Request) error {
	p.render(w, r, http.StatusOK, "signup", "Create an account", map[string]any{"Values": map[string]string{}, "Errors": map[string]string{}})
	return nil
}

// signUp registers a student and signs them in.
func (p *Pages) signUp(w http.ResponseWriter, r *http.Request) error {
	if !p.publicForm(w, r, 8<<10) {
		return nil
	}
	values := map[string]string{"name": strings.TrimSpace(r.PostFormValue("name")), "email": strings.TrimSpace(r.PostFormValue("email"))}
	password := r.PostFormValue("password")
	actor := edge.Anonymous(r)
	errs := map[string]string{}
	var failure error
	if password != r.PostFormValue("password2") {
		errs["password2"] = "The two passwords differ; type the same one twice."
	}
	if len(errs) == 0 {
		reg, err := p.Accounts.Register(r.Context(), actor, accounts.RegisterInput{Email: values["email"], Name: values["name"], Password: password})
		if err == nil && reg.Pending {
			// The same page for every address: its owner's email says what comes next.
			p.render(w, r, http.StatusOK, "signup", "Check your email", map[string]any{"Sent": values["email"]})
			return nil
		}
		if err == nil {
			_, sess, token, err := p.Accounts.Login(r.Context(), actor, values["email"], password)
			if err == nil {
				p.setSession(w, r, token, sess)
				http.Redirect(w, r, "/me/profile?welcome=1", http.StatusSeeOther)
			} else {
				// The account exists; signing in can still be refused (too many attempts from
				// this address): the sign-in page takes it from there.
				http.Redirect(w, r, "/sign-in?next="+url.QueryEscape("/me/profile?welcome=1"), http.StatusSeeOther)
			}
			return nil
		}
		errs = p.formErrors(w, r, err, same)
		failure = err
	}
	// The password is never sent back into the page.
	p.render(w, r, formStatus(failure), "signup", "Create an account", map[string]any{"Values": values, "Errors": errs})
	return nil
}

func (p *Pages) forgotForm(w http.ResponseWriter, r *http.Request) error {
	p.render(w, r, http.StatusOK, "forgot", "Forgotten password", map[string]any{"Values": map[string]string{}, "Errors": map[string]string{}, "ByEmail": p.ResetByEmail})
	return nil
}

// forgot asks for a reset link. The answer is the same whether an account has the address or
// not.
func (p *Pages) forgot(w http.ResponseWriter, r *http.Request) error {
	if !p.publicForm(w, r, 4<<10) {
		return nil
	}
	email := strings.TrimSpace(r.PostFormValue("email"))
	data := map[string]any{"Values": map[string]string{"email": email}, "Errors": map[string]string{}, "ByEmail": p.ResetByEmail}
	if email == "" {
		data["Errors"] = map[string]string{"email": "Write the email address you sign in with."}
		p.render(w, r, http.StatusBadRequest, "forgot", "Forgotten password", data)
		return nil
	}
	if err := p.Accounts.RequestReset(r.Context(), edge.Anonymous(r), email); err != nil {
		data["Errors"] = map[string]string{"form": p.explain(w, r, err)}
		p.render(w, r, edge.StatusOf(err), "forgot", "Forgotten password", data)
		return nil
	}
	data["Sent"] = true
	p.render(w, r, http.StatusOK, "forgot", "Forgotten password", data)
	return nil
}

func (p *Pages) resetForm(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "private, no-store") // the page carries the reset token
	p.render(w, r, http.StatusOK, "reset", "Choose a new password", map[string]any{"Token": r.URL.Query().Get("token"), "Errors": map[string]string{}})
	return nil
}

// reset sets the new password with the emailed token; every session of the account ends.
func (p *Pages) reset(w http.ResponseWriter, r *http.Request) error {
	if !p.publicForm(w, r, 4<<10) {
		return nil
	}
	token, password := r.PostFormValue("token"), r.PostFormValue("password")
	errs := map[string]string{}
	var failure error
	if password != r.PostFormValue("password2") {
		errs["password2"] = "The two passwords differ; type the same one twice."
	} else if err := p.Accounts.ConfirmReset(r.Context(), edge.Anonymous(r), token, password); err != nil {
		errs, failure = p.formErrors(w, r, err, same), err
	}
	if len(errs) > 0 {
		p.render(w, r, formStatus(failure), "reset", "Choose a new password", map[string]any{"Token": token, "Errors": errs})
		return nil
	}
	http.Redirect(w, r, "/sign-in?reset=1", http.StatusSeeOther)
	return nil
}

// account is the signed-in person's own account: who they are and a new password.
func (p *Pages) account(w http.ResponseWriter, r *http.Request) error {
	if _, _, ok := p.signedIn(w, r); !ok {
		return nil
	}
	return p.renderAccount(w, r, http.StatusOK, map[string]string{})
}

func (p *Pages) renderAccount(w http.ResponseWriter, r *http.Request, status int, errs map[string]string) error {
	u, _ := p.who(r)
	p.render(w, r, status, "account", "My account", map[string]any{"Me": u, "Errors": errs, "Changed": r.URL.Query().Get("changed") != ""})
	return nil
}

// changePassword sets a new password after checking the current one; the person's other
// sessions end, this one stays.
func (p *Pages) changePassword(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.signedIn, 4<<10)
	if !ok {
		return nil
	}
	next := r.PostFormValue("new_password")
	if next != r.PostFormValue("new_password2") {
		return p.renderAccount(w, r, http.StatusBadRequest, map[string]string{"new_password2": "The two passwords differ; type the same one twice."})
	}
	if err := p.Accounts.ChangePassword(r.Context(), a, r.PostFormValue("current_password"), next, r.PostFormValue("keep_tokens") == "yes"); err != nil {
		return p.renderAccount(w, r, edge.StatusOf(err), p.formErrors(w, r, err, same))
	}
	http.Redirect(w, r, "/account?changed=1", http.StatusSeeOther)
	return nil
}

// confirmForm asks for the password chosen at sign-up, to confirm the address of the emailed
// link.
func (p *Pages) confirmForm(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store") // the address carries the link's key
	p.render(w, r, http.StatusOK, "confirm", "Confirm your email", map[string]any{"Token": r.URL.Query().Get("token"), "Errors": map[string]string{}})
	return nil
}

// confirm makes the account of a sign-up and signs the person in.
func (p *Pages) confirm(w http.ResponseWriter, r *http.Request) error {
	if !p.publicForm(w, r, 4<<10) {
		return nil
	}
	token := r.PostFormValue("token")
	done, err := p.Accounts.ConfirmRegistration(r.Context(), edge.Anonymous(r), token, r.PostFormValue("password"))
	if err != nil {
		w.Header().Set("Cache-Control", "no-store")
		p.render(w, r, edge.StatusOf(err), "confirm", "Confirm your email", map[string]any{"Token": token, "Errors": p.formErrors(w, r, err, same)})
		return nil
	}
	p.setSession(w, r, done.Token, done.Session)
	if done.Device != "" {
		c := p.Identity.Cookies()
		c.Set(w, r, c.Name("device"), done.Device, accounts.DeviceTTL)
	}
	http.Redirect(w, r, "/me/profile?welcome=1", http.StatusSeeOther)
	return nil
}

func (p *Pages) setSession(w http.ResponseWriter, r *http.Request, token string, sess accounts.Session) {
	c := p.Identity.Cookies()
	c.Set(w, r, c.SessionName(), token, sess.ExpiresAt.Sub(p.Now()))
}
