package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/nextsession/nextsession/adapter"
)

// flushOver is how many sessions one DELETE statement may remove before
// the trigger sends one "empty the cache" instead of one notification per
// row (a sweep, a user's revocation with many devices).
const flushOver = 1000

var channelName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

func checkChannel(ch string) error {
	if !channelName.MatchString(ch) {
		return fmt.Errorf("channel %q is not a lower-case SQL identifier of at most 63 characters", ch)
	}
	return nil
}

// tableTrigger is one table's notify function and the triggers that call it.
type tableTrigger struct {
	table    string // quoted
	function string // quoted
	body     string // the function's source, as pg_proc.prosrc holds it
	triggers []namedTrigger
}

type namedTrigger struct{ name, create string }

// cachedColumns names the columns whose values a cached entry copies.
type cachedColumns struct {
	token, userID, expires, createdAt     string // of Session
	id, name, email, emailVerified, image string // of User
}

func columnsOf(f adapter.Flavour) cachedColumns {
	n := f.Names()
	c := cachedColumns{token: n.Session.SessionToken, userID: n.Session.UserID, expires: n.Session.Expires,
		id: n.User.ID, name: n.User.Name, email: n.User.Email, emailVerified: n.User.EmailVerified, image: n.User.Image}
	if f.SessionCreatedAt {
		c.createdAt = n.Session.CreatedAt
	}
	return c
}

// quoteFunction names a table's notify function, in the table's schema.
func quoteFunction(f adapter.Flavour, table string) string {
	return f.QuoteTable(table + "_nextsession_notify")
}

// cacheTriggers builds the triggers of flavour f that notify channel.
func cacheTriggers(f adapter.Flavour, channel string) []tableTrigger {
	col := adapter.Quote
	c := columnsOf(f)
	notify := func(payload string) string {
		return fmt.Sprintf(`PERFORM pg_notify('%s', %s)`, channel, payload)
	}
	tokenHash := func(row string) string {
		return fmt.Sprintf(`'%s' || encode(sha256(convert_to(%s.%s, 'UTF8')), 'hex')`, payloadSession, row, col(c.token))
	}
	S, U := f.QuoteTable(f.Tables.Session), f.QuoteTable(f.Tables.User)
	sfn, ufn := quoteFunction(f, f.Tables.Session), quoteFunction(f, f.Tables.User)

	scols := []string{c.token, c.userID, c.expires}
	for _, x := range []string{c.createdAt, f.Device.UserAgent, f.Device.IP} {
		if x != "" {
			scols = append(scols, x)
		}
	}
	ucols := []string{c.id, c.name, c.email, c.emailVerified, c.image}
	changed := func(cols []string) (of, when string) {
		var a, b []string
		for _, c := range cols {
			a = append(a, col(c))
			b = append(b, fmt.Sprintf("OLD.%[1]s IS DISTINCT FROM NEW.%[1]s", col(c)))
		}
		return strings.Join(a, ", "), strings.Join(b, " OR ")
	}

	sbody := fmt.Sprintf(`
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF (SELECT count(*) FROM nextsession_old) > %d THEN
      %s;
    ELSE
      %s FROM nextsession_old o;
    END IF;
  ELSIF TG_OP = 'UPDATE' THEN
    %s;
  ELSE
    %s;
  END IF;
  RETURN NULL;
END
`, flushOver, notify(`'`+payloadFlush+`'`), notify(tokenHash("o")), notify(tokenHash("OLD")), notify(`'`+payloadFlush+`'`))
	ubody := fmt.Sprintf(`
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    %s;
  ELSE
    %s;
  END IF;
  RETURN NULL;
END
`, notify(`'`+payloadFlush+`'`), notify(fmt.Sprintf(`'%s' || OLD.%s::text`, payloadUser, col(c.id))))

	sof, swhen := changed(scols)
	uof, uwhen := changed(ucols)
	return []tableTrigger{
		{table: S, function: sfn, body: sbody, triggers: []namedTrigger{
			{"nextsession_notify_delete", fmt.Sprintf(`AFTER DELETE ON %s REFERENCING OLD TABLE AS nextsession_old FOR EACH STATEMENT EXECUTE FUNCTION %s()`, S, sfn)},
			{"nextsession_notify_update", fmt.Sprintf(`AFTER UPDATE OF %s ON %s FOR EACH ROW WHEN (%s) EXECUTE FUNCTION %s()`, sof, S, swhen, sfn)},
			{"nextsession_notify_truncate", fmt.Sprintf(`AFTER TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION %s()`, S, sfn)},
		}},
		{table: U, function: ufn, body: ubody, triggers: []namedTrigger{
			{"nextsession_notify_delete", fmt.Sprintf(`AFTER DELETE ON %s FOR EACH ROW EXECUTE FUNCTION %s()`, U, ufn)},
			{"nextsession_notify_update", fmt.Sprintf(`AFTER UPDATE OF %s ON %s FOR EACH ROW WHEN (%s) EXECUTE FUNCTION %s()`, uof, U, uwhen, ufn)},
			{"nextsession_notify_truncate", fmt.Sprintf(`AFTER TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION %s()`, U, ufn)},
		}},
	}
}

