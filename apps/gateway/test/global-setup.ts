import { prepareTestDatabase, testRedisUrl } from "@obuna/db/testing";
import { Redis } from "ioredis";
import { REDIS_DB_INDEX } from "./constants";

export default async function setup() {
  await prepareTestDatabase("gateway", { seed: true });
  const redis = new Redis(testRedisUrl(REDIS_DB_INDEX), { maxRetriesPerRequest: 1 });
  try {
    await redis.flushdb();
  } finally {
    redis.disconnect();
  }
}
