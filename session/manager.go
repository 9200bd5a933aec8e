package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// Default lifetimes, NextAuth's own.
const (
	DefaultMaxAge    = 30 * 24 * time.Hour
	DefaultUpdateAge = 24 * time.Hour
	// UpdateAlways as Config.UpdateAge extends the session on every read,
	// as NextAuth's updateAge: 0 does.
	UpdateAlways time.Duration = -1
	// DefaultSweepBatch is how many expired rows one sweep statement deletes.
	DefaultSweepBatch = 1000
)

// NextAuthLifetimes converts NextAuth's session.maxAge and
// session.updateAge, in seconds as a NextAuth config writes them, to
// Config.MaxAge and Config.UpdateAge with NextAuth's meaning, so that a
// config copied over is read as NextAuth reads it:
//
//	cfg.MaxAge, cfg.UpdateAge = session.NextAuthLifetimes(30*24*60*60, 0)
//
// An updateAge of 0 means "extend on every request" (UpdateAlways), where
// Config's own zero means the 24-hour default. NextAuth's defaults are
// 2592000 and 86400. It panics, as a setup mistake, on a maxAge <= 0 (a
// session that ends as it starts) or a negative updateAge.
func NextAuthLifetimes(maxAgeSeconds, updateAgeSeconds int) (maxAge, updateAge time.Duration) {
	const most = math.MaxInt64 / int64(time.Second)
	if maxAgeSeconds <= 0 || updateAgeSeconds < 0 || int64(maxAgeSeconds) > most || int64(updateAgeSeconds) > most {
		panic(fmt.Sprintf("session: NextAuthLifetimes(%d, %d): want 0 < maxAge and 0 <= updateAge, in seconds", maxAgeSeconds, updateAgeSeconds))
	}
	maxAge = time.Duration(maxAgeSeconds) * time.Second
	if updateAgeSeconds == 0 {
		return maxAge, UpdateAlways
	}
	return maxAge, time.Duration(updateAgeSeconds) * time.Second
}

