package sqlstore

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/mattn/go-sqlite3"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/memory"
)

// The fuzz targets of issue 5 for the SQL stores. Seed corpora live in
// testdata/fuzz; .ci/fuzz runs each target for a bounded time.

// sqliteFormats are the ways a SQLite flavour writes dates.
var sqliteFormats = []adapter.DateFormat{adapter.DateMillis, adapter.DateISO, adapter.DateISOOffset}

// FuzzNullDate scans arbitrary text, bytes, integers and floats as a date
// column and checks that nullDate never panics, that it either fails
// (Valid false) or gives a UTC time, that Unix milliseconds round-trip as
// integers, digits and (within 2^53) floats, that every SQLite date format
// the store writes reads back as the same instant for years 0 to 9999, and
// that any text it reads as a date reads the same once written back.
func FuzzNullDate(f *testing.F) {
	f.Add("2025-01-01T00:00:00.000Z", int64(1735689600000))
	f.Add("2025-01-01T00:00:00.000+00:00", int64(0))
	f.Add("2025-01-01 00:00:00", int64(-1))
	f.Add("1735689600000", int64(253402300799999))
	f.Fuzz(func(t *testing.T, s string, ms int64) {
		for _, v := range []any{s, []byte(s)} {
			var d nullDate
			err := d.Scan(v)
			if err != nil {
				if d.Valid {
					t.Fatalf("Scan(%q) failed (%v) but Valid", s, err)
				}
				continue
			}
			if !d.Valid || d.Time.Location() != time.UTC {
				t.Fatalf("Scan(%q) = %v, Valid %v", s, d.Time, d.Valid)
			}
			// What was read as a date is written back and read the same.
			if y := d.Time.Year(); y >= 0 && y <= 9999 {
				roundTrip(t, d.Time.Truncate(time.Millisecond))
			}
		}

		want := time.UnixMilli(ms).UTC()
		for _, v := range []any{ms, strconv.FormatInt(ms, 10), []byte(strconv.FormatInt(ms, 10))} {
			var d nullDate
			if err := d.Scan(v); err != nil || !d.Valid || d.Time.UnixMilli() != ms {
				t.Fatalf("Scan(%#v) = %v (%d ms), %v; want %d ms", v, d.Time, d.Time.UnixMilli(), err, ms)
			}
		}
		if ms > -1<<53 && ms < 1<<53 {
			var d nullDate
			if err := d.Scan(float64(ms)); err != nil || d.Time.UnixMilli() != ms {
				t.Fatalf("Scan(float64(%d)) = %v, %v", ms, d.Time, err)
			}
		}
		if y := want.Year(); y >= 0 && y <= 9999 {
			roundTrip(t, want)
		}

		var d nullDate
		if err := d.Scan(nil); err != nil || d.Valid || d.ptr() != nil {
			t.Fatalf("Scan(nil) = %v, Valid %v", err, d.Valid)
		}
	})
}

// roundTrip writes tm in every SQLite date format and reads it back.
func roundTrip(t *testing.T, tm time.Time) {
	t.Helper()
	for _, format := range sqliteFormats {
		enc := encodeDate(adapter.SQLite, format, tm)
		var d nullDate
		if err := d.Scan(enc); err != nil || !d.Time.Equal(tm) || d.Time.Location() != time.UTC {
			t.Fatalf("format %d: %v written as %#v, read as %v, %v", format, tm, enc, d.Time, err)
		}
	}
}

// tokenStore is a SQLite store of one flavour with two live sessions,
// and the memory store holding the same, whose answers are the model.
type tokenStore struct {
	st    *Store
	model *memory.Store
}

// fuzzTokens are the live sessions' tokens: a UUID and one full of SQL.
var fuzzTokens = []string{"0b9a1f8e-2c3d-4e5f-8a9b-0c1d2e3f4a5b", `it's "quoted"; DROP TABLE "Session"; --%_`}

