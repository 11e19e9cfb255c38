import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { createErrorReporter, noopErrorReporter } from "../src/error-reporting";

describe("optional Sentry error reporting", () => {
  it("is a no-op without a DSN", async () => {
    expect(await createErrorReporter({ dsn: undefined, app: "test" })).toBe(noopErrorReporter);
  });

  it("sends captured errors to the DSN with card numbers masked", async () => {
    const bodies: string[] = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => {
        body += chunk;
      });
      req.on("end", () => {
        bodies.push(body);
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const reporter = await createErrorReporter({
        dsn: `http://publickey@127.0.0.1:${port}/42`,
        app: "gateway",
        environment: "test",
      });
      expect(reporter.enabled).toBe(true);
      reporter.capture(new Error("ATMOS said no for card 9860090101014364"), { sessionId: "abc" });
      await reporter.flush(5000);
      const sent = bodies.join("\n");
      expect(sent).toContain("ATMOS said no for card 986009******4364");
      expect(sent).toContain('"sessionId":"abc"');
      expect(sent).not.toContain("9860090101014364");
    } finally {
      server.close();
    }
  });
});
