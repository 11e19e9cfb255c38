#!/usr/bin/env node
// Scans a database (full `pg_dump`), a Redis database (every key: BullMQ job payloads, markers…) and
// log files for full card numbers: any run of exactly 16 digits that passes Luhn (the rule of
// `findCardNumbers` in packages/contracts/src/card.ts), and the same digits written in groups of four
// ("8600 1234 5678 9012", "8600-1234-…"). Exit 0: nothing found; 1: card numbers found (the report
// shows only where and the masked form, never the number); 2: the scan could not run.
//
//   node scripts/scan-card-numbers.mjs [--database-url URL] [--redis-url URL] [--logs PATH]...
//   (defaults: DATABASE_URL, REDIS_URL, and LOG_DIR if set; pass --no-database / --no-redis to skip one)
//
// pg_dump must be on PATH (postgresql-client); a dump that fails is an error, never a silent skip.
//
// It also tries what an attacker with the dump would: recover card numbers from every stored
// `idempotency_keys.request_hash` of a card-carrying endpoint (pre-apply). The stored response (or the
// user's payment session) gives the masked PAN, session and transaction id, so only the 6 hidden digits
// (10^5 Luhn-valid) × the expiry (156 months) are unknown. Each record is brute-forced, within a time
// budget, under the unkeyed sha256 the gateway used before issue 17, under HMAC with the published
// example IDEMPOTENCY_HASH_KEY and an empty key (the keyed scheme without the key), and under
// IDEMPOTENCY_HASH_KEY from the environment when set (a leaked key: card numbers are masked before
// hashing, so even that must recover nothing). A recovered number counts as a card number found.
//   --recover-budget-ms N   time per record (default 5000)   --recover-records N   newest N (default 25)
//   --no-recover            skip the recovery attempt
import { execFileSync } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const PLAIN = /(?<!\d)\d{16}(?!\d)/g;
const GROUPED = /(?<!\d)(?<!\d[ -])\d{4}([ -])\d{4}\1\d{4}\1\d{4}(?![\d])/g;

export function passesLuhn(digits) {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let digit = digits.charCodeAt(i) - 48;
    if (double) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double = !double;
  }
  return sum % 10 === 0;
}

/** Every 16-digit Luhn-valid number in `text` (plain or in groups of four). */
export function findCardNumbers(text) {
  const hits = [];
  for (const match of text.matchAll(PLAIN)) if (passesLuhn(match[0])) hits.push(match[0]);
  for (const match of text.matchAll(GROUPED)) {
    const digits = match[0].replace(/\D/g, "");
    if (passesLuhn(digits)) hits.push(digits);
  }
  return hits;
}

const mask = (pan) => `${pan.slice(0, 6)}******${pan.slice(-4)}`;

