/** Test-only values shared by the spawned gateway, the sandbox and the tests. */
export const TEST_SECRETS = {
  internalApiToken: "miniapp-test-internal-token",
  adminToken: "miniapp-test-admin-token",
  /** The one Telegram user in the gateway's ADMIN_TELEGRAM_IDS. */
  adminTelegramId: 600_000_001,
  botToken: "123456:miniapp-test-bot-token",
  cardTokenKey: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
  atmosStoreId: "11054",
  atmosConsumerKey: "sandbox_consumer_key",
  atmosConsumerSecret: "sandbox_consumer_secret",
  atmosCallbackApiKey: "sandbox_callback_api_key",
} as const;
