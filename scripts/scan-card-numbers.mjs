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
import { execFileSync } from "node:child_process";
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

/** Runs every requested scan; returns `{ scanned: string[], hits: {where, masked}[] }`. */
export async function scanForCardNumbers({ databaseUrl, redisUrl, logs = [] }) {
  const scanned = [];
  const hits = [];
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
  return { scanned, hits };
}

function parseArgs(argv) {
  const options = {
    databaseUrl: process.env.DATABASE_URL,
    redisUrl: process.env.REDIS_URL,
    logs: process.env.LOG_DIR ? [process.env.LOG_DIR] : [],
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--database-url") options.databaseUrl = argv[++i];
    else if (arg === "--redis-url") options.redisUrl = argv[++i];
    else if (arg === "--logs") options.logs.push(argv[++i]);
    else if (arg === "--no-database") options.databaseUrl = undefined;
    else if (arg === "--no-redis") options.redisUrl = undefined;
    else if (arg === "--help" || arg === "-h") {
      console.log(
        "usage: scan-card-numbers.mjs [--database-url URL] [--redis-url URL] [--logs PATH]... [--no-database] [--no-redis]",
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
    const { scanned, hits } = await scanForCardNumbers(options);
    for (const item of scanned) console.log(`scanned ${item}`);
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
