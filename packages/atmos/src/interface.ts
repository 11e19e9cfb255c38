/**
 * The port the apps depend on. `createAtmosClient(config)` returns one; the same code talks to the
 * local sandbox and to the real ATMOS host — only `baseUrl` and credentials differ.
 * Amounts are integer tiyin. Every method throws `AtmosError` on failure.
 */

export type AtmosLanguage = "uz" | "ru" | "en";

/** What we know of a merchant transaction (from create / apply / get). */
export interface AtmosTransaction {
  transactionId: number;
  /** Set once the payment is confirmed; needed for reverse. */
  successTransId: number | null;
  account: string | null;
  /** tiyin */
  amount: number | null;
  confirmed: boolean;
  /**
   * Our reading of the ATMOS state:
   * created → pre_applied → confirmed → reversed; `closed` = finished without payment (cancelled/expired).
   */
  state: "created" | "pre_applied" | "confirmed" | "reversed" | "closed";
  /** ATMOS card id or masked card from store_transaction, when given. */
  cardId: string | null;
  statusCode: string | null;
  statusMessage: string | null;
  /** Fiscal receipt link (`ofd_url`): from the apply answer, and from `get` when ATMOS includes it ([U]). */
  ofdUrl: string | null;
  /** ms since epoch, when given */
  confirmTime: number | null;
}

/**
 * One line of the fiscal receipt (OFD) sent with the charge (`ofd_items`, atmos-api.md §3.3).
 * The receipt is issued by ATMOS through the tax committee's OFD; its link comes back as `ofd_url`.
 */
export interface AtmosOfdItem {
  /** IKPU/MXIK code of the goods/service from the tax classifier (tasnif.soliq.uz): 17 digits. */
  ofdCode: string;
  /** Line text printed on the receipt. */
  name: string;
  /** tiyin: the line total (we always send quantity 1); the lines sum to the transaction amount. */
  amount: number;
  quantity: number;
  /** Package (unit) code from the same classifier; field name `package_code` is [U]. */
  packageCode?: string;
  /** VAT rate in percent (0 = without VAT); field name `vat_percent` is [U]. */
  vatPercent?: number;
}

export interface AtmosBoundCard {
  cardId: number;
  /** 986009******1840 */
  panMasked: string;
  /** YYMM */
  expiry: string;
  cardHolder: string | null;
  phone: string | null;
  /** Secret: store encrypted, never log. */
  cardToken: string;
}

export interface AtmosCardSummary {
  cardId: number;
  panMasked: string;
  expiry: string;
  cardToken: string;
}

export type BindCardInitResult =
  | { status: "otp_sent"; transactionId: number; phone: string | null }
  /** STPIMS-ERR-133: ATMOS already has this card for us; it answers with the existing card. */
  | { status: "already_bound"; card: AtmosBoundCard };

export interface AtmosClient {
  /** POST /merchant/pay/create */
  createTransaction(input: {
    amount: number;
    account: string;
    details?: string;
    lang?: AtmosLanguage;
  }): Promise<AtmosTransaction>;
  /** POST /merchant/pay/pre-apply with card number + expiry (any of MM/YY, MMYY, YYMM): ATMOS sends an SMS OTP. */
  preApplyCard(input: {
    transactionId: number;
    cardNumber: string;
    expiry: string;
  }): Promise<{ transactionId: number; phone: string | null }>;
  /** POST /merchant/pay/pre-apply with a bound card token: no SMS. */
  preApplyToken(input: { transactionId: number; cardToken: string }): Promise<{ transactionId: number }>;
  /**
   * Confirms with the OTP (111111 for token payments). Without `ofdItems`: POST /merchant/pay/apply.
   * With `ofdItems`: POST /merchant/pay/confirm-with-ofd-list, the fiscal apply that also issues the
   * receipt for these lines (its link is `ofdUrl`, null when ATMOS gave none). Same outcome rules as
   * apply: a lost answer is an unknown outcome, resolved with `getTransaction`, never repeated.
   */
  apply(input: { transactionId: number; otp: string; ofdItems?: AtmosOfdItem[] }): Promise<AtmosTransaction>;
  /** POST /merchant/pay/get: also answers for closed transactions (ERR-092 with data). Retried automatically. */
  getTransaction(transactionId: number): Promise<AtmosTransaction>;
  /** POST /merchant/pay/reverse: refunds a confirmed payment. */
  reverse(input: { transactionId: number; reason: string }): Promise<{ transactionId: number }>;
  /** POST /merchant/pay/otp-resend */
  resendOtp(transactionId: number): Promise<void>;
  /** POST /partner/bind-card/init */
  bindCardInit(input: { cardNumber: string; expiry: string }): Promise<BindCardInitResult>;
  /** POST /partner/bind-card/confirm */
  bindCardConfirm(input: { transactionId: number; otp: string }): Promise<AtmosBoundCard>;
  /** POST /partner/list-cards */
  listCards(input?: { page?: number; pageSize?: number }): Promise<AtmosCardSummary[]>;
  /** POST /partner/remove-card */
  removeCard(input: { cardId: number; cardToken: string }): Promise<void>;
  /**
   * Renewal charge: create → pre-apply with token → apply with the fixed token OTP.
   * On failure the AtmosError carries `transactionId` once the transaction exists, so an
   * `outcomeUnknown` failure can be resolved with `getTransaction`.
   */
  chargeCardToken(
    cardToken: string,
    amount: number,
    account: string,
    ofdItems?: AtmosOfdItem[],
  ): Promise<AtmosTransaction>;
}

/** The fixed OTP ATMOS prescribes for card-token payments. */
export const TOKEN_PAYMENT_OTP = "111111";
