import { prepareTestDatabase, testRedisUrl } from "@obuna/db/testing";
import { Redis } from "ioredis";

export const REDIS_INDEX = 4;

export default async function setup() {
  await prepareTestDatabase("renewals", { seed: true });
  // Redis index 4 belongs to this package: start from an empty one.
  const redis = new Redis(testRedisUrl(REDIS_INDEX));
  try {
    await redis.flushdb();
  } finally {
    redis.disconnect();
  }
}
