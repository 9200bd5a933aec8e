package adapter

import (
	"reflect"
	"strings"
)

// Naming is how a flavour spells the column names that Columns leaves
// empty.
type Naming int

const (
	// AuthJSNames spells columns as Auth.js's schemas do: sessionToken,
	// userId, emailVerified, providerAccountId, refresh_token, ...
	AuthJSNames Naming = iota
	// SnakeCase spells them in snake_case: session_token, user_id,
	// email_verified, provider_account_id, refresh_token, ... (Prisma
	// models with @map, Drizzle's casing: "snake_case").
	SnakeCase
)

// String returns the naming's name.
func (n Naming) String() string {
	if n == SnakeCase {
		return "snake_case"
	}
	return "authjs"
}

// Columns names the columns of a flavour's four tables. Each field is the
// name of one column in the database; an empty field is Auth.js's name
// (given in the field's authjs tag) spelled by the flavour's Naming.
// Flavour.Names returns every name resolved.
type Columns struct {
	User              UserColumns
	Account           AccountColumns
	Session           SessionColumns
	VerificationToken VerificationTokenColumns
}

// UserColumns names the columns of User. CreatedAt and UpdatedAt are used
// only when the flavour's UserCreatedAt and UserUpdatedAt say the table
// has them.
type UserColumns struct {
	ID            string `authjs:"id"`
	Name          string `authjs:"name"`
	Email         string `authjs:"email"`
	EmailVerified string `authjs:"emailVerified"`
	Image         string `authjs:"image"`
	CreatedAt     string `authjs:"createdAt"`
	UpdatedAt     string `authjs:"updatedAt"`
}

// AccountColumns names the columns of Account. ID, CreatedAt and
// UpdatedAt are used only when the flavour has them.
type AccountColumns struct {
	ID                string `authjs:"id"`
	UserID            string `authjs:"userId"`
	Type              string `authjs:"type"`
	Provider          string `authjs:"provider"`
	ProviderAccountID string `authjs:"providerAccountId"`
	RefreshToken      string `authjs:"refresh_token"`
	AccessToken       string `authjs:"access_token"`
	ExpiresAt         string `authjs:"expires_at"`
	TokenType         string `authjs:"token_type"`
	Scope             string `authjs:"scope"`
	IDToken           string `authjs:"id_token"`
	SessionState      string `authjs:"session_state"`
	CreatedAt         string `authjs:"createdAt"`
	UpdatedAt         string `authjs:"updatedAt"`
}

// SessionColumns names the columns of Session. ID, CreatedAt and
// UpdatedAt are used only when the flavour has them; device columns are in
// Flavour.Device.
type SessionColumns struct {
	ID           string `authjs:"id"`
	SessionToken string `authjs:"sessionToken"`
	UserID       string `authjs:"userId"`
	Expires      string `authjs:"expires"`
	CreatedAt    string `authjs:"createdAt"`
	UpdatedAt    string `authjs:"updatedAt"`
}

// VerificationTokenColumns names the columns of VerificationToken.
type VerificationTokenColumns struct {
	Identifier string `authjs:"identifier"`
	Token      string `authjs:"token"`
	Expires    string `authjs:"expires"`
}

// Names returns the flavour's column names, every one resolved: the name
// in Columns, or Auth.js's name spelled by Naming.
func (f Flavour) Names() Columns {
	c := f.Columns
	v := reflect.ValueOf(&c).Elem()
	for i := range v.NumField() {
		table := v.Field(i)
		for j := range table.NumField() {
			if field := table.Field(j); field.String() == "" {
				field.SetString(f.Naming.spell(table.Type().Field(j).Tag.Get("authjs")))
			}
		}
	}
	return c
}

// spell returns Auth.js's column name as the naming writes it.
func (n Naming) spell(name string) string {
	if n != SnakeCase {
		return name
	}
	return snake(name)
}

// snake turns camelCase into snake_case: providerAccountId becomes
// provider_account_id; names already in snake_case stay.
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// QuoteTable returns a table name of the flavour quoted for SQL, with its
// TableSchema in front when there is one: "next_auth"."sessions".
func (f Flavour) QuoteTable(table string) string {
	if f.TableSchema == "" {
		return Quote(table)
	}
	return Quote(f.TableSchema) + "." + Quote(table)
}