func newTokenStore(tb testing.TB, dir string, f adapter.Flavour) *tokenStore {
	tb.Helper()
	path := filepath.Join(dir, f.Name+".db")
	db, err := sqlx.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_busy_timeout=5000&_foreign_keys=on")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	ts := &tokenStore{st: New(db, f, adapter.SQLite), model: memory.New()}
	ctx := context.Background()
	if err := ts.st.CreateSchema(ctx); err != nil {
		tb.Fatal(err)
	}
	u, err := ts.st.CreateUser(ctx, session.User{Name: "fuzz", Email: "fuzz@example.com"})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := ts.model.CreateUser(ctx, u); err != nil {
		tb.Fatal(err)
	}
	exp := time.Date(2030, 1, 2, 3, 4, 5, 6e6, time.UTC)
	for _, tok := range fuzzTokens {
		for _, st := range []session.Store{ts.st, ts.model} {
			if _, err := st.CreateSession(ctx, session.Session{Token: tok, UserID: u.ID, Expires: exp}); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return ts
}

// FuzzStoreToken looks up, updates and deletes arbitrary tokens in SQLite
// stores of each flavour holding two live sessions (one token full of SQL
// metacharacters), beside the memory store holding the same: a token finds
// a row exactly when it finds one in the memory store, any other is
// ErrNotFound and never another error, and updating or deleting it leaves
// the live rows as they were.
func FuzzStoreToken(f *testing.F) {
	f.Add(fuzzTokens[0], uint8(0))
	f.Add(fuzzTokens[1], uint8(1))
	f.Add("0B9A1F8E-2C3D-4E5F-8A9B-0C1D2E3F4A5B", uint8(2))
	f.Add("' OR '1'='1", uint8(3))
	f.Add("%", uint8(0))
	f.Add("nul\x00", uint8(1))
	dir := f.TempDir()
	flavours := []adapter.Flavour{adapter.Prisma, adapter.PrismaISO, adapter.Kysely, adapter.Drizzle}
	stores := make([]*tokenStore, len(flavours))
	for i, fl := range flavours {
		stores[i] = newTokenStore(f, dir, fl)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, token string, pick uint8) {
		ts := stores[int(pick)%len(stores)]
		s, u, err := ts.st.GetSessionAndUser(ctx, token)
		want, wantU, wantErr := ts.model.GetSessionAndUser(ctx, token)
		switch {
		case wantErr == nil:
			if err != nil || s.Token != want.Token || !s.Expires.Equal(want.Expires) || u.Email != wantU.Email {
				t.Fatalf("live token %q: %v, %+v", token, err, s)
			}
			return
		case err == nil:
			t.Fatalf("token %q found session %q", token, s.Token)
		case !errors.Is(err, session.ErrNotFound):
			t.Fatalf("token %q: %v, want ErrNotFound", token, err)
		}
		if err := ts.st.UpdateSession(ctx, session.SessionUpdate{Token: token, Expires: time.Unix(0, 0)}); !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("UpdateSession(%q): %v, want ErrNotFound", token, err)
		}
		if err := ts.st.DeleteSession(ctx, token); err != nil {
			t.Fatalf("DeleteSession(%q): %v", token, err)
		}
		for _, tok := range fuzzTokens {
			s, _, err := ts.st.GetSessionAndUser(ctx, tok)
			want, _, _ := ts.model.GetSessionAndUser(ctx, tok)
			if err != nil || !s.Expires.Equal(want.Expires) {
				t.Fatalf("after update and delete of %q, live session %q: %v, %v", token, tok, s.Expires, err)
			}
		}
		if n, err := ts.st.CountActive(ctx, "", time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil || n != int64(len(fuzzTokens)) {
			t.Fatalf("after %q: %d active, %v", token, n, err)
		}
	})
}

// TestNullDateErrors pins what nullDate refuses: text that is no date, and
// types no driver returns for a date.
func TestNullDateErrors(t *testing.T) {
	for _, v := range []any{"", "yesterday", "2025-13-01", "1e3", " 2025-01-01", []byte{0xff}} {
		var d nullDate
		if err := d.Scan(v); err == nil || d.Valid {
			t.Errorf("Scan(%#v) = %v, %v; want an error", v, d.Time, err)
		}
	}
	for _, v := range []any{true, int32(1), struct{}{}} {
		var d nullDate
		if err := d.Scan(v); err == nil {
			t.Errorf("Scan(%#v) = %v; want an error", v, d.Time)
		}
	}
}

// activeStore is a SQLite store of one flavour whose Session table is
// emptied and given one row per fuzz input.
type activeStore struct {
	st    *Store
	table string
	user  string
}

func newActiveStore(tb testing.TB, dir string, f adapter.Flavour) *activeStore {
	tb.Helper()
	db, err := sqlx.Open("sqlite3", "file:"+filepath.Join(dir, "active-"+f.Name+".db")+"?_journal_mode=WAL&_busy_timeout=5000&_foreign_keys=on")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	st := New(db, f, adapter.SQLite)
	ctx := context.Background()
	if err := st.CreateSchema(ctx); err != nil {
		tb.Fatal(err)
	}
	u, err := st.CreateUser(ctx, session.User{Email: "active@example.com"})
	if err != nil {
		tb.Fatal(err)
	}
	return &activeStore{st: st, table: adapter.Quote(f.Tables.Session), user: u.ID}
}

// put replaces every session with one whose expires column holds v.
func (a *activeStore) put(tb testing.TB, v any) {
	tb.Helper()
	db := a.st.DB()
	if _, err := db.Exec(`DELETE FROM ` + a.table); err != nil {
		tb.Fatal(err)
	}
	cols, vals := `"sessionToken", "userId", "expires"`, "'tok', ?, ?"
	if a.st.flavour.SessionID {
		cols, vals = `"id", `+cols, "'id', "+vals
	}
	if _, err := db.Exec(`INSERT INTO `+a.table+` (`+cols+`) VALUES (`+vals+`)`, a.user, v); err != nil {
		tb.Fatal(err)
	}
}

// dateText matches the date text that tools write: ISO with T or a space,
// optional fraction, and Z, a UTC offset or no zone; or a bare date. Go's
// parser also takes sloppier text (a one-digit hour, other offsets) that
// SQL cannot compare as text.
var dateText = regexp.MustCompile(`^\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]00:00)?)?$`)

// sqliteDateText is SQLite's own date text, which compares exactly.
var sqliteDateText = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?$`)

// FuzzSQLiteActive stores arbitrary text as a session's expires on SQLite
// and checks that the SQL that counts, lists and sweeps agrees with how
// the store reads the row: a session that GetSessionAndUser reads as
// expiring at or after now is counted and listed and never swept; one
// before now is swept. Left out, as no NextAuth stack writes them: text
// other than dateText (a zone offset other than UTC, say), digits in a
// text column, and, within the second of now, ISO text without exactly
// three digits of milliseconds, which compares as text only to the second.
func FuzzSQLiteActive(f *testing.F) {
	f.Add("2026-03-04T23:00:00.000Z", int64(1772600767000))
	f.Add("2026-03-04 23:00:00", int64(1772600767000))
	f.Add("2026-03-04T05:06:07.000+00:00", int64(1772600767000))
	f.Add("2026-03-04 05:06:06.999", int64(1772600767000))
	dir := f.TempDir()
	stores := []*activeStore{newActiveStore(f, dir, adapter.Kysely), newActiveStore(f, dir, adapter.Prisma)}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, s string, nowMs int64) {
		if nowMs < 0 || nowMs > 253402300799999 {
			return
		}
		_, numErr := strconv.ParseFloat(s, 64)
		if numErr != nil && !dateText.MatchString(s) {
			return
		}
		now := time.UnixMilli(nowMs).UTC()
		for _, a := range stores {
			a.put(t, s)
			var kind string
			if err := a.st.DB().Get(&kind, `SELECT typeof("expires") FROM `+a.table); err != nil {
				t.Fatal(err)
			}
			if _, err := strconv.ParseInt(s, 10, 64); err == nil && kind == "text" {
				continue
			}
			got, _, err := a.st.GetSessionAndUser(ctx, "tok")
			if err != nil || got.Expires.Year() < 1 || got.Expires.Year() > 9999 {
				continue // not a date this store reads
			}
			exp := got.Expires
			exact := kind != "text" || s == exp.Format(isoZ) || s == exp.Format(isoOffset) || sqliteDateText.MatchString(s)
			if !exact && exp.Truncate(time.Second).Equal(now.Truncate(time.Second)) {
				continue
			}
			active := !exp.Before(now)
			n, err := a.st.CountActive(ctx, "", now)
			if err != nil {
				t.Fatal(err)
			}
			// The one-pass form used when expires has no index.
			var scanned int64
			scan := a.st.q.countActiveScan
			if err := a.st.db.QueryRow(scan.sql, scan.args(nowIn{now: now})...).Scan(&scanned); err != nil {
				t.Fatal(err)
			}
			if scanned != n {
				t.Fatalf("%s: expires %q: the indexed count says %d, the scanning count %d", a.st.flavour.Name, s, n, scanned)
			}
			list, err := a.st.ListSessions(ctx, session.ListQuery{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			swept, err := a.st.DeleteExpired(ctx, now, 10)
			if err != nil {
				t.Fatal(err)
			}
			if (n == 1) != active || (len(list) == 1) != active || (swept == 1) == active {
				t.Fatalf("%s: expires %q (%s, read as %v), now %v: counted %d, listed %d, swept %d; want active %v",
					a.st.flavour.Name, s, kind, exp, now, n, len(list), swept, active)
			}
		}
	})
}

// TestSweepKeepsSameDaySQLiteDates is the regression test for what
// FuzzSQLiteActive found: text in SQLite's own date format
// ("2026-03-04 23:00:00", as datetime('now', '+30 days') writes it),
// later than now on the same UTC day, is read as a live session but
// counted as expired and swept, because ' ' sorts below the 'T' of the
// ISO bound.
func TestSweepKeepsSameDaySQLiteDates(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	ctx := context.Background()
	for _, f := range []adapter.Flavour{adapter.Prisma, adapter.Kysely, adapter.Drizzle} {
		a := newActiveStore(t, t.TempDir(), f)
		for _, v := range []string{"2026-03-04 23:00:00", "2026-03-04 05:06:07", "2026-03-04 05:06:07.001"} {
			a.put(t, v)
			s, _, err := a.st.GetSessionAndUser(ctx, "tok")
			if err != nil || s.Expires.Before(now) {
				t.Fatalf("%s: %q read as %v, %v", f.Name, v, s.Expires, err)
			}
			if n, err := a.st.CountActive(ctx, "", now); err != nil || n != 1 {
				t.Errorf("%s: live session expiring %q not counted: %d, %v", f.Name, v, n, err)
			}
			if n, err := a.st.DeleteExpired(ctx, now, 10); err != nil || n != 0 {
				t.Errorf("%s: live session expiring %q swept: %d, %v", f.Name, v, n, err)
			}
		}
		for _, v := range []string{"2026-03-04 05:06:06", "2026-03-04 05:06:06.999", "2026-03-03 23:59:59"} {
			a.put(t, v)
			if n, err := a.st.DeleteExpired(ctx, now, 10); err != nil || n != 1 {
				t.Errorf("%s: expired session %q not swept: %d, %v", f.Name, v, n, err)
			}
		}
	}
}