/** Full `pg_dump` (schema + data) of one database, as text. Throws when pg_dump fails. */
export function dumpDatabase(databaseUrl) {
  return execFileSync("pg_dump", ["--no-owner", "--no-privileges", databaseUrl], {
    encoding: "utf8",
    maxBuffer: 1024 * 1024 * 1024,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

function loadRedis() {
  // The root has no ioredis of its own; the apps do (same pinned version).
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  const require = createRequire(join(root, "apps", "gateway", "package.json"));
  return require("ioredis").Redis;
}

/** Every key of one Redis database with its value(s) as text: `[key, text][]`. */
export async function dumpRedis(redisUrl) {
  const Redis = loadRedis();
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  await redis.connect();
  const out = [];
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "COUNT", 1000);
      cursor = next;
      for (const key of keys) {
        const type = await redis.type(key);
        let value;
        if (type === "string") value = await redis.get(key);
        else if (type === "hash") value = JSON.stringify(await redis.hgetall(key));
        else if (type === "list") value = JSON.stringify(await redis.lrange(key, 0, -1));
        else if (type === "set") value = JSON.stringify(await redis.smembers(key));
        else if (type === "zset") value = JSON.stringify(await redis.zrange(key, 0, -1, "WITHSCORES"));
        else if (type === "stream") value = JSON.stringify(await redis.xrange(key, "-", "+"));
        else value = "";
        out.push([key, `${key}\n${value ?? ""}`]);
      }
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
  return out;
}

function logFiles(path) {
  const stat = statSync(path);
  if (stat.isFile()) return [path];
  return readdirSync(path, { recursive: true })
    .map((name) => join(path, String(name)))
    .filter((file) => statSync(file).isFile());
}

/** The published example IDEMPOTENCY_HASH_KEY (.env.example; packages/contracts/src/env.ts). */
const EXAMPLE_IDEMPOTENCY_HASH_KEY = "dev-idempotency-hash-key-change-me-0123456789";
/** Endpoints whose request body carries a card number and an expiry. */
const CARD_ENDPOINTS = new Set(["POST /api/v1/atmos/pre-apply"]);
const MASKED_PAN = /\b(\d{6})\*{6}(\d{4})\b/;

/** Decodes one field of pg_dump's COPY text format. */
function copyField(text) {
  if (text === "\\N") return null;
  return text.replace(/\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|(.))/g, (_, octal, hex, char) => {
    if (octal) return String.fromCharCode(Number.parseInt(octal, 8));
    if (hex) return String.fromCharCode(Number.parseInt(hex, 16));
    return { b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v" }[char] ?? char;
  });
}

/** The rows of `public.<table>` in a pg_dump, as objects keyed by column name. */
export function copyRows(dump, table) {
  const header = new RegExp(`^COPY public\\.${table} \\(([^)]*)\\) FROM stdin;$`, "m");
  const match = header.exec(dump);
  if (!match) return [];
  const columns = match[1].split(", ").map((c) => c.replace(/^"|"$/g, ""));
  const rows = [];
  let start = match.index + match[0].length + 1;
  for (;;) {
    const end = dump.indexOf("\n", start);
    const line = dump.slice(start, end === -1 ? undefined : end);
    if (line === "\\." || end === -1) break;
    const fields = line.split("\t").map(copyField);
    rows.push(Object.fromEntries(columns.map((c, i) => [c, fields[i]])));
    start = end + 1;
  }
  return rows;
}

/** Every 16-digit Luhn-valid number `prefix6 + ?????? + last4`: 10^5 of them. */
function luhnMiddles(prefix, last4) {
  const out = [];
  for (let m = 0; m < 1_000_000; m++) {
    const middle = String(m).padStart(6, "0");
    if (passesLuhn(prefix + middle + last4)) out.push(middle);
  }
  return out;
}

/** 156 expiry months from the record's month on (a card that pays has not expired), as [MM, YY]. */
function expiryMonths(from) {
  const out = [];
  for (let i = 0; i < 156; i++) {
    const d = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + i, 1));
    out.push([
      String(d.getUTCMonth() + 1).padStart(2, "0"),
      String(d.getUTCFullYear() % 100).padStart(2, "0"),
    ]);
  }
  return out;
}

/** The hashing schemes an attacker tries: the old unkeyed one, and HMAC with keys they can guess. */
function attackerSchemes(leakedKey) {
  const schemes = [
    {
      name: "sha256, unkeyed (the scheme before issue 17)",
      hash: (t) => createHash("sha256").update(t).digest("hex"),
    },
    {
      name: "HMAC with the published example IDEMPOTENCY_HASH_KEY",
      hash: (t) => createHmac("sha256", EXAMPLE_IDEMPOTENCY_HASH_KEY).update(t).digest("hex"),
    },
    { name: "HMAC with an empty key", hash: (t) => createHmac("sha256", "").update(t).digest("hex") },
  ];
  if (leakedKey && leakedKey !== EXAMPLE_IDEMPOTENCY_HASH_KEY) {
    schemes.push({
      name: "HMAC with the IDEMPOTENCY_HASH_KEY of this environment (a leaked key)",
      hash: (t) => createHmac("sha256", leakedKey).update(t).digest("hex"),
    });
  }
  return schemes;
}

/**
 * Brute-forces card numbers out of the stored request hashes of card-carrying endpoints, the way an
 * attacker holding this dump would. Returns `{ records, recovered: {where, masked, scheme}[], notes }`.
 */