// Config configures a Manager. The zero value gives NextAuth's defaults.
type Config struct {
	// MaxAge is how long a session lives without use. Default 30 days.
	MaxAge time.Duration
	// UpdateAge is how often a session's expiry is written forward: a read
	// extends it when expires - MaxAge + UpdateAge <= now. Default 24 hours;
	// UpdateAlways writes on every read. Unlike NextAuth's updateAge, 0
	// here is the default: to copy a NextAuth config, use
	// NextAuthLifetimes.
	UpdateAge time.Duration
	// AbsoluteLifetime, when set, ends a session that long after its
	// creation however much it is used. It needs a createdAt column: on
	// flavours without one it only bounds the first expiry.
	AbsoluteLifetime time.Duration

	// CookieVersion picks the cookie name: CookieV4 (the default) or CookieV5.
	CookieVersion CookieVersion
	// CookieName, when set, replaces the version's name (without the
	// __Secure- prefix, which is added when secure cookies apply). A name
	// that starts with __Host- is used as it is, always Secure, with Path=/
	// and no Domain: browsers then refuse a cookie of that name set by a
	// sibling subdomain. Give NextAuth the same name
	// (cookies.sessionToken.name). NewManager panics if it comes with a
	// CookieDomain, which browsers refuse on such a cookie.
	CookieName string
	// Secure says when cookies are secure. Default SecureAuto.
	Secure SecureMode
	// CookieDomain is the cookie's Domain attribute. Default none.
	CookieDomain string

	// HashTokens stores SHA-256(token) instead of the token. A database
	// leak then yields no usable cookie, but NextAuth cannot read these
	// sessions: use it only where Go alone validates sessions.
	HashTokens bool
	// GoOnly says that no NextAuth reads this database's sessions.
	// HashTokens on an adapter whose tables NextAuth reads (one that
	// implements NextAuthTables, as every store does) panics without it, so
	// that hashing is never turned on by accident under a Next.js app.
	GoOnly bool
	// NewToken makes session tokens. Default NewUUIDToken.
	NewToken func() (string, error)
	// ValidToken says whether a cookie value can be a token at all; others
	// are refused without a query. Default: IsNextAuthToken when NewToken is
	// nil, else 1 to 512 URL-safe or base64 characters.
	ValidToken func(string) bool
	// Now is the clock. Default time.Now.
	Now func() time.Time

	// ErrorFunc answers a request whose session could not be read because
	// of an error (the database is down, say). Default: 503 Service
	// Unavailable. The request is not passed on.
	ErrorFunc func(w http.ResponseWriter, r *http.Request, err error)
	// ClientIP returns the address a sign-in came from, stored by Create
	// on flavours with device columns (adapter.Flavour.Device). Default:
	// the host of r.RemoteAddr; behind a proxy, read its header here.
	ClientIP func(r *http.Request) string

	// LoginURL, when set, is where RequireSession redirects a request
	// without a session; otherwise it answers 401.
	LoginURL string

	// CountCache, when > 0, lets CountActive answer from a count taken at
	// most CountCache ago (by Now), so that a dashboard polled by many
	// admins costs one query per CountCache: the count may lag sign-ins
	// and revocations by up to CountCache. Default 0: every call counts.
	// Validation is never cached.
	CountCache time.Duration

	// SweepInterval is how often expired sessions are deleted in the
	// background. Default 0: no sweeper. Stop it with Manager.Close.
	SweepInterval time.Duration
	// SweepBatch is how many rows one sweep statement deletes at most.
	// Default DefaultSweepBatch.
	SweepBatch int

	// Timeout bounds the database calls of Validate (and so of
	// Middleware, RequireSession, SessionHandler and Load), Start (and so
	// Create), Destroy and each sweep statement, except the calls on one
	// session of a store that bounds them itself (SelfBounded: SQLite with
	// an unlimited connection pool, the memory store); a request's own
	// deadline applies when it is earlier. A database that accepts
	// connections and never answers, or a pool with no free connection,
	// then costs a request at most Timeout before ErrorFunc answers.
	// Default DefaultTimeout (5s). A store's own shorter wait shows its
	// own error instead. The bound runs each call in a goroutine of its
	// own (a driver may not return when its context ends), or in the
	// caller's for a ContextBound store; NoTimeout runs calls in the
	// caller's goroutine with the caller's context alone. On SQLite, a
	// wait for another writer's lock ends at the busy timeout
	// (store/sqlite's BusyTimeout; the DSN's _busy_timeout) and no
	// sooner, whatever Timeout says: SQLite's busy handler does not heed
	// a context.
	Timeout time.Duration
	// Logger receives the Manager's log lines: each ErrorFunc answer of
	// the default ErrorFunc (method, path, error; at Error level), each
	// sweep (rows deleted, time taken, or its error) and each revocation.
	// No line holds a token or a cookie. Default slog.Default(), so that
	// an outage is never silent; slog.New(slog.DiscardHandler) silences it.
	Logger *slog.Logger
	// Events are hooks for audit and metrics. Default none.
	Events Events
}

// NextAuthTables is implemented by adapters that can say whether their
// tables are NextAuth's own, which a Next.js app may read.
type NextAuthTables interface {
	NextAuthTables() bool
}

// Manager creates, validates, extends, revokes and counts sessions stored
// by an Adapter. It is safe for concurrent use.
type Manager struct {
	st          Store
	cfg         Config
	plainName   string
	secureName  string
	setFormats  [2]setCookieFormat              // plain and secure; see setCookie
	setSuffixes [2]atomic.Pointer[cookieSuffix] // the last of each format

	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
	sweeping sync.WaitGroup // the sweeper's statements, which Close waits for
	inline   bool           // the store is ContextBound: no goroutine per call
	bounded  SelfBounded    // the store, when calls on one session may skip the timer
	peeker   SessionPeeker  // the store, when it can answer reads from memory

	countMu sync.Mutex // held while counting, so concurrent callers share one query
	count   int64
	countAt time.Time // zero: no count cached
}

