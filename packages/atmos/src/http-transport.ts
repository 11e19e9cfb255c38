import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

/**
 * The client's default transport: the part of `fetch` the ATMOS client uses (method, headers, a
 * string body, an AbortSignal; status, `headers.get`, `text()`), over `node:http`/`node:https` with
 * keep-alive agents.
 *
 * Why not the global `fetch`: undici builds a WHATWG Request, Headers and a web stream for every
 * call and sends a string body as a chunked stream (headers, chunk and terminator in separate
 * writes): about a fifth of the renewals worker's CPU per charge (docs/benchmarks.md). Here a body
 * goes with its Content-Length, and headers and body leave in one write.
 *
 * Errors keep fetch's shape where the client reads them: an aborted signal rejects with the
 * signal's reason (a `TimeoutError` for `AbortSignal.timeout`), before or while the answer is read;
 * a connection error rejects with Node's error, whose `code` (ECONNREFUSED…) the client inspects.
 */
export function createHttpTransport(): typeof fetch {
  const agents = {
    "http:": new HttpAgent({ keepAlive: true }),
    "https:": new HttpsAgent({ keepAlive: true }),
  };
  const transport = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(typeof input === "string" || input instanceof URL ? input : input.url);
      if (url.protocol !== "http:" && url.protocol !== "https:") {
        reject(new TypeError(`unsupported protocol ${url.protocol}`));
        return;
      }
      const signal = init.signal ?? undefined;
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const body = init.body == null ? undefined : Buffer.from(init.body as string);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries((init.headers ?? {}) as Record<string, string>))
        headers[name.toLowerCase()] = value;
      if (body) headers["content-length"] = String(body.length);
      const send = url.protocol === "https:" ? httpsRequest : httpRequest;
      const req = send(url, { method: init.method ?? "GET", headers, agent: agents[url.protocol] });
      let answer: IncomingMessage | null = null;
      const onAbort = () => req.destroy(signal?.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      const done = () => signal?.removeEventListener("abort", onAbort);
      req.once("error", (error) => {
        done();
        if (!answer) reject(error);
      });
      req.once("response", (res: IncomingMessage) => {
        answer = res;
        const text = new Promise<string>((resolveText, rejectText) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.once("end", () => {
            done();
            resolveText(Buffer.concat(chunks).toString("utf8"));
          });
          res.once("error", (error) => {
            done();
            rejectText(signal?.aborted ? signal.reason : error);
          });
          res.once("close", () => {
            if (!res.complete) {
              done();
              rejectText(signal?.aborted ? signal.reason : new Error("the answer was cut off"));
            }
          });
        });
        // Read only by the client, after `status`: an unread answer must not become unhandled.
        text.catch(() => {});
        resolve({
          status: res.statusCode ?? 0,
          ok: (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300,
          headers: {
            get: (name: string) => {
              const value = res.headers[name.toLowerCase()];
              return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
            },
          },
          text: () => text,
          json: async () => JSON.parse(await text),
        } as unknown as Response);
      });
      req.end(body);
    });
  return transport as typeof fetch;
}
