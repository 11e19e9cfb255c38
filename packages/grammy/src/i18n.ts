import { type Language, pickLanguage } from "@obuna/contracts/http";

/**
 * The bot's texts in Uzbek (default), Russian and English: one typed dictionary, so a missing
 * translation is a compile error. Handlers never hold user-facing strings; they call `t(lang)`.
 * Values are plain text (no parse_mode), so names and amounts never need escaping.
 */
export type { Language };
export { pickLanguage };

export const LANGUAGES: readonly Language[] = ["uz", "ru", "en"];

/** Tashkent is UTC+5 all year; people read dates there. */
const TASHKENT_OFFSET_MS = 5 * 3_600_000;

function tashkentParts(at: Date | string) {
  const date = new Date(new Date(at).getTime() + TASHKENT_OFFSET_MS);
  const pad = (n: number) => String(n).padStart(2, "0");
  return {
    day: `${pad(date.getUTCDate())}.${pad(date.getUTCMonth() + 1)}.${date.getUTCFullYear()}`,
    time: `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}`,
  };
}

/** "05.12.2026" (Tashkent). */
export function formatDay(at: Date | string): string {
  return tashkentParts(at).day;
}

/** "05.12.2026 14:30" (Tashkent). */
export function formatDayTime(at: Date | string): string {
  const parts = tashkentParts(at);
  return `${parts.day} ${parts.time}`;
}

/** A wait, rounded up to whole minutes from one minute on: "12 daqiqa" / "45 soniya". */
function waitParts(seconds: number): { minutes: number } | { seconds: number } {
  return seconds < 60 ? { seconds: Math.max(1, Math.ceil(seconds)) } : { minutes: Math.ceil(seconds / 60) };
}

function waitUz(s: number): string {
  const w = waitParts(s);
  return "minutes" in w ? `${w.minutes} daqiqa` : `${w.seconds} soniya`;
}

function ruPlural(n: number, one: string, few: string, many: string): string {
  const mod10 = n % 10;
  const mod100 = n % 100;
  if (mod10 === 1 && mod100 !== 11) return one;
  if (mod10 >= 2 && mod10 <= 4 && (mod100 < 12 || mod100 > 14)) return few;
  return many;
}

function waitRu(s: number): string {
  const w = waitParts(s);
  return "minutes" in w
    ? `${w.minutes} ${ruPlural(w.minutes, "минуту", "минуты", "минут")}`
    : `${w.seconds} ${ruPlural(w.seconds, "секунду", "секунды", "секунд")}`;
}

function waitEn(s: number): string {
  const w = waitParts(s);
  return "minutes" in w
    ? `${w.minutes} minute${w.minutes === 1 ? "" : "s"}`
    : `${w.seconds} second${w.seconds === 1 ? "" : "s"}`;
}

export type SubscriptionStatusName = "active" | "past_due" | "canceled" | "expired";
export type PaymentStatusName = "pending" | "success" | "failed" | "unknown" | "reversed";

export interface StatusView {
  plan: string;
  status: SubscriptionStatusName;
  endDate: string;
  autoRenew: boolean;
  card: string | null;
  nextCharge: { date: string; amount: string } | null;
}

/** What operators see above a forwarded support message (issue 16). */
export interface SupportHeaderView {
  telegramId: number;
  name: string;
  username: string | null;
  lang: Language;
  /** null = no subscription; "unavailable" = the gateway could not be asked. */
  subscription: Omit<StatusView, "nextCharge"> | null | "unavailable";
  lastPayment:
    | { date: string; amount: string; status: PaymentStatusName; card: string | null }
    | null
    | "unavailable";
}

