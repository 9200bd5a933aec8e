#!/usr/bin/env node
// Drives the real Auth.js (@auth/core's Auth(request, config), database
// sessions) for nextsession's Go interop tests.
//
//   node authjs.mjs <command> < input.json > output.json
//
// One command per invocation; one JSON object on stdin, one on stdout.
// Commands: signin, session, signout, cookies, schema, migrate (see
// README.md).
// Auth.js's own log lines go to stderr and are also returned in "logs".
// On failure: {"error": "..."} on stdout, stack on stderr, exit code 1.

import { readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Auth } from "@auth/core"

const here = dirname(fileURLToPath(import.meta.url))
const BASE_PATH = "/auth"
const PROVIDER_ID = "email"

// ---- input -------------------------------------------------------------

function readStdin() {
  let text = ""
  try {
    text = readFileSync(0, "utf8")
  } catch {
    text = ""
  }
  if (!text.trim()) return {}
  return JSON.parse(text)
}

function schemaSQL(db) {
  return readFileSync(join(here, "schema", `${db}.sql`), "utf8")
}

// ---- databases ----------------------------------------------------------

async function openDatabase(input) {
  if (!input.dsn) throw new Error("missing dsn")
  const which = input.adapter ?? (input.db === "postgres" ? "pg" : "kysely")
  if (which === "prisma") return openPrisma(input)
  if (which === "drizzle" && input.db === "sqlite") return openDrizzle(input)
  if (which === "pg" && input.db === "postgres") {
    const { default: pg } = await import("pg")
    const { default: PostgresAdapter } = await import("@auth/pg-adapter")
    const pool = new pg.Pool({ connectionString: input.dsn, max: 4 })
    return {
      adapter: PostgresAdapter(pool),
      exec: (sql) => pool.query(sql),
      close: () => pool.end(),
    }
  }
  if (which === "kysely" && input.db === "sqlite") {
    const { default: Database } = await import("better-sqlite3")
    const { Kysely, SqliteDialect } = await import("kysely")
    const { KyselyAdapter } = await import("@auth/kysely-adapter")
    const sqlite = new Database(input.dsn)
    const db = new Kysely({ dialect: new SqliteDialect({ database: sqlite }) })
    return {
      adapter: KyselyAdapter(db),
      exec: async (sql) => sqlite.exec(sql),
      close: () => db.destroy(), // also closes the better-sqlite3 handle
    }
  }
  throw new Error(`no adapter ${JSON.stringify(which)} on db ${JSON.stringify(input.db)}`)
}

// The Prisma models of the Auth.js docs through @auth/prisma-adapter and a
// Prisma 7 client (generated from prisma/<db>.prisma) on a driver adapter.
async function openPrisma(input) {
  const { PrismaAdapter } = await import("@auth/prisma-adapter")
  const mod = await import(`./prisma/generated/${input.db === "postgres" ? "postgres" : "sqlite"}/index.js`)
  const PrismaClient = mod.PrismaClient ?? mod.default.PrismaClient
  let driver
  if (input.db === "postgres") {
    const { PrismaPg } = await import("@prisma/adapter-pg")
    driver = new PrismaPg({ connectionString: input.dsn, max: 4 }, { schema: input.schema })
  } else {
    const { PrismaBetterSqlite3 } = await import("@prisma/adapter-better-sqlite3")
    driver = new PrismaBetterSqlite3({ url: `file:${input.dsn}` })
  }
  const prisma = new PrismaClient({ adapter: driver })
  return {
    adapter: PrismaAdapter(prisma),
    exec: (sql) => prisma.$executeRawUnsafe(sql),
    close: () => prisma.$disconnect(),
  }
}