// NewManager returns a Manager on the store, with cfg's zero fields set
// to their defaults. It panics if st is nil, cfg has negative durations,
// or cfg.SweepInterval > 0 on a store that is no ExpiredDeleter, and
// starts the sweeper when cfg.SweepInterval > 0.
func NewManager(st Store, cfg Config) *Manager {
	if st == nil {
		panic("session: NewManager with a nil Store")
	}
	if v := reflect.ValueOf(st); v.Kind() == reflect.Pointer && v.IsNil() {
		panic("session: NewManager with a nil " + v.Type().String())
	}
	if cfg.MaxAge < 0 || cfg.AbsoluteLifetime < 0 || cfg.CountCache < 0 || cfg.SweepInterval < 0 || cfg.SweepBatch < 0 || (cfg.Timeout < 0 && cfg.Timeout != NoTimeout) ||
		(cfg.UpdateAge < 0 && cfg.UpdateAge != UpdateAlways) {
		panic("session: negative duration in Config")
	}
	if _, ok := st.(ExpiredDeleter); cfg.SweepInterval > 0 && !ok {
		panic("session: Config.SweepInterval needs a store that is an ExpiredDeleter")
	}
	if cfg.HashTokens && !cfg.GoOnly {
		if nt, ok := st.(NextAuthTables); ok && nt.NextAuthTables() {
			panic("session: HashTokens makes sessions NextAuth cannot read; set Config.GoOnly if no NextAuth reads this database")
		}
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	switch cfg.UpdateAge {
	case 0:
		cfg.UpdateAge = DefaultUpdateAge
	case UpdateAlways:
		cfg.UpdateAge = 0
	}
	if cfg.ValidToken == nil {
		if cfg.NewToken == nil {
			cfg.ValidToken = IsNextAuthToken
		} else {
			cfg.ValidToken = isPlausibleToken
		}
	}
	if cfg.NewToken == nil {
		cfg.NewToken = NewUUIDToken
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ClientIP == nil {
		cfg.ClientIP = remoteHost
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ErrorFunc == nil {
		cfg.ErrorFunc = loggingErrorFunc(cfg.Logger)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.SweepBatch == 0 {
		cfg.SweepBatch = DefaultSweepBatch
	}
	name := cfg.CookieName
	if name == "" {
		name = cookieNameV4
		if cfg.CookieVersion == CookieV5 {
			name = cookieNameV5
		}
	}
	m := &Manager{st: st, cfg: cfg, plainName: name, secureName: securePrefix + name}
	if b, ok := st.(ContextBound); ok && b.BoundByContext() {
		m.inline = true
		m.bounded, _ = st.(SelfBounded)
	}
	m.peeker, _ = st.(SessionPeeker)
	if strings.HasPrefix(name, hostPrefix) {
		if cfg.CookieDomain != "" {
			panic("session: a " + hostPrefix + " cookie name cannot have a CookieDomain")
		}
		m.cfg.Secure = SecureAlways
		m.secureName = name
	}
	m.setFormats = m.setCookieFormats()
	if cfg.SweepInterval > 0 {
		m.stop = make(chan struct{})
		m.done = make(chan struct{})
		go m.sweepLoop()
	}
	return m
}

func remoteHost(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// maxDeviceLen bounds the device metadata stored with a session.
const maxDeviceLen = 512

// deviceText makes a header value fit to store and to show: valid UTF-8,
// without control characters (C0, DEL, C1: an ESC, CR or LF would reach
// a terminal, a log line or a CSV export as it is), bidirectional
// overrides or line separators, at most maxDeviceLen bytes.
func deviceText(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError || r == '\u2028' || r == '\u2029' ||
			(r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069') {
			return -1
		}
		return r
	}, s)
	if len(s) > maxDeviceLen {
		i := maxDeviceLen
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		s = s[:i]
	}
	return s
}

func defaultErrorFunc(w http.ResponseWriter, _ *http.Request, _ error) {
	http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
}

// Store returns the store the manager keeps sessions in.
func (m *Manager) Store() Store { return m.st }

// now returns the clock's time in UTC, truncated to the millisecond as the
// databases and JavaScript keep it.
func (m *Manager) now() time.Time {
	return m.cfg.Now().UTC().Truncate(time.Millisecond)
}

// stored maps a cookie token to what the sessionToken column holds.
func (m *Manager) stored(token string) string {
	if m.cfg.HashTokens {
		return HashToken(token)
	}
	return token
}

// Result is a validated session with its user.
type Result struct {
	Session Session
	User    User
	// ReadExpires is the expiry as read, before any extension: what
	// NextAuth's /session endpoint reports.
	ReadExpires time.Time

	cookieExpires time.Time
}

// Validate looks up the session with a cookie token and applies NextAuth's
// rules: no row or an expired row (which is deleted) is ErrNoSession; a
// session due for update has its expiry moved to now + MaxAge. The returned
// Session.Expires is the expiry after any extension. Its database calls
// are bounded by Config.Timeout (unless the store is SelfBounded).
func (m *Manager) Validate(ctx context.Context, token string) (Result, error) {
	if !m.cfg.ValidToken(token) {
		return Result{}, ErrNoSession
	}
	if res, ok := m.peek(token); ok {
		return res, nil
	}
	if m.selfBounded() {
		return m.validate(ctx, token)
	}
	return within(m, ctx, nil, func(ctx context.Context) (Result, error) { return m.validate(ctx, token) })
}

// validate is Validate on a token of a valid shape.
func (m *Manager) validate(ctx context.Context, token string) (Result, error) {
	stored := m.stored(token)
	s, u, err := m.st.GetSessionAndUser(ctx, stored)
	if errors.Is(err, ErrNotFound) {
		return Result{}, ErrNoSession
	}
	if err != nil {
		return Result{}, fmt.Errorf("session: reading session: %w", err)
	}
	v := m.judge(s)
	if v.expired {
		// The verdict does not depend on the delete; a failed one is left
		// to the sweeper.
		if m.st.DeleteSession(ctx, stored) == nil {
			emit(ctx, m.cfg.Events.Expire, Event{UserID: s.UserID, Handle: handle(stored), Count: 1})
		}
		return Result{}, ErrNoSession
	}
	res := Result{Session: s, User: u, ReadExpires: s.Expires}
	newExpires := v.newExpires
	if v.due {
		err := m.st.UpdateSession(ctx, SessionUpdate{Token: stored, Expires: newExpires})
		if errors.Is(err, ErrNotFound) {
			// Revoked between the read and the extension.
			return Result{}, ErrNoSession
		}
		if err != nil {
			return Result{}, fmt.Errorf("session: extending session: %w", err)
		}
		res.Session.Expires = newExpires
	}
	// The cookie's expiry moves forward on every valid read, as NextAuth's.
	res.cookieExpires = newExpires
	return res, nil
}

// Load reads the request's session cookie and validates it, for code that
// does not run behind Middleware. It writes no cookie: the row's expiry
// moves forward as in Validate, the browser's cookie does not (Middleware
// does both). A request without a usable cookie gives ErrNoSession; any
// other error is the database's.
func (m *Manager) Load(r *http.Request) (Result, error) {
	token, _ := readCookie(r, m.CookieName(r))
	if token == "" {
		return Result{}, ErrNoSession
	}
	return m.Validate(r.Context(), token)
}

// Device describes where a sign-in came from. It is stored with the
// session on flavours with device columns (adapter.Flavour.Device) and
// cut to 512 bytes of valid UTF-8; the zero value stores nothing.
type Device struct {
	UserAgent string
	IP        string
}

// Start creates a session for the user, as a sign-in does, and returns
// the token to hand to the client (the cookie value) with the stored
// session, whose Token is what the store holds (the token's hash with
// Config.HashTokens). It writes no cookie: a JSON login API returns the token, a CLI
// prints it, a test uses it; SetCookie sends it to a browser. It returns
// ErrUnknownUser, wrapped, when no user has the id.
func (m *Manager) Start(ctx context.Context, userID string, d Device) (token string, s Session, err error) {
	if userID == "" {
		return "", Session{}, fmt.Errorf("session: creating session: empty user id: %w", ErrUnknownUser)
	}
	token, err = m.cfg.NewToken()
	if err != nil {
		return "", Session{}, fmt.Errorf("session: making token: %w", err)
	}
	now := m.now()
	expires := now.Add(m.cfg.MaxAge)
	if m.cfg.AbsoluteLifetime > 0 && m.cfg.AbsoluteLifetime < m.cfg.MaxAge {
		expires = now.Add(m.cfg.AbsoluteLifetime)
	}
	in := Session{
		Token:     m.stored(token),
		UserID:    userID,
		Expires:   expires,
		CreatedAt: now,
		UserAgent: deviceText(d.UserAgent),
		IP:        deviceText(d.IP),
	}
	if m.selfBounded() {
		s, err = m.st.CreateSession(ctx, in)
	} else {
		s, err = within(m, ctx, nil, func(ctx context.Context) (Session, error) { return m.st.CreateSession(ctx, in) })
	}
	if err != nil {
		return "", Session{}, fmt.Errorf("session: creating session: %w", err)
	}
	emit(ctx, m.cfg.Events.SignIn, Event{UserID: s.UserID, Handle: s.Handle(), Count: 1})
	return token, s, nil
}

// SetCookie sets the session cookie for token on w, expiring at expires,
// with NextAuth's name and attributes for the request (the __Secure-
// prefix over https), and clears leftover chunks of the cookie that r
// carries. Use it after Start to sign a browser in.
func (m *Manager) SetCookie(w http.ResponseWriter, r *http.Request, token string, expires time.Time) {
	// Chunks left by a JWT setup would be joined to the new cookie.
	m.clearCookie(w, r, true)
	m.setCookie(w, r, token, expires)
}

// Create signs a browser in: it deletes any session the request carried,
// so that a token planted before login is never promoted (session
// fixation), then calls Start with the request's device (its User-Agent
// and Config.ClientIP) and SetCookie. It returns ErrUnknownUser, wrapped,
// when no user has the id, and then sets no cookie.
func (m *Manager) Create(ctx context.Context, w http.ResponseWriter, r *http.Request, userID string) (Session, error) {
	if old, _ := readCookie(r, m.CookieName(r)); old != "" && m.cfg.ValidToken(old) {
		if err := m.deleteSession(ctx, m.stored(old)); err != nil {
			return Session{}, fmt.Errorf("session: deleting previous session: %w", err)
		}
	}
	token, s, err := m.Start(ctx, userID, Device{UserAgent: r.UserAgent(), IP: m.cfg.ClientIP(r)})
	if err != nil {
		return Session{}, err
	}
	m.SetCookie(w, r, token, s.Expires)
	return s, nil
}

// Destroy signs the request out: it deletes its session, if any, and
// clears the cookie. A cookie name sent twice with different values, which
// is no session to read, has each of its sessions deleted: a cookie planted
// beside the real one must not keep the real session alive.
func (m *Manager) Destroy(ctx context.Context, w http.ResponseWriter, r *http.Request) error {
	tokens, present := signOutTokens(r, m.CookieName(r))
	for _, token := range tokens {
		if token != "" && m.cfg.ValidToken(token) {
			stored := m.stored(token)
			if err := m.deleteSession(ctx, stored); err != nil {
				return fmt.Errorf("session: deleting session: %w", err)
			}
			emit(ctx, m.cfg.Events.SignOut, Event{Handle: handle(stored), Count: 1})
		}
	}
	if present {
		m.clearCookie(w, r, false)
	}
	return nil
}

// Revoke deletes one session, named by its stored token (Session.Token).
// The next request carrying it has no session.
func (m *Manager) Revoke(ctx context.Context, storedToken string) error {
	if err := m.st.DeleteSession(ctx, storedToken); err != nil {
		return fmt.Errorf("session: revoking session: %w", err)
	}
	m.revoked(ctx, "Revoke", Event{Handle: handle(storedToken), Count: 1})
	return nil
}

// deleteSession deletes a session within Config.Timeout (unless the store
// is SelfBounded).
func (m *Manager) deleteSession(ctx context.Context, storedToken string) error {
	if m.selfBounded() {
		return m.st.DeleteSession(ctx, storedToken)
	}
	_, err := within(m, ctx, nil, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, m.st.DeleteSession(ctx, storedToken)
	})
	return err
}

// RevokeUser deletes every session of the user ("sign out everywhere") and
// says how many there were.
func (m *Manager) RevokeUser(ctx context.Context, userID string) (int64, error) {
	d, ok := m.st.(UserSessionDeleter)
	if !ok {
		return 0, unsupported("revoking user's sessions", "UserSessionDeleter")
	}
	n, err := d.DeleteUserSessions(ctx, userID, "")
	if err != nil {
		return n, fmt.Errorf("session: revoking user's sessions: %w", err)
	}
	m.revoked(ctx, "RevokeUser", Event{UserID: userID, Count: n})
	return n, nil
}

// RevokeOthers deletes every session of s's user but s itself ("sign out
// other devices").
func (m *Manager) RevokeOthers(ctx context.Context, s Session) (int64, error) {
	if s.Token == "" {
		return 0, fmt.Errorf("session: revoking other sessions: %w", ErrNoSession)
	}
	d, ok := m.st.(UserSessionDeleter)
	if !ok {
		return 0, unsupported("revoking other sessions", "UserSessionDeleter")
	}
	n, err := d.DeleteUserSessions(ctx, s.UserID, s.Token)
	if err != nil {
		return n, fmt.Errorf("session: revoking other sessions: %w", err)
	}
	m.revoked(ctx, "RevokeOthers", Event{UserID: s.UserID, Count: n})
	return n, nil
}

// RevokeHandle deletes the session whose Handle is handle, if it is still
// active, and reports whether there was one. The scan is over active
// sessions (of one user when userID is not empty); it suits admin pages.
func (m *Manager) RevokeHandle(ctx context.Context, userID, handle string) (bool, error) {
	list, err := m.ListActive(ctx, userID, 0)
	if err != nil {
		return false, err
	}
	for _, su := range list {
		if su.Session.Handle() == handle {
			return true, m.Revoke(ctx, su.Session.Token)
		}
	}
	return false, nil
}

// ListActive returns the sessions that have not expired, with their users,
// newest expiry first: one user's when userID is not empty, at most limit
// when limit > 0.
func (m *Manager) ListActive(ctx context.Context, userID string, limit int) ([]SessionUser, error) {
	return m.ListSessions(ctx, ListQuery{UserID: userID, Limit: limit})
}

// ListSessions returns a page of the active sessions that q selects, with
// their users (see ListQuery for paging and search). A zero q.Now is now.
func (m *Manager) ListSessions(ctx context.Context, q ListQuery) ([]SessionUser, error) {
	l, ok := m.st.(SessionLister)
	if !ok {
		return nil, unsupported("listing sessions", "SessionLister")
	}
	if q.Now.IsZero() {
		q.Now = m.now()
	}
	list, err := l.ListSessions(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("session: listing sessions: %w", err)
	}
	return list, nil
}

// CountActive counts the sessions that have not expired (expires >= now):
// the admin dashboard's "Active Sessions". With Config.CountCache it may
// answer from a count that old.
func (m *Manager) CountActive(ctx context.Context) (int64, error) {
	if m.cfg.CountCache <= 0 {
		return m.CountUserActive(ctx, "")
	}
	m.countMu.Lock()
	defer m.countMu.Unlock()
	now := m.now()
	if !m.countAt.IsZero() && now.Sub(m.countAt) < m.cfg.CountCache && !now.Before(m.countAt) {
		return m.count, nil
	}
	n, err := m.CountUserActive(ctx, "")
	if err != nil {
		return 0, err
	}
	m.count, m.countAt = n, now
	return n, nil
}

// CountUserActive counts one user's sessions that have not expired.
func (m *Manager) CountUserActive(ctx context.Context, userID string) (int64, error) {
	c, ok := m.st.(ActiveCounter)
	if !ok {
		return 0, unsupported("counting sessions", "ActiveCounter")
	}
	n, err := c.CountActive(ctx, userID, m.now())
	if err != nil {
		return 0, fmt.Errorf("session: counting sessions: %w", err)
	}
	return n, nil
}

// Sweep deletes every expired session, SweepBatch rows per statement so
// that no statement holds locks for long, and says how many went. Each
// statement is bounded by Config.Timeout.
func (m *Manager) Sweep(ctx context.Context) (int64, error) {
	return m.sweep(ctx, nil)
}

// sweep is Sweep; the sweeper passes its WaitGroup, which Close waits on,
// so that no statement of a sweep outlives Close.
func (m *Manager) sweep(ctx context.Context, wg *sync.WaitGroup) (int64, error) {
	d, ok := m.st.(ExpiredDeleter)
	if !ok {
		return 0, unsupported("sweeping", "ExpiredDeleter")
	}
	var total int64
	for {
		n, err := within(m, ctx, wg, func(ctx context.Context) (int64, error) {
			return d.DeleteExpired(ctx, m.now(), m.cfg.SweepBatch)
		})
		total += n
		if err != nil {
			return total, fmt.Errorf("session: sweeping: %w", err)
		}
		if n < int64(m.cfg.SweepBatch) {
			return total, nil
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}

func (m *Manager) sweepLoop() {
	defer close(m.done)
	t := time.NewTicker(m.cfg.SweepInterval)
	defer t.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-m.stop
		cancel()
	}()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			// An error (database down) is retried at the next tick.
			start := time.Now()
			n, err := m.sweep(ctx, &m.sweeping)
			if ctx.Err() != nil {
				return // stopped by Close mid-sweep: no failure to report
			}
			m.swept(ctx, SweepEvent{Deleted: n, Took: time.Since(start), Err: err})
		}
	}
}

// Close stops the sweeper, waiting for a sweep under way to end: its
// statement is cancelled, and Close waits for it up to Config.Timeout
// (a driver stuck on a database that never answers may not return), then
// reports it. It is safe to call more than once, and on a manager without
// a sweeper.
func (m *Manager) Close() error {
	if m.stop == nil {
		return nil
	}
	m.stopOnce.Do(func() { close(m.stop) })
	<-m.done
	// The sweeper has ended, so no statement starts any more.
	idle := make(chan struct{})
	go func() {
		m.sweeping.Wait()
		close(idle)
	}()
	if m.cfg.Timeout == NoTimeout {
		<-idle
		return nil
	}
	select {
	case <-idle:
		return nil
	case <-time.After(m.cfg.Timeout):
		return fmt.Errorf("session: closing: a sweep statement is still running after %v", m.cfg.Timeout)
	}
}

// unsupported is the error of a Manager method whose store lacks the
// ability it needs.
func unsupported(what, ability string) error {
	return fmt.Errorf("session: %s: the store is no %s: %w", what, ability, errors.ErrUnsupported)
}
