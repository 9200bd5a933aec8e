package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nextsession/nextsession/session"
)

// row is a session as the pages show it: by handle, never by token.
type row struct {
	Handle     string
	UserID     string
	Name       string
	Email      string
	UserAgent  string
	IP         string
	Created    time.Time
	LastActive time.Time
	Expires    time.Time
	ThisOne    bool
}

func newRow(su session.SessionUser, current session.Session) row {
	return row{
		Handle:    su.Session.Handle(),
		UserID:    su.User.ID,
		Name:      su.User.Name,
		Email:     su.User.Email,
		UserAgent: su.Session.UserAgent,
		IP:        su.Session.IP,
		Created:   su.Session.CreatedAt,
		// The last extension set expires to then + maxAge; reads since
		// then, within updateAge, left no trace.
		LastActive: su.Session.Expires.Add(-maxAge),
		Expires:    su.Session.Expires,
		ThisOne:    su.Session.Token == current.Token,
	}
}

type accountPage struct {
	User     session.User
	Admin    bool
	Sessions []row
	Flash    string
}

func (s *server) account(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u, cur, _ := session.FromContext(ctx)
	list, err := s.m.ListSessions(ctx, session.ListQuery{UserID: u.ID, Limit: 100})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows := make([]row, len(list))
	for i, su := range list {
		rows[i] = newRow(su, cur)
	}
	admin, err := isAdmin(ctx, s.st.DB(), u.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "account", accountPage{User: u, Admin: admin, Sessions: rows, Flash: s.takeFlash(w, r)})
}

func (s *server) revokeOthers(w http.ResponseWriter, r *http.Request) {
	_, cur, _ := session.FromContext(r.Context())
	n, err := s.m.RevokeOthers(r.Context(), cur)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.redirect(w, r, "/account", "others-signed-out", n)
}

// view is what a dashboard page shows: a search, one user, a page. It is
// read from the query of /admin, /admin/events and /admin/live, and from
// the forms of the rows, which send it back so that a revocation returns
// to the same page.
type view struct {
	Search string
	User   string
	After  session.ListCursor
}

// maxSearch bounds the search text.
const maxSearch = 200

// readView reads the view of a page from its URL query.
func readView(r *http.Request) view { return viewFrom(r.URL.Query()) }

// backView reads the view a row's form was on, sent as its back field.
func backView(r *http.Request) view {
	q, _ := url.ParseQuery(r.PostFormValue("back"))
	return viewFrom(q)
}

func viewFrom(q url.Values) view {
	v := view{Search: strings.TrimSpace(q.Get("q")), User: q.Get("user")}
	if len(v.Search) > maxSearch {
		v.Search = v.Search[:maxSearch]
	}
	if len(v.User) > 255 {
		v.User = ""
	}
	v.After, _ = parseCursor(q.Get("after"))
	return v
}

// query is the view as a URL query, "" for the first page of everything.
func (v view) query() string {
	q := url.Values{}
	if v.Search != "" {
		q.Set("q", v.Search)
	}
	if v.User != "" {
		q.Set("user", v.User)
	}
	if !v.After.IsZero() {
		q.Set("after", formatCursor(v.After))
	}
	return q.Encode()
}

// path is the dashboard URL of the view.
func (v view) path() string {
	if q := v.query(); q != "" {
		return "/admin?" + q
	}
	return "/admin"
}

// formatCursor writes a cursor for a URL: the expiry in Unix milliseconds
// and the store's key, which is no token.
func formatCursor(c session.ListCursor) string {
	return strconv.FormatInt(c.Expires.UnixMilli(), 10) + "." + c.Key
}

func parseCursor(s string) (session.ListCursor, bool) {
	ms, key, ok := strings.Cut(s, ".")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil || key == "" || len(key) > 255 {
		return session.ListCursor{}, false
	}
	return session.ListCursor{Expires: time.UnixMilli(n).UTC(), Key: key}, true
}

// listing is a page of sessions as the dashboard and its live updates
// show it.
type listing struct {
	Active   int64 // every active session: the count is exact
	UserName string
	Rows     []row
	// Next is the URL of the next page, "" on the last.
	Next string
	// View is the page's own view; Back is its query, which the forms of
	// the rows send back.
	View view
	Back string
}

