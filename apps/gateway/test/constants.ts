/** The Redis logical database assigned to the gateway's tests. */
export const REDIS_DB_INDEX = 2;
export const BOT_TOKEN = "123456:gateway-test-bot-token";
export const INTERNAL_TOKEN = "gateway-test-internal-token";
export const METRICS_TOKEN = "gateway-test-metrics-token-0123456789";
export const CALLBACK_API_KEY = "gateway_test_callback_key";
export const STORE_ID = "11054";
export const CARD_TOKEN_KEY_HEX = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
export const IDEMPOTENCY_HASH_KEY = "gateway-test-idempotency-hash-key-0123456789";