export function recoverFromIdempotencyHashes(dump, { budgetMs = 5000, maxRecords = 25, leakedKey } = {}) {
  const users = new Map(copyRows(dump, "users").map((u) => [u.id, u.telegram_id]));
  const sessionsByTelegramId = new Map();
  for (const s of copyRows(dump, "payment_sessions")) {
    // external_id since the provider-neutral columns (migration 0013); transaction_id in older dumps.
    const transactionId = s.external_id ?? s.transaction_id;
    if (!s.card_masked || !transactionId) continue;
    const tg = users.get(s.user_id);
    if (!sessionsByTelegramId.has(tg)) sessionsByTelegramId.set(tg, []);
    sessionsByTelegramId
      .get(tg)
      .push({ session_id: s.id, transaction_id: Number(transactionId), masked: s.card_masked });
  }
  const knownExpiries = new Map();
  for (const card of copyRows(dump, "bound_cards")) {
    if (!/^\d{4}$/.test(card.expiry ?? "")) continue;
    if (!knownExpiries.has(card.pan_masked)) knownExpiries.set(card.pan_masked, new Set());
    knownExpiries.get(card.pan_masked).add(card.expiry);
  }
  const records = copyRows(dump, "idempotency_keys")
    .filter((r) => CARD_ENDPOINTS.has(r.endpoint) && /^[0-9a-f]{64}$/.test(r.request_hash ?? ""))
    .sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
  const schemes = attackerSchemes(leakedKey);
  const recovered = [];
  const notes = [];
  const middlesCache = new Map();
  for (const record of records.slice(0, maxRecords)) {
    const where = `idempotency_keys.request_hash of ${record.scope} key ${record.key}`;
    // What the attacker reads next to the hash: the stored answer, else the caller's payment sessions.
    const targets = [];
    try {
      const data = JSON.parse(record.response_body ?? "null")?.data;
      const masked = MASKED_PAN.exec(JSON.stringify(data ?? ""))?.[0];
      if (data?.session_id && data?.transaction_id && masked) {
        targets.push({ session_id: data.session_id, transaction_id: data.transaction_id, masked });
      }
    } catch {}
    const tg = /^tg:(\d+)$/.exec(record.scope)?.[1];
    for (const s of sessionsByTelegramId.get(tg) ?? []) {
      if (MASKED_PAN.test(s.masked) && !targets.some((t) => t.session_id === s.session_id)) targets.push(s);
    }
    if (targets.length === 0) {
      notes.push(`${where}: no masked card number beside it to start from`);
      continue;
    }
    const deadline = Date.now() + budgetMs;
    const createdAt = new Date(record.created_at ?? Date.now());
    let tried = 0;
    let found = null;
    let complete = true;
    search: for (const target of targets) {
      const [, prefix, last4] = MASKED_PAN.exec(target.masked);
      const key = prefix + last4;
      if (!middlesCache.has(key)) middlesCache.set(key, luhnMiddles(prefix, last4));
      const middles = middlesCache.get(key);
      // Known expiries (a bound card's YYMM) with every scheme first; then the old unkeyed scheme with
      // MM/YY (what the Mini App sends) over every month from the record's on; then the rest.
      const known = [...(knownExpiries.get(target.masked) ?? [])].map((yymm) => [
        yymm.slice(2),
        yymm.slice(0, 2),
      ]);
      const formats = ([mm, yy]) => [`${mm}/${yy}`, `${yy}${mm}`];
      const plans = [];
      for (const month of known) {
        for (const expiry of formats(month)) for (const scheme of schemes) plans.push({ expiry, scheme });
      }
      const months = expiryMonths(createdAt);
      for (const [mm, yy] of months) plans.push({ expiry: `${mm}/${yy}`, scheme: schemes[0] });
      for (const month of months) {
        for (const [index, expiry] of formats(month).entries()) {
          for (const scheme of schemes.slice(index === 0 ? 1 : 0)) plans.push({ expiry, scheme });
        }
      }
      for (const { expiry, scheme } of plans) {
        if (Date.now() > deadline) {
          complete = false;
          break search;
        }
        const head = `${record.endpoint}\n{"session_id":${JSON.stringify(target.session_id)},"transaction_id":${target.transaction_id},"card_number":"${prefix}`;
        const tail = `${last4}","expiry":"${expiry}"}`;
        for (const middle of middles) {
          tried++;
          if (scheme.hash(head + middle + tail) === record.request_hash) {
            found = { masked: target.masked, scheme: scheme.name };
            break search;
          }
        }
      }
    }
    if (found) recovered.push({ where, masked: found.masked, scheme: found.scheme });
    else {
      notes.push(
        `${where}: not recovered (${tried} candidates, ${complete ? "every candidate tried" : `time budget of ${budgetMs} ms reached`})`,
      );
    }
  }
  if (records.length > maxRecords)
    notes.push(`${records.length - maxRecords} older card-carrying records not tried`);
  return { records: records.length, recovered, notes };
}

