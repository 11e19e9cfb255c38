import { prepareTestDatabase, testRedisUrl } from "@obuna/db/testing";
import { Redis } from "ioredis";

/** The bot's own test database (obuna_test_bot) and Redis logical database 3, fresh for every run. */
export default async function setup() {
  await prepareTestDatabase("bot");
  const redis = new Redis(testRedisUrl(3));
  await redis.flushdb();
  redis.disconnect();
}
