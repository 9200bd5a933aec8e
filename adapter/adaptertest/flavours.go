package adaptertest

import "github.com/nextsession/nextsession/adapter"

// MappedFlavours returns flavours whose names differ from every
// predefined one, for a store's conformance test to run beside
// adapter.Flavours: Prisma's models mapped to snake_case tables and
// columns (@@map("sessions"), @map("session_token")) with one column
// renamed on top, on both dialects; and, on Postgres, Kysely's layout in
// its own schema with snake_case columns.
func MappedFlavours(d adapter.Dialect) []adapter.Flavour {
	snake := adapter.Prisma
	snake.Name = "prisma-snake"
	snake.Tables = adapter.Tables{User: "users", Account: "accounts", Session: "sessions", VerificationToken: "verification_tokens"}
	snake.Naming = adapter.SnakeCase
	snake.Columns.User.EmailVerified = "emailVerified" // a field left without @map
	out := []adapter.Flavour{snake}
	if d == adapter.Postgres {
		qualified := adapter.Kysely
		qualified.Name = "kysely-auth-schema"
		qualified.TableSchema = "auth"
		qualified.Tables = adapter.Tables{User: "user", Account: "account", Session: "session", VerificationToken: "verification_token"}
		qualified.Naming = adapter.SnakeCase
		out = append(out, qualified)
	}
	return out
}
