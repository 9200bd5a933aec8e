package adaptertest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
)

// Config says how to make the adapter under test.
type Config struct {
	// New returns a fresh adapter on empty tables of Flavour. Run calls it
	// at the start of every subtest; it should fail t itself when it
	// cannot, and register any cleanup with t.Cleanup.
	New func(t *testing.T) session.Adapter
	// Flavour is the schema the adapter stores into. The suite uses it to
	// know which ids to expect, whether sessions have an id and a
	// createdAt, and whether accounts have an id.
	Flavour adapter.Flavour
}

// Run runs the whole suite against the adapters c.New makes, each case as a
// subtest of t on a fresh adapter.
func Run(t *testing.T, c Config) {
	t.Helper()
	if c.New == nil {
		t.Fatal("adaptertest: Config.New is nil")
	}
	if c.Flavour.Name == "" {
		t.Fatal("adaptertest: Config.Flavour is the zero Flavour (use one of adapter.Flavours)")
	}
	// A millisecond part that is not zero, so that a store keeping only
	// seconds fails.
	now := time.Now().UTC().Truncate(time.Second).Add(123 * time.Millisecond)
	s := &suite{Config: c, now: now}

	t.Run("authjs", s.authJS)
	s.ownCases(t)
}

// suite carries what every case shares: the configuration and the instant
// that stands for "now" in the whole run.
type suite struct {
	Config
	now time.Time
	seq atomic.Int64
}

// test runs f as the subtest name on a fresh adapter.
func (s *suite) test(t *testing.T, name string, f func(t *testing.T, a session.Adapter)) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		a := s.New(t)
		if a == nil {
			t.Fatal("Config.New returned a nil adapter")
		}
		f(t, a)
	})
}

// Fixtures, after those of Auth.js.

// userFixture is Auth.js's user with a fresh email (the column is unique)
// and no id, which the adapter makes.
func (s *suite) userFixture() session.User {
	verified := s.now.Add(-24 * time.Hour)
	return session.User{
		Name:          "Fill Murray",
		Email:         fmt.Sprintf("fill%d@murray.com", s.seq.Add(1)),
		Image:         "https://www.fillmurray.com/460/300",
		EmailVerified: &verified,
	}
}

func (s *suite) createUser(t *testing.T, a session.Adapter) session.User {
	t.Helper()
	u, err := a.CreateUser(t.Context(), s.userFixture())
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	s.checkID(t, "CreateUser: ID", u.ID)
	return u
}

// sessionFixture is a session for the user that expires at expires, with a
// createdAt where the flavour has the column.
func (s *suite) sessionFixture(userID string, expires time.Time) session.Session {
	se := session.Session{Token: randomUUID(), UserID: userID, Expires: expires}
	if s.Flavour.SessionCreatedAt {
		se.CreatedAt = s.now.Add(-90*time.Minute + 7*time.Millisecond)
	}
	return se
}

// createSession stores a session and checks what CreateSession returns.
func (s *suite) createSession(t *testing.T, a session.Adapter, userID string, expires time.Time) session.Session {
	t.Helper()
	want := s.sessionFixture(userID, expires)
	got, err := a.CreateSession(t.Context(), want)
	if err != nil {
		t.Fatalf("CreateSession(user %q): %v", userID, err)
	}
	s.checkSessionID(t, "CreateSession: ID", got.ID)
	want.ID = got.ID
	checkSession(t, "CreateSession", got, want)
	return want
}

// accountFixture is Auth.js's account.
func accountFixture(userID string) session.Account {
	const oneMonth = 30 * 24 * time.Hour
	return session.Account{
		UserID:            userID,
		Type:              "oauth",
		Provider:          "github",
		ProviderAccountID: randomUUID(),
		AccessToken:       randomUUID(),
		ExpiresAt:         int64(oneMonth / time.Second),
		IDToken:           randomUUID(),
		RefreshToken:      randomUUID(),
		TokenType:         "bearer",
		Scope:             "user",
		SessionState:      randomUUID(),
	}
}

func (s *suite) linkAccount(t *testing.T, a session.Adapter, want session.Account) session.Account {
	t.Helper()
	got, err := a.LinkAccount(t.Context(), want)
	if err != nil {
		t.Fatalf("LinkAccount(%s, %s): %v", want.Provider, want.ProviderAccountID, err)
	}
	s.checkAccountID(t, "LinkAccount: ID", got.ID)
	want.ID = got.ID
	checkAccount(t, "LinkAccount", got, want)
	return want
}

// longAgo is earlier than every expiry the suite writes outside the date
// round-trip case, so CountActive at longAgo counts every stored session.
var longAgo = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// count is CountActive that fails t on an error.
func count(t *testing.T, a session.Adapter, userID string, now time.Time) int64 {
	t.Helper()
	n, err := a.CountActive(t.Context(), userID, now)
	if err != nil {
		t.Fatalf("CountActive(%q, %s): %v", userID, fmtTime(now), err)
	}
	return n
}

// rows counts every stored session, of one user when userID is not empty.
func rows(t *testing.T, a session.Adapter, userID string) int64 {
	t.Helper()
	return count(t, a, userID, longAgo)
}

// hashToken is Auth.js's: verification tokens are stored hashed with the
// secret.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token + "anything"))
	return hex.EncodeToString(sum[:])
}

// randomUUID returns a version 4 UUID, as crypto.randomUUID does.
func randomUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// randomCUID returns a string shaped as a cuid: c and 24 lowercase letters
// and digits.
func randomCUID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	var b [24]byte
	rand.Read(b[:])
	out := []byte{'c'}
	for _, c := range b {
		out = append(out, alphabet[int(c)%len(alphabet)])
	}
	return string(out)
}

