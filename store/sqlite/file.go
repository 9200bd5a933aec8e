package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// FileMode is the mode Open creates a new database file with: readable
// and writable by its owner only, since the file holds session tokens
// (and, in an application that keeps them there, password hashes).
// SQLite gives the -wal and -shm files it creates beside it the same mode.
// Open leaves the mode of an existing file alone.
const FileMode fs.FileMode = 0o600

// createFile creates an empty database file at path with FileMode if
// there is none, so that SQLite, which would create it 0644 (less the
// umask), opens this one instead. Paths SQLite does not take as a file
// name (":memory:", "", URIs) are left to it.
func createFile(path string) error {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, FileMode)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sqlite: creating %s: %w", path, err)
	}
	return f.Close()
}
