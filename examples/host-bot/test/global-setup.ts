import { prepareTestDatabase, testRedisUrl } from "@obuna/db/testing";
import { Redis } from "ioredis";

/** The example's own test database (obuna_test_host) and Redis logical database 8, fresh every run. */
export const REDIS_INDEX = 8;

export default async function setup() {
  await prepareTestDatabase("host");
  const redis = new Redis(testRedisUrl(REDIS_INDEX));
  await redis.flushdb();
  redis.disconnect();
}