export interface Messages {
  languageName: string;
  welcome(name: string | undefined): string;
  chooseLanguage: string;
  languageSet: string;
  plansTitle: string;
  /** The upsell of requirePremium(): a premium-only feature asked for by a user without premium. */
  premiumRequired: string;
  /** The same outside a private chat: the offer is made in the private chat. */
  premiumRequiredInPrivate: string;
  planButton(name: string, price: string, days: number): string;
  noPlans: string;
  alreadyPremium(endDate: string): string;
  paymentLink(plan: string, price: string, expiresAt: string): string;
  payButton: string;
  /** Telegram Stars: the invoice button (a native subscription for a 30-day plan). */
  payStarsButton(stars: number, subscription: boolean): string;
  /** The pre-checkout refusal Telegram shows (the link is old, or was made for someone else). */
  starsCheckoutRefused: string;
  statusNone: string;
  status(view: StatusView): string;
  subscriptionStatus: Record<SubscriptionStatusName, string>;
  paymentStatus: Record<PaymentStatusName, string>;
  paymentsNone: string;
  paymentsTitle: string;
  paymentLine(date: string, amount: string, status: string, card: string | null): string;
  /** The fiscal receipt link under a payment (plain text: Telegram makes the URL clickable). */
  receiptLink(url: string): string;
  cancelNothing: string;
  cancelAlreadyOff(endDate: string): string;
  cancelConfirm(endDate: string): string;
  cancelYes: string;
  cancelNo: string;
  cancelDone(endDate: string): string;
  cancelKept: string;
  resumeNothing: string;
  resumeNoCard: string;
  resumeAlreadyOn: string;
  resumeDone(nextCharge: string): string;
  help: string;
  terms: string;
  paySupport: string;
  staleButton: string;
  /** create-link refused with 429 RATE_LIMITED: how long to wait (seconds; null = unknown). */
  tooManyLinks(retryAfterS: number | null): string;
  gatewayUnavailable: string;
  somethingWrong: string;
  unknownCommand: string;
  /** A group chat: account commands and buttons answer only in the private chat with the bot. */
  openInPrivate: string;
  openInPrivateButton: string;
  buyPremiumButton: string;
  // notifications
  paymentSucceeded(amount: string, plan: string, endDate: string, card: string | null): string;
  renewalSucceeded(amount: string, plan: string, endDate: string, card: string | null): string;
  renewalChargedAfterCancel(amount: string, plan: string, endDate: string, card: string | null): string;
  renewalFailed(plan: string, accessUntil: string, hardDecline: boolean, nextAttempt: string | null): string;
  retryNowButton: string;
  otherCardButton: string;
  autoRenewOffButton: string;
  retryQueued: string;
  retryNotPossible: string;
  renewalReminder(plan: string, amount: string, chargeDate: string, card: string | null): string;
  subscriptionExpired(plan: string): string;
  cardExpiring(card: string, expiry: string): string;
  // money changes made by an operator (issue 16): what happened, never the internal reason
  paymentRefunded(
    amount: string,
    plan: string | null,
    card: string | null,
    endDate: string | null,
    accessEnded: boolean,
  ): string;
  subscriptionCanceledByAdmin(plan: string): string;
  subscriptionExtended(plan: string, days: number, endDate: string): string;
  cardDeactivated(card: string): string;
  // -- support conversation and account button (issue 16)
  /** /paysupport without SUPPORT_CHAT_ID: where to write instead (null = nothing configured). */
  supportContact(contact: string | null): string;
  /** /paysupport in a group: the conversation happens in the private chat. */
  supportInPrivate: string;
  supportCloseButton: string;
  supportClosed: string;
  /** After the first message of a conversation reached the support chat. */
  supportForwarded: string;
  /** A message with a card number is not forwarded. */
  supportCardRefused: string;
  /** Telegram cannot copy this kind of message (e.g. a poll). */
  supportUnsupported: string;
  /** The support chat could not be reached (bot removed, network). */
  supportUnavailable(contact: string | null): string;
  /** Before an operator's answer in the user's chat. */
  supportReplyPrefix: string;
  /** For operators, in the support chat. */
  supportHeader(view: SupportHeaderView): string;
  supportNotDelivered: string;
  accountButton: string;
  // ---- i16-admin: plan price changes
  priceChangeNotice(plan: string, oldAmount: string, newAmount: string, fromDate: string): string;
  // ---- end i16-admin
}

