package session

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

type otherKey struct{}

// TestResultContextIsAContext checks that the request Middleware hands to
// the next handler has a context that still carries the request's own
// values, deadline and cancellation, and a *Result (typed nil for "no
// session") under contextKey.
func TestResultContextIsAContext(t *testing.T) {
	parent, cancel := context.WithCancelCause(context.WithValue(context.Background(), otherKey{}, "v"))
	deadline := time.Now().Add(time.Hour)
	parent, cancelDeadline := context.WithDeadline(parent, deadline)
	defer cancelDeadline()
	res := &Result{User: User{ID: "u1"}}
	r := withResult(httptest.NewRequest(http.MethodGet, "/", nil).WithContext(parent), res)
	ctx := r.Context()
	res.User.ID = "changed" // the context holds its own copy
	if got, ok := ctx.Value(contextKey{}).(*Result); !ok || got == nil || got.User.ID != "u1" {
		t.Fatalf("Result: %#v, %v", got, ok)
	}
	if u, _, ok := FromContext(ctx); !ok || u.ID != "u1" {
		t.Fatalf("FromContext: %v, %v", u, ok)
	}
	if ctx.Value(otherKey{}) != "v" {
		t.Fatal("the parent's value is lost")
	}
	if d, ok := ctx.Deadline(); !ok || !d.Equal(deadline) {
		t.Fatalf("deadline %v, %v", d, ok)
	}
	child, cancelChild := context.WithCancel(ctx)
	defer cancelChild()
	cause := errors.New("client gone")
	cancel(cause)
	select {
	case <-child.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("cancelling the request's context does not reach a child of it")
	}
	if ctx.Err() != context.Canceled || context.Cause(ctx) != cause {
		t.Fatalf("Err %v, Cause %v", ctx.Err(), context.Cause(ctx))
	}

	none := withResult(httptest.NewRequest(http.MethodGet, "/", nil), nil).Context()
	got, ok := none.Value(contextKey{}).(*Result)
	if !ok || got != nil {
		t.Fatalf("no session: %#v, %v (want a typed nil, which says it was checked)", got, ok)
	}
	if _, _, ok := FromContext(none); ok {
		t.Fatal("FromContext found a session where there is none")
	}
}