func (s *server) listing(ctx context.Context, v view, cur session.Session) (listing, error) {
	l := listing{View: v, Back: v.query()}
	var err error
	if l.Active, err = s.m.CountActive(ctx); err != nil {
		return l, err
	}
	if v.User != "" {
		u, err := s.st.GetUser(ctx, v.User)
		switch {
		case errors.Is(err, session.ErrNotFound):
			l.UserName = "(no such user)"
		case err != nil:
			return l, err
		default:
			l.UserName = cmpOr(u.Name, u.Email)
		}
	}
	list, err := s.m.ListSessions(ctx, session.ListQuery{UserID: v.User, Search: v.Search, After: v.After, Limit: s.cfg.PageSize + 1})
	if err != nil {
		return l, err
	}
	if len(list) > s.cfg.PageSize {
		list = list[:s.cfg.PageSize]
		next := v
		next.After = list[len(list)-1].Cursor
		l.Next = next.path()
	}
	l.Rows = make([]row, len(list))
	for i, su := range list {
		l.Rows[i] = newRow(su, cur)
	}
	return l, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// rowsHTML renders the list's rows, as the page holds them and the live
// updates replace them, with a digest that says whether they changed.
func (s *server) rowsHTML(l listing) (template.HTML, string, error) {
	var buf bytes.Buffer
	if err := s.pages["admin"].ExecuteTemplate(&buf, "rows", l); err != nil {
		return "", "", err
	}
	sum := sha256.Sum256(buf.Bytes())
	return template.HTML(buf.String()), hex.EncodeToString(sum[:8]), nil
}

type dashboardPage struct {
	User  session.User
	Admin bool
	listing
	Rows template.HTML
	// Events and Poll are the URLs of the live updates of this view.
	Events, Poll string
	// Filtered is true on any view but the first page of everything.
	Filtered bool
	// Paged is true after the first page; First is the URL of that.
	Paged     bool
	First     string
	Chart     template.HTML
	Flash     string
	RefreshMS int64
	MaxAge    string
	UpdateAge string
}

func (s *server) dashboard(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u, cur, _ := session.FromContext(ctx)
	l, err := s.listing(ctx, readView(r), cur)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows, digest, err := s.rowsHTML(l)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	chart, err := s.chart(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, http.StatusOK, "admin", dashboardPage{
		User: u, Admin: true, listing: l, Rows: rows, Chart: chart,
		Events: liveURL("/admin/events", l.View, digest), Poll: liveURL("/admin/live", l.View, ""),
		Filtered: l.View != (view{}), Paged: !l.View.After.IsZero(), First: view{Search: l.View.Search, User: l.View.User}.path(),
		Flash: s.takeFlash(w, r), RefreshMS: s.cfg.Refresh.Milliseconds(),
		MaxAge: humanDuration(maxAge), UpdateAge: humanDuration(updateAge),
	})
}

// live answers the dashboard's polling, used when the event stream is
// down: the count and the rows of the view.
func (s *server) live(w http.ResponseWriter, r *http.Request) {
	_, cur, _ := session.FromContext(r.Context())
	l, err := s.listing(r.Context(), readView(r), cur)
	var rows template.HTML
	var digest string
	if err == nil {
		rows, digest, err = s.rowsHTML(l)
	}
	if err != nil {
		s.log.Error("live dashboard", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "database unavailable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"active": l.Active, "rows": rows, "digest": digest})
}

// liveURL is the URL of a live update of the view; digest, when set, is
// that of the rows the page already shows.
func liveURL(path string, v view, digest string) string {
	q := v.query()
	if digest != "" {
		if q != "" {
			q += "&"
		}
		q += "v=" + digest
	}
	if q == "" {
		return path
	}
	return path + "?" + q
}

// maxStream is how long one event stream lasts; the browser then opens a
// new one, which checks the session again from the start.
const maxStream = 10 * time.Minute

// events streams the dashboard's changes as Server-Sent Events: "count"
// with the number of active sessions, "rows" with the rows of the view
// (only when they changed from the digest v the page was rendered with),
// and "signedout" when the admin's own session is gone. It rereads the
// database every Refresh. At most MaxStreams run at once; the others get
// 503 and the page falls back to polling /admin/live.
func (s *server) events(w http.ResponseWriter, r *http.Request) {
	select {
	case s.streams <- struct{}{}:
		defer func() { <-s.streams }()
	default:
		w.Header().Set("Retry-After", "30")
		http.Error(w, "too many live dashboards: poll /admin/live", http.StatusServiceUnavailable)
		return
	}
	_, cur, _ := session.FromContext(r.Context())
	v := readView(r)
	lastRows := r.URL.Query().Get("v")
	lastCount := int64(-1)
	rc := http.NewResponseController(w)
	// The server's ReadTimeout would end the stream: it reads nothing more.
	_ = rc.SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	send := func(event, data string) bool {
		var b strings.Builder
		if event != "" {
			b.WriteString("event: " + event + "\n")
		}
		for line := range strings.SplitSeq(data, "\n") {
			b.WriteString("data: " + line + "\n")
		}
		b.WriteString("\n")
		_ = rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := w.Write([]byte(b.String())); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if _, err := fmt.Fprintf(w, "retry: %d\n\n", s.cfg.Refresh.Milliseconds()); err != nil {
		return
	}
	end := time.NewTimer(maxStream)
	defer end.Stop()
	tick := time.NewTicker(s.cfg.Refresh)
	defer tick.Stop()
	for {
		ok, err := s.stillSignedIn(r.Context(), cur)
		if err == nil && !ok {
			send("signedout", "")
			return
		}
		var l listing
		var rows template.HTML
		var digest string
		if err == nil {
			ctx, cancel := context.WithTimeout(r.Context(), s.cfg.DBTimeout)
			l, err = s.listing(ctx, v, cur)
			cancel()
		}
		if err == nil {
			rows, digest, err = s.rowsHTML(l)
		}
		switch {
		case err != nil:
			s.log.Error("live dashboard", "err", err)
			if !send("unavailable", "") {
				return
			}
			lastCount = -1
		default:
			if l.Active != lastCount {
				if !send("count", strconv.FormatInt(l.Active, 10)) {
					return
				}
				lastCount = l.Active
			}
			if digest != lastRows {
				if !send("rows", digest+"\n"+string(rows)) {
					return
				}
				lastRows = digest
			}
		}
		select {
		case <-r.Context().Done():
			return
		case <-end.C:
			return
		case <-s.stop:
			return
		case <-tick.C:
		}
	}
}

// stillSignedIn reports whether the session the stream was opened with is
// still there and active: a revoked admin's stream ends.
func (s *server) stillSignedIn(ctx context.Context, cur session.Session) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.DBTimeout)
	defer cancel()
	se, _, err := s.st.GetSessionAndUser(ctx, cur.Token)
	if errors.Is(err, session.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return !se.Expires.Before(time.Now()), nil
}

func (s *server) revoke(w http.ResponseWriter, r *http.Request) {
	// The row's user narrows the search to that user's sessions (an index
	// range), not every active session.
	found := false
	if userID := r.PostFormValue("user"); userID != "" {
		var err error
		found, err = s.m.RevokeHandle(r.Context(), userID, r.PostFormValue("handle"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	msg := "revoked"
	if !found {
		msg = "gone"
	}
	s.redirect(w, r, backView(r).path(), msg, 0)
}

func (s *server) revokeUser(w http.ResponseWriter, r *http.Request) {
	u, _, _ := session.FromContext(r.Context())
	userID := r.PostFormValue("user")
	n, err := s.m.RevokeUser(r.Context(), userID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if userID == u.ID {
		// The admin signed themselves out too: clear the cookie.
		_ = s.m.Destroy(r.Context(), w, r)
		s.redirect(w, r, "/signin", "signed-out-everywhere", 0)
		return
	}
	v := backView(r)
	v.After = session.ListCursor{}
	s.redirect(w, r, v.path(), "user-signed-out", n)
}

// flashCookie carries the message of an action to the page it redirects
// to, for a minute at most, and is cleared when shown: the URL stays
// clean and a reload does not show it again.
const flashCookie = "admin-flash"

// redirect sends the browser to path with the message key (n is its
// count, where it has one).
func (s *server) redirect(w http.ResponseWriter, r *http.Request, path, key string, n int64) {
	http.SetCookie(w, &http.Cookie{
		Name: flashCookie, Value: key + "." + strconv.FormatInt(n, 10), Path: "/", MaxAge: 60,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode,
	})
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// takeFlash returns the message of the flash cookie and clears it. Only
// known keys are shown, so that a planted cookie cannot put words on the
// page.
func (s *server) takeFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Path: "/", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	key, count, _ := strings.Cut(c.Value, ".")
	n, err := strconv.ParseInt(count, 10, 64)
	if err != nil || n < 0 {
		n = 0
	}
	switch key {
	case "signed-out":
		return "You are signed out."
	case "signed-out-everywhere":
		return "You are signed out on every device."
	case "revoked":
		return "Session revoked: that browser is signed out."
	case "gone":
		return "That session no longer exists: it was already revoked, signed out or expired."
	case "user-signed-out":
		return "Signed out everywhere: " + plural(n, "session") + " revoked."
	case "others-signed-out":
		return "Signed out other devices: " + plural(n, "session") + " revoked."
	}
	return ""
}

func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.FormatInt(n, 10) + " " + noun + "s"
}

// humanDuration writes a lifetime in days or hours.
func humanDuration(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return plural(int64(d/(24*time.Hour)), "day")
	}
	return plural(int64(d/time.Hour), "hour")
}

// ago writes how long ago t was, coarsely.
func ago(t time.Time) string {
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int64(d/time.Minute), "minute") + " ago"
	case d < 24*time.Hour:
		return plural(int64(d/time.Hour), "hour") + " ago"
	}
	return plural(int64(d/(24*time.Hour)), "day") + " ago"
}
