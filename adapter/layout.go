package adapter

// colKind is what a column holds, for the DDL and for the checks of
// Verify and Detect.
type colKind int

const (
	kindID      colKind = iota // the table's own id
	kindUserRef                // a user id (userId)
	kindText                   // nullable text
	kindKey                    // text NOT NULL
	kindDate                   // nullable date
	kindDateReq                // date NOT NULL
	kindBigint                 // nullable integer (expires_at)
	kindCreated                // createdAt: NOT NULL, the time of the insert
	kindUpdated                // updatedAt: NOT NULL, the time of the last write
)

// col is one column of a flavour's table.
type col struct {
	role string // Auth.js's name of the column, for messages: sessionToken
	name string // its name in the database
	kind colKind
}

// table is one of a flavour's four tables and the columns the stores read
// or write in it.
type table struct {
	role string // User, Account, Session or VerificationToken
	name string
	cols []col
}

// names lists the database names of the columns.
func (t table) names() []string {
	out := make([]string, len(t.cols))
	for i, c := range t.cols {
		out[i] = c.name
	}
	return out
}

// tableColumns returns the flavour's tables with the columns each has, in
// the order of the DDL.
func (f Flavour) tableColumns() []table {
	n := f.Names()
	opt := func(cols []col, has bool, c col) []col {
		if has {
			return append(cols, c)
		}
		return cols
	}
	u := n.User
	user := []col{{"id", u.ID, kindID}, {"name", u.Name, kindText}, {"email", u.Email, kindText},
		{"emailVerified", u.EmailVerified, kindDate}, {"image", u.Image, kindText}}
	user = opt(user, f.UserCreatedAt, col{"createdAt", u.CreatedAt, kindCreated})
	user = opt(user, f.UserUpdatedAt, col{"updatedAt", u.UpdatedAt, kindUpdated})

	a := n.Account
	account := opt(nil, f.AccountID, col{"id", a.ID, kindID})
	account = append(account, col{"userId", a.UserID, kindUserRef}, col{"type", a.Type, kindKey},
		col{"provider", a.Provider, kindKey}, col{"providerAccountId", a.ProviderAccountID, kindKey},
		col{"refresh_token", a.RefreshToken, kindText}, col{"access_token", a.AccessToken, kindText},
		col{"expires_at", a.ExpiresAt, kindBigint}, col{"token_type", a.TokenType, kindText},
		col{"scope", a.Scope, kindText}, col{"id_token", a.IDToken, kindText},
		col{"session_state", a.SessionState, kindText})
	account = opt(account, f.AccountCreatedAt, col{"createdAt", a.CreatedAt, kindCreated})
	account = opt(account, f.AccountUpdatedAt, col{"updatedAt", a.UpdatedAt, kindUpdated})

	s := n.Session
	sess := opt(nil, f.SessionID, col{"id", s.ID, kindID})
	sess = append(sess, col{"sessionToken", s.SessionToken, kindKey}, col{"userId", s.UserID, kindUserRef},
		col{"expires", s.Expires, kindDateReq})
	sess = opt(sess, f.SessionCreatedAt, col{"createdAt", s.CreatedAt, kindCreated})
	sess = opt(sess, f.SessionUpdatedAt, col{"updatedAt", s.UpdatedAt, kindUpdated})
	sess = opt(sess, f.Device.UserAgent != "", col{"device user agent", f.Device.UserAgent, kindText})
	sess = opt(sess, f.Device.IP != "", col{"device IP", f.Device.IP, kindText})

	v := n.VerificationToken
	vt := []col{{"identifier", v.Identifier, kindKey}, {"token", v.Token, kindKey}, {"expires", v.Expires, kindDateReq}}

	t := f.Tables
	return []table{
		{"User", t.User, user},
		{"Account", t.Account, account},
		{"Session", t.Session, sess},
		{"VerificationToken", t.VerificationToken, vt},
	}
}
