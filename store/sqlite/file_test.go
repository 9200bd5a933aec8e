//go:build unix

package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/sqlite"
)

// A database Open creates holds session tokens: it and the -wal and -shm
// files beside it are readable by their owner only, whatever the umask
// lets through. An existing file keeps its mode.
func TestOpenCreatesPrivateFile(t *testing.T) {
	old := syscall.Umask(0o022) // the usual umask, which leaves 0644
	defer syscall.Umask(old)
	dir := t.TempDir()
	path := filepath.Join(dir, "sessions.db")
	st, err := sqlite.Open(path, adapter.Prisma)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	if err := st.CreateSchema(ctx); err != nil {
		t.Fatal(err)
	}
	u, err := st.CreateUser(ctx, session.User{Email: "mode@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateSession(ctx, session.Session{
		Token: "00000000-0000-4000-8000-000000000000", UserID: u.ID, Expires: time.Now().Add(time.Hour),
	}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"sessions.db", "sessions.db-wal", "sessions.db-shm"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if fi.Mode().Perm() != sqlite.FileMode {
			t.Errorf("%s: mode %v, want %v", name, fi.Mode().Perm(), sqlite.FileMode)
		}
	}

	shared := filepath.Join(dir, "shared.db")
	if err := os.WriteFile(shared, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	st2, err := sqlite.Open(shared, adapter.Prisma)
	if err != nil {
		t.Fatal(err)
	}
	st2.Close()
	if fi, err := os.Stat(shared); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("an existing file's mode changed: %v %v", fi.Mode().Perm(), err)
	}
}