const uz: Messages = {
  languageName: "🇺🇿 O'zbekcha",
  welcome: (name) =>
    `Assalomu alaykum${name ? `, ${name}` : ""}! 👋\n\n` +
    "Premium obuna bilan siz barcha yopiq kontentga cheklovsiz kirish, reklamasiz foydalanish va birinchi navbatda yordam olasiz.\n\n" +
    "To'lov UzCard yoki Humo kartasi orqali. Obuna: /premium\nHolat: /status · To'lovlar: /payments · Yordam: /help",
  chooseLanguage: "Tilni tanlang:",
  languageSet: "Til o'zgartirildi: O'zbekcha ✅",
  plansTitle: "⭐ Premium tariflar. Birini tanlang:",
  premiumRequired: "⭐ Bu imkoniyat faqat Premium obunachilar uchun. Tarifni tanlang:",
  premiumRequiredInPrivate:
    "⭐ Bu imkoniyat faqat Premium obunachilar uchun. Obuna bo'lish uchun meni shaxsiy chatda oching.",
  planButton: (name, price, days) => `${name} — ${price} / ${days} kun`,
  noPlans: "Hozircha sotuvda tarif yo'q. Keyinroq urinib ko'ring.",
  alreadyPremium: (endDate) =>
    `Sizda Premium bor: ${endDate} gacha. Muddatini uzaytirish uchun tarifni tanlang:`,
  paymentLink: (plan, price, expiresAt) =>
    `Tarif: ${plan}\nNarxi: ${price}\n\nTo'lov uchun tugmani bosing. Havola ${expiresAt} gacha amal qiladi.`,
  payButton: "💳 Kartani ulash va to'lash",
  payStarsButton: (stars, sub) => `⭐ ${stars} Stars bilan to'lash${sub ? " (har oy)" : ""}`,
  starsCheckoutRefused: "Bu to'lov havolasi eskirgan. /premium orqali yangisini oling.",
  statusNone: "Sizda faol obuna yo'q. Obuna bo'lish: /premium",
  status: (v) =>
    `⭐ Tarif: ${v.plan}\nHolat: ${uz.subscriptionStatus[v.status]}\nTugash sanasi: ${v.endDate}\n` +
    `Avtomatik yangilash: ${v.autoRenew ? "yoqilgan ✅" : "o'chirilgan ❌"}\n` +
    `Karta: ${v.card ?? "saqlanmagan"}\n` +
    (v.nextCharge ? `Keyingi to'lov: ${v.nextCharge.date}, ${v.nextCharge.amount}` : "Keyingi to'lov: yo'q"),
  subscriptionStatus: {
    active: "faol",
    past_due: "to'lov kutilmoqda",
    canceled: "bekor qilingan",
    expired: "muddati tugagan",
  },
  paymentStatus: {
    pending: "kutilmoqda",
    success: "muvaffaqiyatli",
    failed: "muvaffaqiyatsiz",
    unknown: "tekshirilmoqda",
    reversed: "qaytarilgan",
  },
  paymentsNone: "Sizda hali to'lovlar yo'q.",
  paymentsTitle: "🧾 Oxirgi to'lovlar:",
  paymentLine: (date, amount, status, card) => `${date} · ${amount} · ${status}${card ? ` · ${card}` : ""}`,
  receiptLink: (url) => `🧾 Chek: ${url}`,
  cancelNothing: "Sizda bekor qilinadigan faol obuna yo'q.",
  cancelAlreadyOff: (endDate) =>
    `Avtomatik yangilash allaqachon o'chirilgan. Premium ${endDate} gacha amal qiladi.`,
  cancelConfirm: (endDate) =>
    `Avtomatik yangilashni o'chirasizmi? Premium ${endDate} gacha saqlanadi, keyin kartadan pul yechilmaydi.`,
  cancelYes: "Ha, o'chirish",
  cancelNo: "Yo'q, qoldirish",
  cancelDone: (endDate) =>
    `Avtomatik yangilash o'chirildi. Premium ${endDate} gacha amal qiladi. Qayta yoqish: /resume`,
  cancelKept: "Yaxshi, obunangiz o'zgarmadi.",
  resumeNothing: "Sizda faol obuna yo'q. Obuna bo'lish: /premium",
  resumeNoCard: "Saqlangan karta yo'q. Avtomatik yangilash uchun /premium orqali karta bilan to'lang.",
  resumeAlreadyOn: "Avtomatik yangilash allaqachon yoqilgan.",
  resumeDone: (nextCharge) => `Avtomatik yangilash yoqildi ✅ Keyingi to'lov: ${nextCharge}.`,
  help:
    "Buyruqlar:\n/premium — tarif tanlash va to'lash\n/status — obuna holati\n/payments — to'lovlar tarixi\n" +
    "/cancel — avtomatik yangilashni o'chirish\n/resume — avtomatik yangilashni yoqish\n/terms — shartlar\n/paysupport — to'lov bo'yicha yordam",
  terms:
    "Shartlar: Premium tanlangan muddatga beriladi. Avtomatik yangilash yoqilgan bo'lsa, muddat tugashidan oldin saqlangan kartadan " +
    "shu tarif narxi yechiladi. Uni istalgan vaqtda /cancel bilan o'chirishingiz mumkin; kirish muddat oxirigacha saqlanadi. " +
    "Karta raqami bizda saqlanmaydi: to'lovlarni ATMOS amalga oshiradi.",
  paySupport:
    "To'lov bo'yicha savol bormi? Bu chatga muammoni, sana va summani yozing (karta raqamini yozmang!). Biz 24 soat ichida javob beramiz.",
  staleButton: "Bu tugma eskirgan. Yangi buyruq yuboring.",
  tooManyLinks: (s) =>
    `Siz juda ko'p to'lov havolasi so'radingiz. ${s === null ? "Birozdan so'ng" : `${waitUz(s)}dan keyin`} qayta urinib ko'ring.`,
  gatewayUnavailable: "Xizmat vaqtincha ishlamayapti. Birozdan keyin qayta urinib ko'ring.",
  somethingWrong: "Xatolik yuz berdi. Qayta urinib ko'ring.",
  unknownCommand: "Tushunmadim. Buyruqlar ro'yxati: /help",
  openInPrivate: "Obuna va to'lovlar bilan faqat shaxsiy chatda ishlayman. Meni shaxsiy chatda oching.",
  openInPrivateButton: "Shaxsiy chatda ochish",
  buyPremiumButton: "⭐ Premium olish",
  paymentSucceeded: (amount, plan, endDate, card) =>
    `✅ To'lov qabul qilindi: ${amount}${card ? ` (${card})` : ""}.\nPremium (${plan}) ${endDate} gacha faol.`,
  renewalSucceeded: (amount, plan, endDate, card) =>
    `🔄 Obuna yangilandi: ${amount}${card ? ` (${card})` : ""} yechildi.\nPremium (${plan}) ${endDate} gacha faol.`,
  renewalChargedAfterCancel: (amount, plan, endDate, card) =>
    `ℹ️ Avtomatik yangilashni (yoki kartani) o'chirganingizda to'lov bankka allaqachon yuborilgan edi: ${amount}${card ? ` (${card})` : ""} yechildi.\n` +
    `Bu to'lov hisobga olindi: Premium (${plan}) ${endDate} gacha faol. Keyingi to'lovlar yechilmaydi.`,
  renewalFailed: (plan, accessUntil, hardDecline, nextAttempt) =>
    `⚠️ Premium (${plan}) uchun to'lov o'tmadi.\n` +
    (hardDecline ? "Karta yaroqsiz yoki bloklangan: boshqa karta bilan to'lang.\n" : "") +
    (nextAttempt ? `Keyingi urinish: ${nextAttempt}.\n` : "") +
    `Kirish ${accessUntil} gacha saqlanadi.`,
  retryNowButton: "🔁 Hozir qayta urinish",
  otherCardButton: "💳 Boshqa karta bilan to'lash",
  autoRenewOffButton: "⏹ Avtomatik yangilashni o'chirish",
  retryQueued: "Qayta urinish navbatga qo'yildi. Natija haqida xabar beramiz.",
  retryNotPossible: "Hozir qayta urinib bo'lmaydi: obuna to'lov kutmayapti yoki karta saqlanmagan.",
  renewalReminder: (plan, amount, chargeDate, card) =>
    `🔔 Eslatma: ${chargeDate} kuni Premium (${plan}) uchun ${amount} ${card ? `${card} kartasidan ` : ""}avtomatik yechiladi. ` +
    "O'chirish: /cancel",
  subscriptionExpired: (plan) => `Premium (${plan}) muddati tugadi. Qayta obuna bo'lish: /premium`,
  cardExpiring: (card, expiry) =>
    `💳 ${card} kartasining muddati ${expiry} da tugaydi. Obuna uzilmasligi uchun yangi karta bilan to'lang: /premium`,
  paymentRefunded: (amount, plan, card, endDate, accessEnded) =>
    `↩️ To'lov qaytarildi: ${amount}${card ? ` ${card} kartasiga` : ""} qaytariladi (bank bir necha kun ichida o'tkazadi).\n` +
    (plan && accessEnded ? `Premium (${plan}) to'xtatildi. Qayta obuna bo'lish: /premium` : "") +
    (plan && !accessEnded && endDate ? `Premium (${plan}) ${endDate} gacha faol.` : ""),
  subscriptionCanceledByAdmin: (plan) =>
    `⛔ Premium (${plan}) obunangiz xizmat tomonidan bekor qilindi: kirish yopildi, kartadan boshqa pul yechilmaydi.\n` +
    "Savollar bo'lsa: /paysupport",
  subscriptionExtended: (plan, days, endDate) =>
    `🎁 Premium (${plan}) ${days} kunga uzaytirildi: endi ${endDate} gacha faol.`,
  cardDeactivated: (card) =>
    `💳 ${card} kartasi xizmat tomonidan o'chirildi: undan avtomatik to'lov yechilmaydi.\n` +
    "Obunani davom ettirish uchun boshqa karta bilan to'lang: /premium. Savollar: /paysupport",
  // -- support conversation and account button (issue 16)
  supportContact: (contact) =>
    contact
      ? `To'lov bo'yicha savollar: ${contact}\nMuammoni, sana va summani yozing (karta raqamini yozmang!).`
      : "To'lov bo'yicha yordam hozircha sozlanmagan. Obuna holati: /status · To'lovlar: /payments",
  supportInPrivate:
    "To'lov bo'yicha yordam faqat shaxsiy chatda. Meni shaxsiy chatda oching va /paysupport yuboring.",
  supportCloseButton: "✖️ Suhbatni yopish",
  supportClosed: "Yordam suhbati yopildi. Yangi savol: /paysupport",
  supportForwarded:
    "✅ Xabaringiz yordam xizmatiga yuborildi. Yana yozishingiz mumkin; javob shu chatga keladi.",
  supportCardRefused:
    "⛔ Xabarda karta raqami bor: u yuborilmadi. Karta raqamini hech kimga yozmang, faqat oxirgi 4 raqamini yozing.",
  supportUnsupported: "Bu turdagi xabarni yuborib bo'lmaydi. Iltimos, matn yoki rasm yuboring.",
  supportUnavailable: (contact) =>
    `Yordam xizmatiga hozir yuborib bo'lmadi. Keyinroq urinib ko'ring${contact ? ` yoki yozing: ${contact}` : ""}.`,
  supportReplyPrefix: "💬 Yordam xizmati:",
  supportHeader: (v) =>
    `🆘 Yordam so'rovi\nTelegram id: ${v.telegramId} · ${v.name}${v.username ? ` (@${v.username})` : ""} · til: ${v.lang}\n` +
    `Obuna: ${
      v.subscription === "unavailable"
        ? "ma'lumot olinmadi"
        : v.subscription === null
          ? "yo'q"
          : `${v.subscription.plan} · ${uz.subscriptionStatus[v.subscription.status]} · ${v.subscription.endDate} gacha · avto: ${v.subscription.autoRenew ? "yoqilgan" : "o'chirilgan"}${v.subscription.card ? ` · ${v.subscription.card}` : ""}`
    }\n` +
    `Oxirgi to'lov: ${
      v.lastPayment === "unavailable"
        ? "ma'lumot olinmadi"
        : v.lastPayment === null
          ? "yo'q"
          : `${v.lastPayment.amount} · ${uz.paymentStatus[v.lastPayment.status]} · ${v.lastPayment.date}${v.lastPayment.card ? ` · ${v.lastPayment.card}` : ""}`
    }\n` +
    "Javob berish uchun foydalanuvchi xabariga reply qiling.",
  supportNotDelivered: "❌ Javob yetkazilmadi: foydalanuvchi botni bloklagan yoki chat topilmadi.",
  accountButton: "👤 Kabinet",
  // ---- i16-admin: plan price changes
  priceChangeNotice: (plan, oldAmount, newAmount, fromDate) =>
    `ℹ️ Premium (${plan}) narxi o'zgardi: ${fromDate} kungi yechimdan boshlab obuna ${oldAmount} o'rniga ${newAmount} bo'ladi. ` +
    "Rozi bo'lmasangiz, avtomatik to'lovni o'chiring: /cancel",
  // ---- end i16-admin
};