// @auth/drizzle-adapter on the app's own tables, whose columns are in
// snake_case (users.email_verified, sessions.session_token, ...), on
// better-sqlite3.
async function openDrizzle(input) {
  const { default: Database } = await import("better-sqlite3")
  const { drizzle } = await import("drizzle-orm/better-sqlite3")
  const { sqliteTable, text, integer, primaryKey } = await import("drizzle-orm/sqlite-core")
  const { DrizzleAdapter } = await import("@auth/drizzle-adapter")
  const users = sqliteTable("users", {
    id: text("id").primaryKey().$defaultFn(() => crypto.randomUUID()),
    name: text("name"),
    email: text("email").unique(),
    emailVerified: integer("email_verified", { mode: "timestamp_ms" }),
    image: text("image"),
  })
  const accounts = sqliteTable(
    "accounts",
    {
      userId: text("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
      type: text("type").notNull(),
      provider: text("provider").notNull(),
      providerAccountId: text("provider_account_id").notNull(),
      refresh_token: text("refresh_token"),
      access_token: text("access_token"),
      expires_at: integer("expires_at"),
      token_type: text("token_type"),
      scope: text("scope"),
      id_token: text("id_token"),
      session_state: text("session_state"),
    },
    (a) => [primaryKey({ columns: [a.provider, a.providerAccountId] })],
  )
  const sessions = sqliteTable("sessions", {
    sessionToken: text("session_token").primaryKey(),
    userId: text("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    expires: integer("expires", { mode: "timestamp_ms" }).notNull(),
  })
  const verificationTokens = sqliteTable(
    "verification_tokens",
    {
      identifier: text("identifier").notNull(),
      token: text("token").notNull(),
      expires: integer("expires", { mode: "timestamp_ms" }).notNull(),
    },
    (v) => [primaryKey({ columns: [v.identifier, v.token] })],
  )
  const sqlite = new Database(input.dsn)
  const db = drizzle(sqlite)
  return {
    adapter: DrizzleAdapter(db, {
      usersTable: users,
      accountsTable: accounts,
      sessionsTable: sessions,
      verificationTokensTable: verificationTokens,
    }),
    exec: async (sql) => sqlite.exec(sql),
    close: () => sqlite.close(),
  }
}

// ---- Auth.js config -----------------------------------------------------

function buildConfig(input, adapter, logs, mailbox) {
  if (!input.secret) throw new Error("missing secret")
  const log = (level) => (...args) => {
    const text = args
      .map((a) => (a instanceof Error ? `${a.name}: ${a.message}` : typeof a === "string" ? a : JSON.stringify(a)))
      .join(" ")
    logs.push({ level, text })
    if (level !== "debug" || input.debug) process.stderr.write(`[auth][${level}] ${text}\n`)
    if (level === "error" && args[0] instanceof Error) {
      const cause = args[0].cause?.err ?? args[0].cause
      if (cause instanceof Error) process.stderr.write(`${cause.stack}\n`)
    }
  }
  const session = { strategy: "database" }
  if (input.maxAge !== undefined && input.maxAge !== null) session.maxAge = Number(input.maxAge)
  if (input.updateAge !== undefined && input.updateAge !== null) session.updateAge = Number(input.updateAge)
  const config = {
    basePath: BASE_PATH,
    trustHost: true,
    secret: input.secret,
    adapter,
    session,
    providers: [
      {
        // An Auth.js email provider (type "email", as Nodemailer()/Email()
        // return) whose sendVerificationRequest captures the magic link.
        id: PROVIDER_ID,
        type: "email",
        name: "Email",
        maxAge: 24 * 60 * 60,
        async sendVerificationRequest({ url, identifier }) {
          mailbox.push({ url, identifier })
        },
      },
    ],
    logger: { error: log("error"), warn: log("warn"), debug: log("debug") },
  }
  if (input.cookieName) {
    config.cookies = { sessionToken: { name: input.cookieName } }
  }
  return config
}

// ---- HTTP helpers -------------------------------------------------------

function baseURL(input) {
  if (!input.baseURL) throw new Error("missing baseURL")
  return input.baseURL.replace(/\/+$/, "")
}

function sessionCookieName(input) {
  if (input.cookieName) return input.cookieName
  const secure = new URL(baseURL(input)).protocol === "https:"
  return `${secure ? "__Secure-" : ""}authjs.session-token`
}

// Parses one Set-Cookie header into {name, value, expires, maxAge, path,
// domain, httpOnly, secure, sameSite, raw}.
function parseSetCookie(raw) {
  const [pair, ...attrs] = raw.split(";")
  const eq = pair.indexOf("=")
  const c = {
    name: pair.slice(0, eq).trim(),
    value: decodeURIComponent(pair.slice(eq + 1).trim()),
    expires: null,
    maxAge: null,
    path: null,
    domain: null,
    httpOnly: false,
    secure: false,
    sameSite: null,
    partitioned: false,
    raw,
  }
  for (const attr of attrs) {
    const i = attr.indexOf("=")
    const key = (i < 0 ? attr : attr.slice(0, i)).trim().toLowerCase()
    const val = i < 0 ? "" : attr.slice(i + 1).trim()
    if (key === "expires") c.expires = val
    else if (key === "max-age") c.maxAge = Number(val)
    else if (key === "path") c.path = val
    else if (key === "domain") c.domain = val
    else if (key === "httponly") c.httpOnly = true
    else if (key === "secure") c.secure = true
    else if (key === "samesite") c.sameSite = val
    else if (key === "partitioned") c.partitioned = true
  }
  return c
}

// A minimal cookie jar: name -> value, in insertion order.
class Jar {
  constructor(header) {
    this.map = new Map()
    for (const part of (header ?? "").split(";")) {
      const i = part.indexOf("=")
      if (i < 0) continue
      const name = part.slice(0, i).trim()
      if (name && !this.map.has(name)) this.map.set(name, part.slice(i + 1).trim())
    }
  }
  absorb(setCookies) {
    for (const raw of setCookies) {
      const c = parseSetCookie(raw)
      const gone = c.maxAge !== null ? c.maxAge <= 0 : c.expires && Date.parse(c.expires) <= Date.now()
      if (gone || c.value === "") this.map.delete(c.name)
      else this.map.set(c.name, encodeURIComponent(c.value))
    }
  }
  header() {
    return [...this.map].map(([k, v]) => `${k}=${v}`).join("; ")
  }
}

async function call(config, method, url, { cookie, form } = {}) {
  const headers = new Headers()
  if (cookie) headers.set("cookie", cookie)
  let body
  if (form) {
    headers.set("content-type", "application/x-www-form-urlencoded")
    body = new URLSearchParams(form).toString()
  }
  const res = await Auth(new Request(url, { method, headers, body }), config)
  const setCookie = res.headers.getSetCookie()
  const text = await res.text()
  let json
  if ((res.headers.get("content-type") ?? "").includes("application/json")) {
    json = text === "" ? null : JSON.parse(text)
  }
  const hdrs = {}
  for (const [k, v] of res.headers) if (k !== "set-cookie") hdrs[k] = v
  return { status: res.status, setCookie, json, text, headers: hdrs, location: res.headers.get("location") }
}

async function csrf(config, input, jar) {
  const r = await call(config, "GET", `${baseURL(input)}${BASE_PATH}/csrf`, { cookie: jar.header() })
  if (r.status !== 200 || !r.json?.csrfToken) throw new Error(`GET /csrf: status ${r.status}: ${r.text}`)
  jar.absorb(r.setCookie)
  return r.json.csrfToken
}

// ---- commands -----------------------------------------------------------

async function signin(input, ctx) {
  if (!input.email) throw new Error("missing email")
  const base = baseURL(input)
  const jar = new Jar(input.cookieHeader)
  const csrfToken = await csrf(ctx.config, input, jar)

  const post = await call(ctx.config, "POST", `${base}${BASE_PATH}/signin/${PROVIDER_ID}`, {
    cookie: jar.header(),
    form: { email: input.email, csrfToken, callbackUrl: base },
  })
  jar.absorb(post.setCookie)
  const mail = ctx.mailbox.pop()
  if (!mail || post.status !== 302 || !post.location?.includes("/verify-request")) {
    throw new Error(`POST /signin/${PROVIDER_ID}: status ${post.status}, location ${post.location}, no magic link`)
  }

  const cb = await call(ctx.config, "GET", mail.url, { cookie: jar.header() })
  const cookies = cb.setCookie.map(parseSetCookie)
  const name = sessionCookieName(input)
  const sess = cookies.find((c) => c.name === name && c.value !== "")
  if (!sess) {
    throw new Error(`GET magic link: status ${cb.status}, location ${cb.location}, no ${name} cookie`)
  }
  const found = await ctx.adapter.getSessionAndUser(sess.value)
  return {
    status: cb.status,
    location: cb.location,
    magicLink: mail.url,
    cookies,
    setCookie: cb.setCookie,
    sessionCookieName: name,
    sessionToken: sess.value,
    userId: found ? String(found.user.id) : null,
    expires: found ? new Date(found.session.expires).toISOString() : null,
  }
}

async function session(input, ctx) {
  const r = await call(ctx.config, "GET", `${baseURL(input)}${BASE_PATH}/session`, {
    cookie: input.cookieHeader ?? "",
  })
  return {
    status: r.status,
    body: r.json === undefined ? null : r.json,
    text: r.text,
    setCookie: r.setCookie,
    cookies: r.setCookie.map(parseSetCookie),
    headers: r.headers,
  }
}

async function signout(input, ctx) {
  const jar = new Jar(input.cookieHeader)
  const csrfToken = await csrf(ctx.config, input, jar)
  const r = await call(ctx.config, "POST", `${baseURL(input)}${BASE_PATH}/signout`, {
    cookie: jar.header(),
    form: { csrfToken, callbackUrl: baseURL(input) },
  })
  return {
    status: r.status,
    location: r.location,
    setCookie: r.setCookie,
    cookies: r.setCookie.map(parseSetCookie),
  }
}

// How the Next.js side reads a session cookie from a Cookie header, with
// each parser it may use, then Auth.js's SessionStore (the name and every
// cookie whose name starts with it, joined by suffix number): Auth.js's
// vendored cookie.js (Auth.js v5), the cookie package (next-auth v4 under
// the Pages Router: req.cookies) and @edge-runtime/cookies (next-auth v4
// under the App Router: cookies(), NextRequest.cookies). Headers come as
// base64 and are read as Latin-1, as Node.js reads header bytes; each goes
// through Headers first, as a request's does. Not exported by @auth/core,
// its parser and SessionStore are imported by path.
async function cookies(input) {
  const { RequestCookies } = await import("@edge-runtime/cookies")
  const { default: cookiePkg } = await import("cookie")
  const vendored = await import(new URL("./node_modules/@auth/core/lib/vendored/cookie.js", import.meta.url))
  const { SessionStore } = await import(new URL("./node_modules/@auth/core/lib/utils/cookie.js", import.meta.url))
  const quiet = { debug() {}, warn() {}, error() {} }
  const read = (parsed) => new SessionStore({ name: input.name, options: {} }, parsed, quiet).value || null
  const results = (input.headers ?? []).map((b64) => {
    let header
    try {
      header = new Headers({ cookie: Buffer.from(b64, "base64").toString("latin1") }).get("cookie") ?? ""
    } catch (e) {
      return { invalid: String(e?.message ?? e) }
    }
    const app = new RequestCookies(new Headers({ cookie: header }))
    return {
      authjs: read(vendored.parse(header)),
      pages: read(cookiePkg.parse(header)),
      app: read(Object.fromEntries(app.getAll().map((c) => [c.name, c.value]))),
    }
  })
  return { results }
}

// ---- main ---------------------------------------------------------------

async function main() {
  const command = process.argv[2]
  const input = readStdin()
  if (command === "schema") {
    return { postgres: schemaSQL("postgres"), sqlite: schemaSQL("sqlite") }
  }
  if (command === "cookies") return cookies(input)
  const handlers = { signin, session, signout }
  if (command !== "migrate" && !handlers[command]) {
    throw new Error(`usage: node authjs.mjs signin|session|signout|cookies|schema|migrate < input.json`)
  }
  const db = await openDatabase(input)
  try {
    if (command === "migrate") {
      await db.exec(schemaSQL(input.db))
      return { ok: true }
    }
    const logs = []
    const mailbox = []
    const config = buildConfig(input, db.adapter, logs, mailbox)
    const out = await handlers[command](input, { config, adapter: db.adapter, mailbox })
    out.logs = logs
    return out
  } finally {
    await db.close()
  }
}

try {
  const out = await main()
  process.stdout.write(JSON.stringify(out) + "\n")
} catch (e) {
  process.stderr.write(`${e?.stack ?? e}\n`)
  process.stdout.write(JSON.stringify({ error: String(e?.message ?? e) }) + "\n")
  process.exitCode = 1
}
