// The practical limit for the gateway bench: a bare Hono + postgres.js server doing the same work as
// the two measured endpoints, with nothing else (no validation, logging, metrics, error envelope).
//   GET  /session/:id   — what GET /api/v1/payment/session/{id} does for a Mini App user: verify the
//                          caller's Telegram initData (`Authorization: tma <initData>`) with the same
//                          library as the gateway (@tma.js/init-data-node `validate` + `parse`, with
//                          the gateway's default max age), read the session joined to its user and
//                          plan, and answer 404 unless the caller owns it
//   POST /create-link   — the same writes as POST /api/v1/payment/create-link, in the same one
//                          statement (upsert the user, insert the session)
//   POST /create-link-async — the same, committed asynchronously as the gateway's create-link is
// Usage: node bench/lib/bare-gateway.mjs <port>   (DATABASE_URL and BOT_TOKEN in the environment)
import { requireFrom } from "./common.mjs";

const require = requireFrom("apps/gateway");
const { Hono } = require("hono");
const { serve } = require("@hono/node-server");
const postgres = requireFrom("packages/db")("postgres");
const { validate, parse } = requireFrom("packages/contracts")("@tma.js/init-data-node");

const BOT_TOKEN = process.env.BOT_TOKEN;
/** The gateway's TMA_INIT_DATA_MAX_AGE_S default. */
const INIT_DATA_MAX_AGE_S = Number(process.env.TMA_INIT_DATA_MAX_AGE_S ?? 86_400);

const sql = postgres(process.env.DATABASE_URL, { max: 10, prepare: true, onnotice: () => {} });
const [plan] = await sql`select id, price from plans where slug = 'monthly'`;
const app = new Hono();

app.get("/session/:id", async (c) => {
  const header = c.req.header("authorization") ?? "";
  if (!header.startsWith("tma ")) return c.json({ success: false }, 401);
  const initData = header.slice(4);
  let telegramId;
  try {
    validate(initData, BOT_TOKEN, { expiresIn: INIT_DATA_MAX_AGE_S });
    telegramId = parse(initData).user?.id;
  } catch {
    return c.json({ success: false }, 401);
  }
  if (!telegramId) return c.json({ success: false }, 401);
  const [row] = await sql`
    select s.*, u.telegram_id, u.language_code, p.slug, p.price, p.duration_days, p.name_uz
    from payment_sessions s join users u on u.id = s.user_id join plans p on p.id = s.plan_id
    where s.id = ${c.req.param("id")}`;
  // Another user's session answers like a missing one.
  if (!row || Number(row.telegram_id) !== telegramId) return c.json({ success: false }, 404);
  return c.json({ success: true, data: row });
});

// POST /create-link commits as Postgres does by default (waits for its WAL flush); the gateway's
// create-link commits asynchronously (createSessionForTelegramUser), so POST /create-link-async does
// the same, for the bench's second create-link ratio.
const createLink = (asyncCommit) => async (c) => {
  const body = await c.req.json();
  const now = new Date();
  // The same single statement as the gateway's createSessionForTelegramUser: upsert + insert.
  const [session] = await sql`
    with upserted_user as (
      insert into users (telegram_id, username, first_name, language_code)
      values (${body.telegram_id}, ${body.username ?? null}, ${body.first_name ?? null}, ${body.language_code ?? null})
      on conflict (telegram_id) do update set
        username = coalesce(excluded.username, users.username),
        first_name = coalesce(excluded.first_name, users.first_name),
        language_code = coalesce(excluded.language_code, users.language_code),
        updated_at = now()
      returning id
    )${asyncCommit ? sql`, commit_mode as (select set_config('synchronous_commit', 'off', true))` : sql``}
    insert into payment_sessions (user_id, plan_id, amount, expires_at, created_at, updated_at)
    select id, ${plan.id}, ${plan.price}, ${new Date(now.getTime() + 30 * 60_000)}, ${now}, ${now}
    from upserted_user${asyncCommit ? sql` cross join commit_mode` : sql``}
    returning id, expires_at`;
  return c.json({ success: true, data: { session_id: session.id, expires_at: session.expires_at } });
};
app.post("/create-link", createLink(false));
app.post("/create-link-async", createLink(true));

app.get("/healthz", (c) => c.text("ok"));
serve({ fetch: app.fetch, port: Number(process.argv[2]), hostname: "127.0.0.1" });
process.on("SIGTERM", async () => {
  await sql.end({ timeout: 2 });
  process.exit(0);
});