const ru: Messages = {
  languageName: "🇷🇺 Русский",
  welcome: (name) =>
    `Здравствуйте${name ? `, ${name}` : ""}! 👋\n\n` +
    "Premium-подписка открывает весь закрытый контент без ограничений и рекламы, плюс приоритетную поддержку.\n\n" +
    "Оплата картой UzCard или Humo. Подписка: /premium\nСтатус: /status · Платежи: /payments · Помощь: /help",
  chooseLanguage: "Выберите язык:",
  languageSet: "Язык изменён: Русский ✅",
  plansTitle: "⭐ Тарифы Premium. Выберите один:",
  premiumRequired: "⭐ Эта функция доступна только с Premium. Выберите тариф:",
  premiumRequiredInPrivate:
    "⭐ Эта функция доступна только с Premium. Чтобы оформить, откройте меня в личном чате.",
  planButton: (name, price, days) => `${name} — ${price} / ${days} дн.`,
  noPlans: "Сейчас нет тарифов в продаже. Попробуйте позже.",
  alreadyPremium: (endDate) => `У вас уже есть Premium до ${endDate}. Чтобы продлить, выберите тариф:`,
  paymentLink: (plan, price, expiresAt) =>
    `Тариф: ${plan}\nЦена: ${price}\n\nНажмите кнопку, чтобы оплатить. Ссылка действует до ${expiresAt}.`,
  payButton: "💳 Привязать карту и оплатить",
  payStarsButton: (stars, sub) => `⭐ Оплатить ${stars} Stars${sub ? " (ежемесячно)" : ""}`,
  starsCheckoutRefused: "Эта ссылка на оплату устарела. Получите новую через /premium.",
  statusNone: "У вас нет активной подписки. Оформить: /premium",
  status: (v) =>
    `⭐ Тариф: ${v.plan}\nСтатус: ${ru.subscriptionStatus[v.status]}\nДействует до: ${v.endDate}\n` +
    `Автопродление: ${v.autoRenew ? "включено ✅" : "выключено ❌"}\n` +
    `Карта: ${v.card ?? "не сохранена"}\n` +
    (v.nextCharge
      ? `Следующее списание: ${v.nextCharge.date}, ${v.nextCharge.amount}`
      : "Следующее списание: нет"),
  subscriptionStatus: {
    active: "активна",
    past_due: "ожидает оплаты",
    canceled: "отменена",
    expired: "истекла",
  },
  paymentStatus: {
    pending: "в обработке",
    success: "успешно",
    failed: "не прошёл",
    unknown: "проверяется",
    reversed: "возвращён",
  },
  paymentsNone: "У вас пока нет платежей.",
  paymentsTitle: "🧾 Последние платежи:",
  paymentLine: (date, amount, status, card) => `${date} · ${amount} · ${status}${card ? ` · ${card}` : ""}`,
  receiptLink: (url) => `🧾 Чек: ${url}`,
  cancelNothing: "У вас нет активной подписки для отмены.",
  cancelAlreadyOff: (endDate) => `Автопродление уже выключено. Premium действует до ${endDate}.`,
  cancelConfirm: (endDate) =>
    `Выключить автопродление? Premium останется до ${endDate}, после этого деньги с карты списываться не будут.`,
  cancelYes: "Да, выключить",
  cancelNo: "Нет, оставить",
  cancelDone: (endDate) =>
    `Автопродление выключено. Premium действует до ${endDate}. Включить снова: /resume`,
  cancelKept: "Хорошо, подписка не изменилась.",
  resumeNothing: "У вас нет активной подписки. Оформить: /premium",
  resumeNoCard: "Нет сохранённой карты. Для автопродления оплатите картой через /premium.",
  resumeAlreadyOn: "Автопродление уже включено.",
  resumeDone: (nextCharge) => `Автопродление включено ✅ Следующее списание: ${nextCharge}.`,
  help:
    "Команды:\n/premium — выбрать тариф и оплатить\n/status — статус подписки\n/payments — история платежей\n" +
    "/cancel — выключить автопродление\n/resume — включить автопродление\n/terms — условия\n/paysupport — помощь с оплатой",
  terms:
    "Условия: Premium предоставляется на выбранный срок. При включённом автопродлении до окончания срока с сохранённой карты " +
    "списывается цена тарифа. Его можно выключить в любой момент командой /cancel; доступ сохранится до конца срока. " +
    "Номер карты у нас не хранится: платежи проводит ATMOS.",
  paySupport:
    "Вопрос по оплате? Опишите проблему, дату и сумму в этом чате (не пишите номер карты!). Мы ответим в течение 24 часов.",
  staleButton: "Эта кнопка устарела. Отправьте команду заново.",
  tooManyLinks: (s) =>
    `Слишком много запросов ссылки на оплату. Попробуйте снова ${s === null ? "позже" : `через ${waitRu(s)}`}.`,
  gatewayUnavailable: "Сервис временно недоступен. Попробуйте чуть позже.",
  somethingWrong: "Произошла ошибка. Попробуйте ещё раз.",
  unknownCommand: "Не понял. Список команд: /help",
  openInPrivate: "Подписка и платежи — только в личном чате. Откройте меня в личном чате.",
  openInPrivateButton: "Открыть в личном чате",
  buyPremiumButton: "⭐ Оформить Premium",
  paymentSucceeded: (amount, plan, endDate, card) =>
    `✅ Оплата получена: ${amount}${card ? ` (${card})` : ""}.\nPremium (${plan}) активен до ${endDate}.`,
  renewalSucceeded: (amount, plan, endDate, card) =>
    `🔄 Подписка продлена: списано ${amount}${card ? ` (${card})` : ""}.\nPremium (${plan}) активен до ${endDate}.`,
  renewalChargedAfterCancel: (amount, plan, endDate, card) =>
    `ℹ️ Когда вы отключили автопродление (или удалили карту), платёж уже был отправлен в банк: списано ${amount}${card ? ` (${card})` : ""}.\n` +
    `Этот платёж учтён: Premium (${plan}) активен до ${endDate}. Больше списаний не будет.`,
  renewalFailed: (plan, accessUntil, hardDecline, nextAttempt) =>
    `⚠️ Не удалось списать оплату за Premium (${plan}).\n` +
    (hardDecline ? "Карта недействительна или заблокирована: оплатите другой картой.\n" : "") +
    (nextAttempt ? `Следующая попытка: ${nextAttempt}.\n` : "") +
    `Доступ сохраняется до ${accessUntil}.`,
  retryNowButton: "🔁 Повторить сейчас",
  otherCardButton: "💳 Оплатить другой картой",
  autoRenewOffButton: "⏹ Выключить автопродление",
  retryQueued: "Повторная попытка поставлена в очередь. Мы сообщим результат.",
  retryNotPossible: "Сейчас повторить нельзя: подписка не ожидает оплаты или карта не сохранена.",
  renewalReminder: (plan, amount, chargeDate, card) =>
    `🔔 Напоминание: ${chargeDate} за Premium (${plan}) будет автоматически списано ${amount}${card ? ` с карты ${card}` : ""}. ` +
    "Выключить: /cancel",
  subscriptionExpired: (plan) => `Срок Premium (${plan}) истёк. Оформить снова: /premium`,
  cardExpiring: (card, expiry) =>
    `💳 Срок действия карты ${card} истекает ${expiry}. Чтобы подписка не прервалась, оплатите новой картой: /premium`,
  paymentRefunded: (amount, plan, card, endDate, accessEnded) =>
    `↩️ Платёж возвращён: ${amount} вернётся${card ? ` на карту ${card}` : " на вашу карту"} (банк зачисляет деньги в течение нескольких дней).\n` +
    (plan && accessEnded ? `Premium (${plan}) отключён. Оформить снова: /premium` : "") +
    (plan && !accessEnded && endDate ? `Premium (${plan}) действует до ${endDate}.` : ""),
  subscriptionCanceledByAdmin: (plan) =>
    `⛔ Ваша подписка Premium (${plan}) отменена службой поддержки: доступ закрыт, списаний больше не будет.\n` +
    "Вопросы: /paysupport",
  subscriptionExtended: (plan, days, endDate) =>
    `🎁 Premium (${plan}) продлён на ${days} ${ruPlural(days, "день", "дня", "дней")}: теперь действует до ${endDate}.`,
  cardDeactivated: (card) =>
    `💳 Карта ${card} отключена службой поддержки: автоматических списаний с неё не будет.\n` +
    "Чтобы продлить подписку, оплатите другой картой: /premium. Вопросы: /paysupport",
  // -- support conversation and account button (issue 16)
  supportContact: (contact) =>
    contact
      ? `Вопросы по оплате: ${contact}\nОпишите проблему, дату и сумму (не пишите номер карты!).`
      : "Поддержка по оплате пока не настроена. Статус подписки: /status · Платежи: /payments",
  supportInPrivate:
    "Поддержка по оплате — только в личном чате. Откройте меня в личном чате и отправьте /paysupport.",
  supportCloseButton: "✖️ Закрыть обращение",
  supportClosed: "Обращение закрыто. Новый вопрос: /paysupport",
  supportForwarded: "✅ Сообщение передано в поддержку. Можете дописать ещё; ответ придёт в этот чат.",
  supportCardRefused:
    "⛔ В сообщении номер карты: оно не отправлено. Никому не пишите номер карты, только последние 4 цифры.",
  supportUnsupported: "Такое сообщение переслать нельзя. Отправьте текст или фото.",
  supportUnavailable: (contact) =>
    `Не удалось передать сообщение в поддержку. Попробуйте позже${contact ? ` или напишите: ${contact}` : ""}.`,
  supportReplyPrefix: "💬 Поддержка:",
  supportHeader: (v) =>
    `🆘 Обращение в поддержку\nTelegram id: ${v.telegramId} · ${v.name}${v.username ? ` (@${v.username})` : ""} · язык: ${v.lang}\n` +
    `Подписка: ${
      v.subscription === "unavailable"
        ? "не удалось получить"
        : v.subscription === null
          ? "нет"
          : `${v.subscription.plan} · ${ru.subscriptionStatus[v.subscription.status]} · до ${v.subscription.endDate} · авто: ${v.subscription.autoRenew ? "вкл" : "выкл"}${v.subscription.card ? ` · ${v.subscription.card}` : ""}`
    }\n` +
    `Последний платёж: ${
      v.lastPayment === "unavailable"
        ? "не удалось получить"
        : v.lastPayment === null
          ? "нет"
          : `${v.lastPayment.amount} · ${ru.paymentStatus[v.lastPayment.status]} · ${v.lastPayment.date}${v.lastPayment.card ? ` · ${v.lastPayment.card}` : ""}`
    }\n` +
    "Чтобы ответить, ответьте (reply) на сообщение пользователя.",
  supportNotDelivered: "❌ Ответ не доставлен: пользователь заблокировал бота или чат не найден.",
  accountButton: "👤 Кабинет",
  // ---- i16-admin: plan price changes
  priceChangeNotice: (plan, oldAmount, newAmount, fromDate) =>
    `ℹ️ Цена Premium (${plan}) меняется: начиная со списания ${fromDate} подписка будет стоить ${newAmount} вместо ${oldAmount}. ` +
    "Если вы не согласны, отключите автопродление: /cancel",
  // ---- end i16-admin
};

