package sqlite

// The store needs the driver; importing it here saves users the blank
// import.
import _ "github.com/mattn/go-sqlite3"
