// The body limit over a real socket: a declared Content-Length is judged by the header, a chunked
// body is counted while it is read. Either way an oversized body is a 413 in the error envelope and
// writes nothing.
import { request } from "node:http";
import { users } from "@obuna/db/schema";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, internalAuth, type Json, randomTelegramId, startHarness } from "./harness";

const LIMIT = 2_048;
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ bodyLimitBytes: LIMIT });
});
afterAll(async () => {
  await h?.close();
});

/** POSTs create-link over HTTP/1.1, either with Content-Length or as chunks of `chunkSize`. */
function post(body: string, framing: "content-length" | "chunked", chunkSize = 512) {
  return new Promise<{ status: number; body: Json }>((resolve, reject) => {
    const bytes = Buffer.from(body);
    const req = request(`${h.baseUrl}/api/v1/payment/create-link`, {
      method: "POST",
      headers: {
        authorization: internalAuth,
        "content-type": "application/json",
        ...(framing === "content-length" ? { "content-length": String(bytes.length) } : {}),
      },
    });
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }),
      );
    });
    // The server may answer 413 before it reads the rest, and then close the socket under us.
    req.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE" && error.code !== "ECONNRESET") reject(error);
    });
    if (framing === "content-length") req.end(bytes);
    else {
      for (let i = 0; i < bytes.length; i += chunkSize) req.write(bytes.subarray(i, i + chunkSize));
      req.end();
    }
  });
}

function linkBody(telegramId: number, firstNameLength: number) {
  return JSON.stringify({
    telegram_id: telegramId,
    plan_slug: "monthly",
    first_name: "x".repeat(firstNameLength),
  });
}

async function userExists(telegramId: number) {
  const rows = await h.db.db.select().from(users).where(eq(users.telegramId, telegramId));
  return rows.length > 0;
}

describe.each(["content-length", "chunked"] as const)("body limit with %s framing", (framing) => {
  it("accepts a body under the limit", async () => {
    const telegramId = randomTelegramId();
    const res = await post(linkBody(telegramId, 40), framing);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.success).toBe(true);
    expect(await userExists(telegramId)).toBe(true);
  });

  it("refuses a body over the limit with 413 PAYLOAD_TOO_LARGE and writes nothing", async () => {
    const telegramId = randomTelegramId();
    const res = await post(linkBody(telegramId, LIMIT), framing);
    expect(res.status).toBe(413);
    expect(res.body.success).toBe(false);
    expect(res.body.error.code).toBe("PAYLOAD_TOO_LARGE");
    expect(await userExists(telegramId)).toBe(false);
  });
});