/** Runs every requested scan; returns `{ scanned: string[], hits: {where, masked}[], notes: string[] }`. */
export async function scanForCardNumbers({ databaseUrl, redisUrl, logs = [], recover = {} }) {
  const scanned = [];
  const hits = [];
  const notes = [];
  const record = (where, text) => {
    for (const pan of findCardNumbers(text)) hits.push({ where, masked: mask(pan) });
  };
  if (databaseUrl) {
    const dump = dumpDatabase(databaseUrl);
    scanned.push(`pg_dump ${new URL(databaseUrl).pathname.slice(1)} (${dump.length} bytes)`);
    const lines = dump.split("\n");
    lines.forEach((line, index) => {
      if (/\d{4}/.test(line)) record(`pg_dump line ${index + 1}`, line);
    });
    if (recover !== false) {
      const attempt = recoverFromIdempotencyHashes(dump, recover);
      scanned.push(
        `idempotency request hashes (${attempt.records} card-carrying records, ${attempt.recovered.length} recovered)`,
      );
      for (const r of attempt.recovered)
        hits.push({ where: `${r.where} (recovered: ${r.scheme})`, masked: r.masked });
      notes.push(...attempt.notes);
    }
  }
  if (redisUrl) {
    const keys = await dumpRedis(redisUrl);
    scanned.push(`redis ${new URL(redisUrl).pathname || "/0"} (${keys.length} keys)`);
    for (const [key, text] of keys) record(`redis key ${key}`, text);
  }
  for (const path of logs) {
    for (const file of logFiles(path)) {
      const text = readFileSync(file, "utf8");
      scanned.push(`log ${file} (${text.length} bytes)`);
      record(`log ${file}`, text);
    }
  }
  return { scanned, hits, notes };
}

function parseArgs(argv) {
  const options = {
    databaseUrl: process.env.DATABASE_URL,
    redisUrl: process.env.REDIS_URL,
    logs: process.env.LOG_DIR ? [process.env.LOG_DIR] : [],
    recover: { budgetMs: 5000, maxRecords: 25, leakedKey: process.env.IDEMPOTENCY_HASH_KEY || undefined },
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--database-url") options.databaseUrl = argv[++i];
    else if (arg === "--redis-url") options.redisUrl = argv[++i];
    else if (arg === "--logs") options.logs.push(argv[++i]);
    else if (arg === "--no-database") options.databaseUrl = undefined;
    else if (arg === "--no-redis") options.redisUrl = undefined;
    else if (arg === "--no-recover") options.recover = false;
    else if (arg === "--recover-budget-ms") options.recover.budgetMs = Number(argv[++i]);
    else if (arg === "--recover-records") options.recover.maxRecords = Number(argv[++i]);
    else if (arg === "--help" || arg === "-h") {
      console.log(
        "usage: scan-card-numbers.mjs [--database-url URL] [--redis-url URL] [--logs PATH]... [--no-database] [--no-redis]\n" +
          "       [--recover-budget-ms N] [--recover-records N] [--no-recover]",
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}`);
  }
  return options;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const options = parseArgs(process.argv.slice(2));
    if (!options.databaseUrl && !options.redisUrl && options.logs.length === 0) {
      throw new Error(
        "nothing to scan: give --database-url, --redis-url or --logs (or DATABASE_URL/REDIS_URL/LOG_DIR)",
      );
    }
    const { scanned, hits, notes } = await scanForCardNumbers(options);
    for (const item of scanned) console.log(`scanned ${item}`);
    for (const note of notes) console.log(`  ${note}`);
    if (hits.length > 0) {
      for (const hit of hits) console.log(`CARD NUMBER ${hit.masked} in ${hit.where}`);
      console.log(`${hits.length} card number(s) found`);
      process.exit(1);
    }
    console.log("0 card numbers found");
  } catch (error) {
    console.error(`scan failed: ${error?.message ?? error}`);
    process.exit(2);
  }
}