// installStatements lists the statements that install the triggers.
func installStatements(tt []tableTrigger) []string {
	var out []string
	for _, t := range tt {
		out = append(out, fmt.Sprintf("CREATE OR REPLACE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql AS $nextsession$%s$nextsession$", t.function, t.body))
		for _, tr := range t.triggers {
			out = append(out,
				fmt.Sprintf("DROP TRIGGER IF EXISTS %s ON %s", tr.name, t.table),
				fmt.Sprintf("CREATE TRIGGER %s %s", tr.name, tr.create))
		}
	}
	return out
}

func removeStatements(tt []tableTrigger) []string {
	var out []string
	for _, t := range tt {
		for _, tr := range t.triggers {
			out = append(out, fmt.Sprintf("DROP TRIGGER IF EXISTS %s ON %s", tr.name, t.table))
		}
		out = append(out, fmt.Sprintf("DROP FUNCTION IF EXISTS %s()", t.function))
	}
	return out
}

// CacheTriggerSQL returns the SQL that InstallCacheTrigger runs, for a
// migration that owns the schema: a function and three triggers on each
// of Session and User that notify channel ("" for DefaultCacheChannel) of
// what a cached validation depends on. It can run again; RemoveCacheTrigger
// undoes it.
func (s *Store) CacheTriggerSQL(channel string) (string, error) {
	if channel == "" {
		channel = DefaultCacheChannel
	}
	if err := checkChannel(channel); err != nil {
		return "", fmt.Errorf("postgres: %w", err)
	}
	return strings.Join(installStatements(cacheTriggers(s.Flavour(), channel)), ";\n") + ";\n", nil
}

// InstallCacheTrigger installs, in one transaction, the triggers that
// NewCache needs on the flavour's Session and User tables: they notify
// channel ("" for DefaultCacheChannel) when a session is deleted, when
// a column a cached entry copies changes (of Session or User), and on
// TRUNCATE. Payloads carry the SHA-256 of a token or a user id, never a
// token. The triggers change no row and fail no statement, so other
// writers (Prisma, Drizzle, Kysely, Auth.js's pg-adapter) work as
// before; each write then costs one pg_notify. Installing again replaces
// them.
func (s *Store) InstallCacheTrigger(ctx context.Context, channel string) error {
	if channel == "" {
		channel = DefaultCacheChannel
	}
	if err := checkChannel(channel); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return s.inTx(ctx, installStatements(cacheTriggers(s.Flavour(), channel)))
}

// RemoveCacheTrigger drops what InstallCacheTrigger installed; a missing
// trigger is no error. A CachedStore still running keeps its cache live
// (its heartbeats still come), but no longer hears other writers: close
// it first.
func (s *Store) RemoveCacheTrigger(ctx context.Context) error {
	return s.inTx(ctx, removeStatements(cacheTriggers(s.Flavour(), DefaultCacheChannel)))
}

func (s *Store) inTx(ctx context.Context, stmts []string) error {
	tx, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("postgres: %s: %w", firstWords(q), err)
		}
	}
	return tx.Commit()
}

func firstWords(q string) string {
	if i := strings.Index(q, "("); i > 0 {
		return q[:i]
	}
	return q
}

// checkCacheTrigger verifies that every trigger is installed, enabled,
// and calls a function whose source is the one InstallCacheTrigger writes
// for channel.
func (s *Store) checkCacheTrigger(ctx context.Context, channel string) error {
	for _, t := range cacheTriggers(s.Flavour(), channel) {
		for _, tr := range t.triggers {
			var src string
			var enabled string
			err := s.DB().QueryRowContext(ctx, `SELECT p.prosrc, t.tgenabled::text FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
WHERE t.tgrelid = to_regclass($1) AND t.tgname = $2`, t.table, tr.name).Scan(&src, &enabled)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("trigger %s on %s is missing: call Store.InstallCacheTrigger (or run Store.CacheTriggerSQL's SQL)", tr.name, t.table)
			}
			if err != nil {
				return fmt.Errorf("reading trigger %s on %s: %v", tr.name, t.table, err)
			}
			if enabled == "D" {
				return fmt.Errorf("trigger %s on %s is disabled", tr.name, t.table)
			}
			if src != t.body {
				return fmt.Errorf("trigger %s on %s calls a function other than the one for channel %q and this flavour: install it again", tr.name, t.table, channel)
			}
		}
	}
	return nil
}
