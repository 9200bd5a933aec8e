package session

import "errors"

var (
	// ErrNotFound is returned, wrapped, by Store and Adapter methods when
	// the row asked for does not exist.
	ErrNotFound = errors.New("session: not found")

	// ErrUnknownUser is returned when a session is created for a user id that
	// names no user.
	ErrUnknownUser = errors.New("session: unknown user")

	// ErrNoSession is returned by Manager methods when the request carries no
	// valid session.
	ErrNoSession = errors.New("session: no session")
)
