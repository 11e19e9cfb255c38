// The receiver's side of signed events: the verifier checked against HMACs computed by another
// implementation (openssl, and the fixed vector in docs/integration.md), and the webhook handler the
// host mounts (verify → invalidate → onEvent, dedupe by event id).
import { execFileSync } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { signObunaEvent } from "@obuna/contracts/events";
import { describe, expect, it } from "vitest";
import { obunaEventsHandler, toNodeListener, verifyObunaEvent } from "../src/events";

const SECRET = "dev-events-signing-secret-change-me";
const T = 1_767_225_600; // 2026-01-01T00:00:00Z
const AT_T = new Date(T * 1000);

/** The example of docs/integration.md "Signed events", byte for byte. */
const DOCS_BODY =
  '{"id":"0b7c5a9e-3f7e-4c55-9a55-2f1f6f0d7a41","type":"premium.started","created_at":"2026-01-01T00:00:00.000Z","telegram_id":5100001,"subscription":{"id":42,"plan":"monthly","status":"active","active":true,"until":"2026-01-31T00:00:00.000Z","auto_renew":true,"rail":"card"}}';
const DOCS_SIGNATURE = `t=${T},v1=aca07b98744eb83de4752e3224606b54cf2a5a0dfd373e453b03c1e1937564f7`;

/** HMAC-SHA256 by openssl, not by our code. */
function opensslHmac(secret: string, message: string): string {
  const out = execFileSync("openssl", ["dgst", "-sha256", "-hmac", secret], { input: message }).toString();
  return out.trim().split("= ").pop()!;
}

describe("verifyObunaEvent", () => {
  it("accepts a signature openssl computed over `<t>.<raw body>`", () => {
    const body = DOCS_BODY.replace("5100001", "5100002");
    const header = `t=${T},v1=${opensslHmac(SECRET, `${T}.${body}`)}`;
    expect(verifyObunaEvent(body, header, SECRET, { now: AT_T })).toMatchObject({
      type: "premium.started",
      telegram_id: 5_100_002,
    });
    // Our signer agrees with openssl.
    expect(signObunaEvent(body, SECRET, AT_T)).toBe(header);
  });

  it("accepts the fixed vector of docs/integration.md", () => {
    expect(verifyObunaEvent(DOCS_BODY, DOCS_SIGNATURE, SECRET, { now: AT_T }).id).toBe(
      "0b7c5a9e-3f7e-4c55-9a55-2f1f6f0d7a41",
    );
  });

  it("refuses a tampered body, another secret, an old or future timestamp, a missing or malformed header", () => {
    const refusal = (body: string, header: string | null, secret = SECRET, now = AT_T) => {
      try {
        verifyObunaEvent(body, header, secret, { now, toleranceS: 300 });
        return "accepted";
      } catch (error) {
        return (error as { reason?: string }).reason ?? String(error);
      }
    };
    expect(refusal(DOCS_BODY, DOCS_SIGNATURE)).toBe("accepted");
    expect(refusal(DOCS_BODY.replace('"monthly"', '"yearly"'), DOCS_SIGNATURE)).toBe("bad_signature");
    expect(refusal(`${DOCS_BODY} `, DOCS_SIGNATURE)).toBe("bad_signature");
    expect(refusal(DOCS_BODY, DOCS_SIGNATURE, "another-secret-0123456789")).toBe("bad_signature");
    // The same signature with another timestamp does not match either.
    expect(refusal(DOCS_BODY, DOCS_SIGNATURE.replace(`t=${T}`, `t=${T + 1}`))).toBe("bad_signature");
    // A genuine request replayed after the tolerance (300 s) is refused; so is one from the future.
    expect(refusal(DOCS_BODY, DOCS_SIGNATURE, SECRET, new Date((T + 300) * 1000))).toBe("accepted");
    expect(refusal(DOCS_BODY, DOCS_SIGNATURE, SECRET, new Date((T + 301) * 1000))).toBe(
      "timestamp_out_of_tolerance",
    );
    expect(refusal(DOCS_BODY, DOCS_SIGNATURE, SECRET, new Date((T - 301) * 1000))).toBe(
      "timestamp_out_of_tolerance",
    );
    expect(refusal(DOCS_BODY, null)).toBe("missing_signature");
    expect(refusal(DOCS_BODY, `t=${T}`)).toBe("malformed_signature");
    expect(refusal(DOCS_BODY, "v1=abc")).toBe("malformed_signature");
    // A signed body that is not an event.
    const notEvent = "[1,2]";
    expect(refusal(notEvent, signObunaEvent(notEvent, SECRET, AT_T))).toBe("malformed_body");
  });

  it("accepts any one of several v1 signatures (a secret being rotated)", () => {
    const header = `t=${T},v1=${"0".repeat(64)},v1=${opensslHmac(SECRET, `${T}.${DOCS_BODY}`)}`;
    expect(verifyObunaEvent(DOCS_BODY, header, SECRET, { now: AT_T }).type).toBe("premium.started");
  });
});

describe("obunaEventsHandler (what the host mounts)", () => {
  function setup(onEvent?: (event: unknown) => void) {
    const invalidated: number[] = [];
    const handled: string[] = [];
    const handler = obunaEventsHandler(
      { invalidate: (id) => invalidated.push(id) },
      {
        secret: SECRET,
        clock: () => AT_T,
        onEvent: (event) => {
          onEvent?.(event);
          handled.push(event.id);
        },
      },
    );
    const post = (body: string, signature: string | null) =>
      handler(
        new Request("http://host/obuna/events", {
          method: "POST",
          headers: signature ? { "obuna-signature": signature } : {},
          body,
        }),
      );
    return { invalidated, handled, handler, post };
  }

  it("verifies, invalidates the user's cached premium, calls onEvent once per event id", async () => {
    const { invalidated, handled, post } = setup();
    const first = await post(DOCS_BODY, DOCS_SIGNATURE);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ received: true });
    const again = await post(DOCS_BODY, DOCS_SIGNATURE);
    expect(await again.json()).toEqual({ received: true, duplicate: true });
    expect(invalidated).toEqual([5_100_001, 5_100_001]);
    expect(handled).toEqual(["0b7c5a9e-3f7e-4c55-9a55-2f1f6f0d7a41"]);
  });

  it("a bad signature is 400 and touches nothing; a failing onEvent is 500 and is acted on when retried", async () => {
    const { invalidated, handled, post } = setup();
    const tampered = await post(DOCS_BODY.replace("true", "false"), DOCS_SIGNATURE);
    expect(tampered.status).toBe(400);
    expect(await tampered.json()).toEqual({ error: "bad_signature" });
    expect((await post(DOCS_BODY, null)).status).toBe(400);
    expect(invalidated).toEqual([]);

    let fail = true;
    const flaky = setup(() => {
      if (fail) throw new Error("db down");
    });
    expect((await flaky.post(DOCS_BODY, DOCS_SIGNATURE)).status).toBe(500);
    fail = false;
    expect((await flaky.post(DOCS_BODY, DOCS_SIGNATURE)).status).toBe(200);
    expect(flaky.handled).toHaveLength(1);
    expect(handled).toEqual([]);
  });

  it("toNodeListener: mounted on node:http, the raw body reaches the check unchanged", async () => {
    const { handler, handled } = setup();
    const server = createServer(toNodeListener(handler));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/obuna/events`;
      const ok = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "obuna-signature": DOCS_SIGNATURE },
        body: DOCS_BODY,
      });
      expect(ok.status).toBe(200);
      expect((await fetch(url)).status).toBe(405);
      expect(handled).toHaveLength(1);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
