import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createHttpTransport } from "../src/http-transport";

/**
 * The client's default transport (src/http-transport.ts): the part of fetch the client uses, with
 * each request's headers and body in one write, over kept-alive connections.
 */
let server: Server | undefined;
const sockets = new Set<import("node:net").Socket>();
afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
  server = undefined;
});

/** A raw TCP server: records the first chunk each connection delivers, answers per `reply`. */
async function rawServer(reply: (socket: import("node:net").Socket, chunk: string) => void) {
  const firstChunks: string[] = [];
  let connections = 0;
  server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on("data", (chunk) => {
      firstChunks.push(chunk.toString("utf8"));
      reply(socket, chunk.toString("utf8"));
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, firstChunks, connections: () => connections };
}

const OK = 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{"ok":true}';

describe("ATMOS HTTP transport", () => {
  it("sends headers and a Content-Length body in one write, and reads status, headers and text", async () => {
    const s = await rawServer((socket) => socket.write(OK));
    const transport = createHttpTransport();
    const body = JSON.stringify({ amount: 500000, account: "7000000000001" });
    const res = await transport(`${s.url}/merchant/pay/create`, {
      method: "POST",
      headers: { authorization: "Bearer t", "content-type": "application/json" },
      body,
      signal: AbortSignal.timeout(2_000),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.text()).toBe('{"ok":true}');
    // The whole request arrived in the server's first read: one write, not headers then body.
    expect(s.firstChunks[0]).toMatch(/^POST \/merchant\/pay\/create HTTP\/1\.1\r\n/);
    expect(s.firstChunks[0]).toMatch(new RegExp(`content-length: ${body.length}\\r\\n`, "i"));
    expect(s.firstChunks[0]).not.toMatch(/transfer-encoding/i);
    expect(s.firstChunks[0]!.endsWith(`\r\n\r\n${body}`)).toBe(true);
  });

  it("keeps the connection for the next request", async () => {
    const s = await rawServer((socket) => socket.write(OK));
    const transport = createHttpTransport();
    for (let i = 0; i < 3; i++) {
      const res = await transport(`${s.url}/x`, { method: "POST", body: "{}" });
      expect(await res.text()).toBe('{"ok":true}');
    }
    expect(s.connections()).toBe(1);
  });

  it("an answer that does not come rejects with the signal's TimeoutError", async () => {
    const s = await rawServer(() => {});
    const transport = createHttpTransport();
    const error = await transport(`${s.url}/x`, {
      method: "POST",
      body: "{}",
      signal: AbortSignal.timeout(100),
    }).catch((e: unknown) => e);
    expect((error as Error).name).toBe("TimeoutError");
  });

  it("an answer cut off after its headers rejects the text, not the response", async () => {
    const s = await rawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"par');
      setTimeout(() => socket.destroy(), 20);
    });
    const transport = createHttpTransport();
    const res = await transport(`${s.url}/x`, { method: "POST", body: "{}" });
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
  });

  it("a refused connection rejects with its code, which the client reads as not sent", async () => {
    const s = await rawServer(() => {});
    const url = s.url;
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    const error = await createHttpTransport()(`${url}/x`, { method: "POST", body: "{}" }).catch(
      (e: unknown) => e,
    );
    expect((error as { code?: string }).code).toBe("ECONNREFUSED");
  });
});