// missingUserID is an id of the flavour's shape that names no user.
func (s *suite) missingUserID() string {
	switch s.Flavour.IDs {
	case adapter.IDSerial:
		return "999999999"
	case adapter.IDUUID, adapter.IDPostgresUUID:
		return randomUUID()
	}
	return randomCUID()
}

// Checks.

// checkID checks that id has the shape the flavour's ids have.
func (s *suite) checkID(t *testing.T, what, id string) {
	t.Helper()
	if err := idShape(s.Flavour.IDs, id); err != nil {
		t.Errorf("%s %q: %v (flavour %s)", what, id, err, s.Flavour.Name)
	}
}

// checkSessionID checks that a session id is empty exactly when the
// flavour's Session table has no id column.
func (s *suite) checkSessionID(t *testing.T, what, id string) {
	t.Helper()
	if !s.Flavour.SessionID {
		if id != "" {
			t.Errorf("%s = %q, want empty: flavour %s has no Session id column", what, id, s.Flavour.Name)
		}
		return
	}
	s.checkID(t, what, id)
}

// checkAccountID checks that an account id is empty exactly when the
// flavour's Account table has no id column.
func (s *suite) checkAccountID(t *testing.T, what, id string) {
	t.Helper()
	if !s.Flavour.AccountID {
		if id != "" {
			t.Errorf("%s = %q, want empty: flavour %s has no Account id column", what, id, s.Flavour.Name)
		}
		return
	}
	s.checkID(t, what, id)
}

func idShape(kind adapter.IDKind, id string) error {
	if id == "" {
		return errors.New("empty id")
	}
	switch kind {
	case adapter.IDSerial:
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || n <= 0 || strconv.FormatInt(n, 10) != id {
			return errors.New("not a positive decimal integer as the database makes it")
		}
	case adapter.IDUUID, adapter.IDPostgresUUID:
		if len(id) != 36 {
			return errors.New("not a UUID (length is not 36)")
		}
		for i, c := range id {
			dash := i == 8 || i == 13 || i == 18 || i == 23
			hexDigit := '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
			if dash && c != '-' || !dash && !hexDigit {
				return errors.New("not a UUID")
			}
		}
	default:
		for _, c := range id {
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-' || c == '_') {
				return fmt.Errorf("not a cuid (has %q)", c)
			}
		}
	}
	return nil
}

func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, session.ErrNotFound) {
		t.Errorf("%s: got error %v, want one wrapping session.ErrNotFound", what, err)
	}
}

func wantUnknownUser(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, session.ErrUnknownUser) {
		t.Errorf("%s: got error %v, want one wrapping session.ErrUnknownUser", what, err)
	}
}

// checkTime checks that got is the instant want, in UTC.
func checkTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %s, want %s", what, fmtTime(got), fmtTime(want))
		return
	}
	if got.Location() != time.UTC {
		t.Errorf("%s = %s: the instant is right but its location is %q, want UTC", what, fmtTime(got), got.Location())
	}
}

func checkTimePtr(t *testing.T, what string, got, want *time.Time) {
	t.Helper()
	switch {
	case got == nil && want == nil:
	case got == nil:
		t.Errorf("%s = nil, want %s", what, fmtTime(*want))
	case want == nil:
		t.Errorf("%s = %s, want nil", what, fmtTime(*got))
	default:
		checkTime(t, what, *got, *want)
	}
}

func checkUser(t *testing.T, what string, got, want session.User) {
	t.Helper()
	if got.ID != want.ID || got.Name != want.Name || got.Email != want.Email || got.Image != want.Image {
		t.Errorf("%s:\n got %s\nwant %s", what, fmtUser(got), fmtUser(want))
	}
	checkTimePtr(t, what+": EmailVerified", got.EmailVerified, want.EmailVerified)
}

func checkSession(t *testing.T, what string, got, want session.Session) {
	t.Helper()
	if got.ID != want.ID || got.Token != want.Token || got.UserID != want.UserID {
		t.Errorf("%s: got {ID:%q Token:%q UserID:%q}, want {ID:%q Token:%q UserID:%q}",
			what, got.ID, got.Token, got.UserID, want.ID, want.Token, want.UserID)
	}
	checkTime(t, what+": Expires", got.Expires, want.Expires)
	checkTime(t, what+": CreatedAt", got.CreatedAt, want.CreatedAt)
	if got.UserAgent != want.UserAgent || got.IP != want.IP {
		t.Errorf("%s: got device {UserAgent:%q IP:%q}, want {UserAgent:%q IP:%q}",
			what, got.UserAgent, got.IP, want.UserAgent, want.IP)
	}
}

func checkAccount(t *testing.T, what string, got, want session.Account) {
	t.Helper()
	if got != want {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func checkVerificationToken(t *testing.T, what string, got, want session.VerificationToken) {
	t.Helper()
	if got.Identifier != want.Identifier || got.Token != want.Token {
		t.Errorf("%s: got {Identifier:%q Token:%q}, want {Identifier:%q Token:%q}",
			what, got.Identifier, got.Token, want.Identifier, want.Token)
	}
	checkTime(t, what+": Expires", got.Expires, want.Expires)
}

func fmtTime(t time.Time) string {
	return t.Format("2006-01-02T15:04:05.000000000Z07:00")
}

func fmtUser(u session.User) string {
	v := "nil"
	if u.EmailVerified != nil {
		v = fmtTime(*u.EmailVerified)
	}
	return fmt.Sprintf("{ID:%q Name:%q Email:%q Image:%q EmailVerified:%s}", u.ID, u.Name, u.Email, u.Image, v)
}
