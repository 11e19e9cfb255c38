/** No card number, OTP, card token or access token reaches any log line (client and sandbox). */
import { Writable } from "node:stream";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { createAtmosClient } from "../src/index";
import { atmosLogger, redactForLog } from "../src/logging";
import { SANDBOX_CARDS, SANDBOX_OTP, startSandbox } from "../src/sandbox/index";
import { startCallbackReceiver } from "./callback-receiver";
import { atmosFailure, CREDENTIALS } from "./helpers";

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  return { lines, logger: pino({ level: "trace" }, stream) };
}

describe("redaction", () => {
  it("a full flow logs no PAN, OTP, card token or access token", async () => {
    const clientLogs = capture();
    const sandboxLogs = capture();
    const receiver = await startCallbackReceiver();
    const sandbox = await startSandbox({
      consumerKey: CREDENTIALS.consumerKey,
      consumerSecret: CREDENTIALS.consumerSecret,
      storeId: CREDENTIALS.storeId,
      callbackApiKey: CREDENTIALS.callbackApiKey,
      callbackUrl: receiver.url,
      reuseActiveToken: true,
      logger: sandboxLogs.logger,
    });
    try {
      const client = createAtmosClient({
        baseUrl: sandbox.url,
        consumerKey: CREDENTIALS.consumerKey,
        consumerSecret: CREDENTIALS.consumerSecret,
        storeId: CREDENTIALS.storeId,
        logger: clientLogs.logger,
        retry: { attempts: 2, baseDelayMs: 1 },
      });
      const { humo1, uzcard1, expired } = SANDBOX_CARDS;
      // card payment with SMS OTP, including a wrong OTP and a failing card
      const t = await client.createTransaction({ amount: 2_900_000, account: "42" });
      await client.preApplyCard({
        transactionId: t.transactionId,
        cardNumber: humo1.pan,
        expiry: humo1.expiry,
      });
      await atmosFailure(() => client.apply({ transactionId: t.transactionId, otp: "654321" }));
      await client.resendOtp(t.transactionId);
      await client.apply({ transactionId: t.transactionId, otp: SANDBOX_OTP });
      await client.getTransaction(t.transactionId);
      const t2 = await client.createTransaction({ amount: 100, account: "43" });
      await atmosFailure(() =>
        client.preApplyCard({
          transactionId: t2.transactionId,
          cardNumber: expired.pan,
          expiry: expired.expiry,
        }),
      );
      // bind, charge by token, lost answer, list, remove
      const init = await client.bindCardInit({ cardNumber: uzcard1.pan, expiry: uzcard1.expiry });
      if (init.status !== "otp_sent") throw new Error("unreachable");
      const card = await client.bindCardConfirm({ transactionId: init.transactionId, otp: SANDBOX_OTP });
      await client.bindCardInit({ cardNumber: uzcard1.pan, expiry: uzcard1.expiry }); // ERR-133 with the token
      await client.chargeCardToken(card.cardToken, 100, "44");
      sandbox.configure({ loseNextApply: 1 });
      await atmosFailure(() => client.chargeCardToken(card.cardToken, 100, "45"));
      await client.listCards();
      sandbox.expireTokens();
      await client.removeCard({ cardId: card.cardId, cardToken: card.cardToken });

      const token = await fetch(`${sandbox.url}/token`, {
        method: "POST",
        headers: {
          authorization: `Basic ${Buffer.from(`${CREDENTIALS.consumerKey}:${CREDENTIALS.consumerSecret}`).toString("base64")}`,
          "content-type": "application/x-www-form-urlencoded",
        },
        body: "grant_type=client_credentials",
      }).then((r) => r.json() as Promise<{ access_token: string }>);

      const all = [...clientLogs.lines, ...sandboxLogs.lines].join("\n");
      expect(clientLogs.lines.length).toBeGreaterThan(20);
      expect(sandboxLogs.lines.length).toBeGreaterThan(5);
      for (const secret of [
        humo1.pan,
        uzcard1.pan,
        expired.pan,
        SANDBOX_OTP,
        "654321",
        card.cardToken,
        token.access_token,
      ]) {
        expect(all).not.toContain(secret);
      }
      expect(all).not.toContain(CREDENTIALS.consumerSecret);
      expect(all).not.toContain(CREDENTIALS.callbackApiKey);
      expect(all).not.toMatch(/Bearer\s+\S/);
      expect(all).toContain("986009******4364"); // the mask is what we log instead
    } finally {
      await sandbox.close();
      await receiver.close();
    }
  });

  it("redactForLog masks PANs and replaces secrets at any depth", () => {
    const out = redactForLog({
      card_number: "9860090101014364",
      otp: "111111",
      nested: { card_token: "ABC", Authorization: "Bearer x", note: "paid with 8600490744313347" },
      list: [{ access_token: "t" }],
    });
    expect(out).toEqual({
      card_number: "986009******4364",
      otp: "[redacted]",
      nested: { card_token: "[redacted]", Authorization: "[redacted]", note: "paid with 860049******3347" },
      list: [{ access_token: "[redacted]" }],
    });
  });

  it("the client logger's pino redact paths also guard direct logging of secret fields", () => {
    const logs = capture();
    const log = atmosLogger(logs.logger);
    log.info(
      {
        card_token: "SECRET1",
        cardNumber: "9860090101014364",
        body: { otp: "999999" },
        access_token: "SECRET2",
      },
      "x",
    );
    log.info({ headers: { authorization: "Bearer SECRET3" } }, "y");
    expect(logs.lines).toHaveLength(2);
    expect(logs.lines.join("")).not.toMatch(/SECRET|999999|9860090101014364/);
  });
});
