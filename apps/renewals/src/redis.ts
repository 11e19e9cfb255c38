import type { ConnectionOptions } from "bullmq";

/**
 * BullMQ connection options from a redis:// URL. Workers need `maxRetriesPerRequest: null` (they
 * block on Redis); queues used by producers keep ioredis's default so a Redis outage surfaces.
 */
export function redisConnection(url: string, role: "worker" | "producer"): ConnectionOptions {
  const u = new URL(url);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  return {
    host: u.hostname || "127.0.0.1",
    port: u.port ? Number(u.port) : 6379,
    db,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    tls: u.protocol === "rediss:" ? {} : undefined,
    maxRetriesPerRequest: role === "worker" ? null : 20,
  };
}
