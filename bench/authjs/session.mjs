#!/usr/bin/env node
// Times Auth.js's own GET /auth/session (database sessions) in-process, for
// BenchmarkValidateAuthJS. It uses the packages that interop/ installs
// (npm ci --prefix interop): @auth/core with @auth/pg-adapter on a pg.Pool,
// or @auth/kysely-adapter on better-sqlite3.
//
//   node bench/authjs/session.mjs <interop dir> < commands
//
// The first stdin line is JSON: {db: "postgres"|"sqlite", dsn, token}. The
// script answers "ready" once one /session call has returned the user.
// Then each line "N" runs N calls one after another and answers with the
// elapsed nanoseconds; "quit" (or end of input) ends it.

import { createInterface } from "node:readline"
import { join } from "node:path"
import { pathToFileURL } from "node:url"

const interop = process.argv[2]
if (!interop) throw new Error("usage: node session.mjs <interop dir>")
const mod = (p) => import(pathToFileURL(join(interop, "node_modules", p)).href)

const { Auth } = await mod("@auth/core/index.js")
const BASE = "http://localhost:3000"

async function adapterFor(cfg) {
  if (cfg.db === "postgres") {
    const { default: pg } = await mod("pg/esm/index.mjs")
    const { default: PostgresAdapter } = await mod("@auth/pg-adapter/index.js")
    const pool = new pg.Pool({ connectionString: cfg.dsn, max: 4 })
    return { adapter: PostgresAdapter(pool), close: () => pool.end() }
  }
  const { default: Database } = await mod("better-sqlite3/lib/index.js")
  const { Kysely, SqliteDialect } = await mod("kysely/dist/esm/index.js")
  const { KyselyAdapter } = await mod("@auth/kysely-adapter/index.js")
  const db = new Kysely({ dialect: new SqliteDialect({ database: new Database(cfg.dsn) }) })
  return { adapter: KyselyAdapter(db), close: () => db.destroy() }
}

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]()
const first = await lines.next()
const cfg = JSON.parse(first.value)
const db = await adapterFor(cfg)
const config = {
  basePath: "/auth",
  trustHost: true,
  secret: "bench-secret-bench-secret-bench-secret",
  adapter: db.adapter,
  session: { strategy: "database" },
  providers: [{ id: "email", type: "email", name: "Email", maxAge: 86400, async sendVerificationRequest() {} }],
  logger: { error: (e) => process.stderr.write(`[auth][error] ${e}\n`), warn: () => {}, debug: () => {} },
}

// A browser that has visited the app once sends the csrf and callback-url
// cookies too; without them every response would mint new ones.
const csrf = await Auth(new Request(`${BASE}/auth/csrf`), config)
const jar = csrf.headers.getSetCookie().map((c) => c.split(";")[0])
jar.push(`authjs.session-token=${cfg.token}`)
const cookie = jar.join("; ")

async function once() {
  const res = await Auth(new Request(`${BASE}/auth/session`, { headers: { cookie } }), config)
  return res.text()
}

const body = JSON.parse(await once())
if (!body?.user?.email) throw new Error(`no session: ${JSON.stringify(body)}`)
process.stdout.write("ready\n")

for (;;) {
  const { value, done } = await lines.next()
  if (done || value === "quit") break
  const n = Number(value)
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) await once()
  process.stdout.write(`${process.hrtime.bigint() - t0}\n`)
}
await db.close()
