package memory_test

import (
	"context"
	"fmt"
	"log"

	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/memory"
)

// A Manager on the memory store, as in a test: no database, no cgo.
func ExampleNew() {
	st := memory.New()
	ctx := context.Background()
	ada, err := st.CreateUser(ctx, session.User{Name: "Ada", Email: "ada@example.com"})
	if err != nil {
		log.Fatal(err)
	}
	m := session.NewManager(st, session.Config{})

	token, _, err := m.Start(ctx, ada.ID, session.Device{})
	if err != nil {
		log.Fatal(err)
	}
	res, err := m.Validate(ctx, token)
	if err != nil {
		log.Fatal(err)
	}
	n, err := m.CountActive(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.User.Name, n)

	// Deleting the user deletes its sessions, as in NextAuth's tables.
	if err := st.DeleteUser(ctx, ada.ID); err != nil {
		log.Fatal(err)
	}
	_, err = m.Validate(ctx, token)
	fmt.Println(err)
	// Output:
	// Ada 1
	// session: no session
}