const en: Messages = {
  languageName: "🇬🇧 English",
  welcome: (name) =>
    `Hello${name ? `, ${name}` : ""}! 👋\n\n` +
    "Premium gives you unlimited access to all members-only content, no ads and priority support.\n\n" +
    "Pay with an UzCard or Humo card. Subscribe: /premium\nStatus: /status · Payments: /payments · Help: /help",
  chooseLanguage: "Choose your language:",
  languageSet: "Language changed: English ✅",
  plansTitle: "⭐ Premium plans. Pick one:",
  premiumRequired: "⭐ This is a Premium feature. Pick a plan:",
  premiumRequiredInPrivate: "⭐ This is a Premium feature. To subscribe, open me in a private chat.",
  planButton: (name, price, days) => `${name} — ${price} / ${days} days`,
  noPlans: "No plans are on sale right now. Please try later.",
  alreadyPremium: (endDate) => `You already have Premium until ${endDate}. Pick a plan to extend it:`,
  paymentLink: (plan, price, expiresAt) =>
    `Plan: ${plan}\nPrice: ${price}\n\nTap the button to pay. The link works until ${expiresAt}.`,
  payButton: "💳 Link a card and pay",
  payStarsButton: (stars, sub) => `⭐ Pay ${stars} Stars${sub ? " (monthly)" : ""}`,
  starsCheckoutRefused: "This payment link is no longer valid. Get a new one with /premium.",
  statusNone: "You have no active subscription. Subscribe: /premium",
  status: (v) =>
    `⭐ Plan: ${v.plan}\nStatus: ${en.subscriptionStatus[v.status]}\nValid until: ${v.endDate}\n` +
    `Auto-renew: ${v.autoRenew ? "on ✅" : "off ❌"}\n` +
    `Card: ${v.card ?? "none saved"}\n` +
    (v.nextCharge ? `Next charge: ${v.nextCharge.date}, ${v.nextCharge.amount}` : "Next charge: none"),
  subscriptionStatus: {
    active: "active",
    past_due: "payment due",
    canceled: "cancelled",
    expired: "expired",
  },
  paymentStatus: {
    pending: "pending",
    success: "successful",
    failed: "failed",
    unknown: "being checked",
    reversed: "refunded",
  },
  paymentsNone: "You have no payments yet.",
  paymentsTitle: "🧾 Latest payments:",
  paymentLine: (date, amount, status, card) => `${date} · ${amount} · ${status}${card ? ` · ${card}` : ""}`,
  receiptLink: (url) => `🧾 Receipt: ${url}`,
  cancelNothing: "You have no active subscription to cancel.",
  cancelAlreadyOff: (endDate) => `Auto-renew is already off. Premium stays until ${endDate}.`,
  cancelConfirm: (endDate) =>
    `Turn auto-renew off? Premium stays until ${endDate}; your card will not be charged after that.`,
  cancelYes: "Yes, turn it off",
  cancelNo: "No, keep it",
  cancelDone: (endDate) => `Auto-renew is off. Premium stays until ${endDate}. Turn it back on: /resume`,
  cancelKept: "OK, your subscription is unchanged.",
  resumeNothing: "You have no active subscription. Subscribe: /premium",
  resumeNoCard: "No card is saved. To renew automatically, pay with a card via /premium.",
  resumeAlreadyOn: "Auto-renew is already on.",
  resumeDone: (nextCharge) => `Auto-renew is on ✅ Next charge: ${nextCharge}.`,
  help:
    "Commands:\n/premium — choose a plan and pay\n/status — subscription status\n/payments — payment history\n" +
    "/cancel — turn auto-renew off\n/resume — turn auto-renew on\n/terms — terms\n/paysupport — payment support",
  terms:
    "Terms: Premium is granted for the period you choose. With auto-renew on, the plan's price is charged to your saved card " +
    "before the period ends. Turn it off any time with /cancel; access stays until the end of the period. " +
    "We never store your card number: payments are processed by ATMOS.",
  paySupport:
    "A question about a payment? Describe the problem, date and amount in this chat (never send your card number!). We answer within 24 hours.",
  staleButton: "This button is out of date. Please send the command again.",
  tooManyLinks: (s) =>
    `Too many payment links requested. Please try again ${s === null ? "later" : `in ${waitEn(s)}`}.`,
  gatewayUnavailable: "The service is temporarily unavailable. Please try again shortly.",
  somethingWrong: "Something went wrong. Please try again.",
  unknownCommand: "I did not understand. Commands: /help",
  openInPrivate: "Subscriptions and payments work only in a private chat. Open me in private.",
  openInPrivateButton: "Open in private chat",
  buyPremiumButton: "⭐ Get Premium",
  paymentSucceeded: (amount, plan, endDate, card) =>
    `✅ Payment received: ${amount}${card ? ` (${card})` : ""}.\nPremium (${plan}) is active until ${endDate}.`,
  renewalSucceeded: (amount, plan, endDate, card) =>
    `🔄 Subscription renewed: ${amount} charged${card ? ` (${card})` : ""}.\nPremium (${plan}) is active until ${endDate}.`,
  renewalChargedAfterCancel: (amount, plan, endDate, card) =>
    `ℹ️ When you turned auto-renew off (or removed the card), this renewal had already been sent to the bank: ${amount} was charged${card ? ` (${card})` : ""}.\n` +
    `The payment counts: Premium (${plan}) is active until ${endDate}. No further charges will be made.`,
  renewalFailed: (plan, accessUntil, hardDecline, nextAttempt) =>
    `⚠️ The payment for Premium (${plan}) did not go through.\n` +
    (hardDecline ? "The card is invalid or blocked: please pay with another card.\n" : "") +
    (nextAttempt ? `Next attempt: ${nextAttempt}.\n` : "") +
    `Your access stays until ${accessUntil}.`,
  retryNowButton: "🔁 Retry now",
  otherCardButton: "💳 Pay with another card",
  autoRenewOffButton: "⏹ Turn auto-renew off",
  retryQueued: "A retry is queued. We will tell you the result.",
  retryNotPossible:
    "A retry is not possible now: the subscription is not awaiting payment or no card is saved.",
  renewalReminder: (plan, amount, chargeDate, card) =>
    `🔔 Reminder: on ${chargeDate}, ${amount} will be charged${card ? ` to ${card}` : ""} for Premium (${plan}). ` +
    "Turn off: /cancel",
  subscriptionExpired: (plan) => `Your Premium (${plan}) has expired. Subscribe again: /premium`,
  cardExpiring: (card, expiry) =>
    `💳 Your card ${card} expires in ${expiry}. To keep your subscription, pay with a new card: /premium`,
  paymentRefunded: (amount, plan, card, endDate, accessEnded) =>
    `↩️ Your payment was refunded: ${amount} goes back to ${card ? `your card ${card}` : "your card"} (the bank may take a few days).\n` +
    (plan && accessEnded ? `Your Premium (${plan}) has ended. Subscribe again: /premium` : "") +
    (plan && !accessEnded && endDate ? `Your Premium (${plan}) is active until ${endDate}.` : ""),
  subscriptionCanceledByAdmin: (plan) =>
    `⛔ Your Premium (${plan}) subscription was cancelled by our team: access has ended and no further charges will be made.\n` +
    "Questions: /paysupport",
  subscriptionExtended: (plan, days, endDate) =>
    `🎁 Your Premium (${plan}) was extended by ${days} day${days === 1 ? "" : "s"}: it is now active until ${endDate}.`,
  cardDeactivated: (card) =>
    `💳 Your card ${card} was deactivated by our team: it will not be charged automatically any more.\n` +
    "To keep your subscription, pay with another card: /premium. Questions: /paysupport",
  // -- support conversation and account button (issue 16)
  supportContact: (contact) =>
    contact
      ? `Payment questions: ${contact}\nDescribe the problem, date and amount (never send your card number!).`
      : "Payment support is not set up yet. Subscription status: /status · Payments: /payments",
  supportInPrivate: "Payment support works only in a private chat. Open me in private and send /paysupport.",
  supportCloseButton: "✖️ Close the conversation",
  supportClosed: "Support conversation closed. A new question: /paysupport",
  supportForwarded:
    "✅ Your message was sent to support. You can add more; the answer will come to this chat.",
  supportCardRefused:
    "⛔ Your message contains a card number, so it was not sent. Never send your card number to anyone; the last 4 digits are enough.",
  supportUnsupported: "This kind of message cannot be sent to support. Please send text or a photo.",
  supportUnavailable: (contact) =>
    `Support could not be reached right now. Please try again later${contact ? ` or write to ${contact}` : ""}.`,
  supportReplyPrefix: "💬 Support:",
  supportHeader: (v) =>
    `🆘 Support request\nTelegram id: ${v.telegramId} · ${v.name}${v.username ? ` (@${v.username})` : ""} · language: ${v.lang}\n` +
    `Subscription: ${
      v.subscription === "unavailable"
        ? "could not be loaded"
        : v.subscription === null
          ? "none"
          : `${v.subscription.plan} · ${en.subscriptionStatus[v.subscription.status]} · until ${v.subscription.endDate} · auto-renew ${v.subscription.autoRenew ? "on" : "off"}${v.subscription.card ? ` · ${v.subscription.card}` : ""}`
    }\n` +
    `Last payment: ${
      v.lastPayment === "unavailable"
        ? "could not be loaded"
        : v.lastPayment === null
          ? "none"
          : `${v.lastPayment.amount} · ${en.paymentStatus[v.lastPayment.status]} · ${v.lastPayment.date}${v.lastPayment.card ? ` · ${v.lastPayment.card}` : ""}`
    }\n` +
    "To answer, reply to the user's message.",
  supportNotDelivered: "❌ The answer was not delivered: the user blocked the bot or the chat is gone.",
  accountButton: "👤 Account",
  // ---- i16-admin: plan price changes
  priceChangeNotice: (plan, oldAmount, newAmount, fromDate) =>
    `ℹ️ The price of Premium (${plan}) is changing: from the charge on ${fromDate}, your subscription costs ${newAmount} instead of ${oldAmount}. ` +
    "If you do not agree, turn off auto-renewal: /cancel",
  // ---- end i16-admin
};

const DICTIONARY: Record<Language, Messages> = { uz, ru, en };

export function t(lang: Language): Messages {
  return DICTIONARY[lang];
}

/** "2712" (YYMM) → "12/2027". */
export function formatCardExpiry(yymm: string): string {
  return `${yymm.slice(2, 4)}/20${yymm.slice(0, 2)}`;
}
