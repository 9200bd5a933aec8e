// Package sqlstore implements session.Adapter on sqlx for every schema
// flavour, for the Postgres and SQLite stores. It is internal: the two
// store packages are thin wrappers that fix the dialect.
package sqlstore
