export { type AtmosChargeReading, createChargeReader } from "./charge-reader";
export { type AtmosClientConfig, createAtmosClient } from "./client";
export {
  ATMOS_ERROR_KINDS,
  AtmosError,
  type AtmosErrorInit,
  type AtmosErrorKind,
  isAtmosError,
} from "./errors";
export { createHttpTransport } from "./http-transport";
export type {
  AtmosBoundCard,
  AtmosCardSummary,
  AtmosClient,
  AtmosLanguage,
  AtmosOfdItem,
  AtmosTransaction,
  BindCardInitResult,
} from "./interface";
export { TOKEN_PAYMENT_OTP } from "./interface";
export { REDACT_PATHS, redactForLog } from "./logging";
export { describeResultCode, RESULT_CODES, type ResultCodeInfo } from "./result-codes";
export {
  type CallbackHash,
  type CallbackSignFields,
  receivedCallbackValues,
  signCallback,
  verifyCallbackSignature,
} from "./signature";
