package main

import (
	"path/filepath"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/adapter/adaptertest"
	"github.com/nextsession/nextsession/store/sqlite"
)

// TestExistingSchemaDetected points the dashboard, with no flavour given,
// at databases whose NextAuth tables another tool made: today's Auth.js
// docs' Prisma models (updatedAt NOT NULL, no Session id) and a
// snake_case-mapped Prisma schema. It must find each layout, sign in and
// count on it.
func TestExistingSchemaDetected(t *testing.T) {
	backends := []struct {
		name    string
		dialect adapter.Dialect
		config  func(t *testing.T) config
		open    func(t *testing.T, c config) *sqlx.DB
	}{
		{"sqlite", adapter.SQLite,
			func(t *testing.T) config { return config{SQLitePath: filepath.Join(t.TempDir(), "admin.db")} },
			func(t *testing.T, c config) *sqlx.DB { return sqlx.MustOpen("sqlite3", sqlite.DSN(c.SQLitePath)) }},
		{"postgres", adapter.Postgres,
			func(t *testing.T) config { return pgConfig(t, "example_admin_detect") },
			func(t *testing.T, c config) *sqlx.DB { return sqlx.MustOpen("postgres", c.DatabaseURL) }},
	}
	for _, b := range backends {
		flavours := []adapter.Flavour{adapter.PrismaDocs}
		for _, f := range adaptertest.MappedFlavours(b.dialect) {
			if f.TableSchema == "" {
				flavours = append(flavours, f)
			}
		}
		for _, f := range flavours {
			t.Run(b.name+"/"+f.Name, func(t *testing.T) {
				cfg := b.config(t)
				db := b.open(t, cfg)
				stmts, err := f.Schema(b.dialect)
				if err != nil {
					t.Fatal(err)
				}
				for _, q := range stmts {
					if _, err := db.Exec(q); err != nil {
						t.Fatalf("%s: %v", q, err)
					}
				}
				db.Close()

				s := newTestServer(t, cfg)
				got := s.cfg.Flavour
				if s.cfg.flavourFrom != "found in the database; no rows to tell its dates by" && s.cfg.flavourFrom != "found in the database" {
					t.Errorf("flavour %s", s.cfg.flavourFrom)
				}
				if got.Tables != f.Tables || got.Names() != f.Names() || got.SessionID != f.SessionID {
					t.Fatalf("detected %s: tables %v, columns %+v; want %s: %v, %+v", got.Name, got.Tables, got.Names(), f.Name, f.Tables, f.Names())
				}
				_, admin := adminServer(t, s)
				if res, body := admin.get("/admin"); res.StatusCode != 200 {
					t.Fatalf("/admin: %d %.200s", res.StatusCode, body)
				}
				wantCount(t, s, 1)
			})
		}
	}
}
