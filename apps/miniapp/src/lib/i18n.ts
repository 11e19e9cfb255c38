/**
 * The Mini App's texts in Uzbek (Latin, default), Russian and English. Components never hold
 * texts: they call `t(key, params)`. `{name}` placeholders are filled from params.
 */

export type Language = "uz" | "ru" | "en";
export const LANGUAGES: readonly Language[] = ["uz", "ru", "en"];

const en = {
  "app.title": "Subscription payment",
  "app.loading": "Loading…",
  "app.language": "Language",
  "app.dev_notice":
    "Development mode: opened outside Telegram as user {id}. Works only when the gateway allows unsigned requests.",
  "app.open_in_telegram": "Open this page from the bot in Telegram.",
  "app.retry": "Try again",
  "app.close": "Close",

  "checkout.paying_as": "Paying as {who}",
  "checkout.paying_as_hint":
    "The subscription and a saved card go to this Telegram account. Not you? Do not pay: close this page and open the bot yourself.",
  "checkout.plan": "Plan",
  "checkout.price": "Price",
  "checkout.period": "Period",
  "checkout.period_days": "{n} days",
  "checkout.autorenew": "Renew automatically",
  "checkout.autorenew_on":
    "Every {period} we charge {price} to this card, a day before the end date. Turn it off any time in “My subscription”; access stays until the end date.",
  "checkout.autorenew_off":
    "One payment. The subscription simply ends after {period}; the card is not saved.",
  "checkout.card_number": "Card number",
  "checkout.card_hint": "UzCard or Humo",
  "checkout.expiry": "Valid thru (MM/YY)",
  "checkout.pay": "Pay {price}",
  "checkout.secure": "The card number goes straight to the payment system and is never stored.",
  // i16-admin: the public offer under the pay button (acceptance by paying; docs/checkout.md)
  "checkout.offer_before": "By paying you accept the ",
  "checkout.offer_link": "public offer",
  "checkout.offer_after": ".",
  "card.uzcard": "UzCard",
  "card.humo": "Humo",
  "card.error.length": "A card number has 16 digits.",
  "card.error.luhn": "This card number has a typo. Please check it.",
  "card.error.unsupported_card": "Only UzCard and Humo cards are accepted.",
  "card.error.expiry_format": "Enter the date as MM/YY, as printed on the card.",
  "card.error.expiry_past": "This card has expired.",

  "otp.title": "SMS code",
  "otp.sent_to": "We sent a 6-digit code to {phone}.",
  "otp.sent": "We sent a 6-digit code to the phone linked to the card.",
  "otp.label": "Code from SMS",
  "otp.confirm": "Confirm payment",
  "otp.resend": "Send the code again",
  "otp.resend_in": "New code in {s} s",
  "otp.resent": "A new code was sent.",
  "otp.attempts_left": "Attempts left: {n}",
  "otp.error.format": "Enter the 6 digits from the SMS.",
  "otp.back": "Change card",

  "processing.title": "Processing the payment…",
  "processing.keep_open": "Please don't close this window.",
  "processing.slow_title": "The payment is being confirmed",
  "processing.slow_text":
    "The bank has not answered yet. The bot will message you as soon as it does; you won't be charged twice.",

  "result.success_title": "Payment successful",
  "result.success_text": "{plan} is active until {date}.",
  "result.card_saved": "Card saved for renewal: {card}",
  "result.autorenew_on": "Auto-renew is on.",
  "result.autorenew_off": "Auto-renew is off.",
  "result.failure_title": "Payment failed",
  "result.try_another_card": "Try another card",
  "result.expired_title": "This payment link has expired",
  "result.get_new_link": "Go back to the bot and get a new payment link.",
  "result.back_to_bot": "Back to the bot",
  "result.my_subscription": "My subscription",
  "stars.pay": "Pay with Telegram Stars",
  "stars.cancelled": "Stars payment cancelled. You can pay with Stars or by card.",
  "stars.failed": "The Telegram Stars payment did not go through. No Stars were taken; try again.",
  "stars.paid_subscription":
    "Paid with Telegram Stars: Telegram renews it every 30 days. Cancel any time in “My subscription”.",
  "stars.paid_once": "Paid with Telegram Stars.",

  "error.WRONG_OTP": "Wrong code.",
  "error.OTP_EXPIRED": "The code has expired. Ask for a new one.",
  "error.OTP_ATTEMPTS_EXCEEDED": "Too many wrong codes. This payment was stopped; no money was taken.",
  "error.OTP_RESEND_TOO_SOON": "Please wait a little before asking for a new code.",
  "error.INSUFFICIENT_FUNDS": "Not enough money on the card.",
  "error.CARD_EXPIRED": "The card has expired.",
  "error.CARD_BLOCKED": "The card is blocked. Contact your bank or use another card.",
  "error.CARD_DECLINED": "The bank declined the payment.",
  "error.SMS_NOT_CONNECTED":
    "SMS notifications are not connected to this card. Turn them on at your bank or use another card.",
  "error.INVALID_CARD": "The card details are wrong. Please check them.",
  "error.UNSUPPORTED_CARD": "Only UzCard and Humo cards are accepted.",
  "error.SESSION_EXPIRED": "This payment link has expired. Get a new link from the bot.",
  "error.SESSION_NOT_FOUND": "Payment link not found. Get a new link from the bot.",
  "error.SESSION_ALREADY_COMPLETED": "This payment is already done.",
  "error.SESSION_FAILED": "This payment has failed. Get a new link from the bot.",
  "error.INVALID_STATE": "This step is no longer possible. Reload the page.",
  "error.AMOUNT_MISMATCH": "The price has changed. Get a new link from the bot.",
  "error.UNAUTHORIZED": "Could not confirm your Telegram account. Open the page from the bot again.",
  "error.INIT_DATA_STALE":
    "This page was opened too long ago. For your safety, close it and open the payment from the bot again.",
  "error.FORBIDDEN": "This page belongs to another Telegram account.",
  "error.RATE_LIMITED": "Too many attempts. Wait a minute and try again.",
  "error.RATE_LIMITED_wait": "Too many attempts. Try again in {wait}.",
  "wait.minutes": "{n} min",
  "wait.seconds": "{n} s",
  "error.IDEMPOTENCY_IN_PROGRESS": "Your previous request is still being processed.",
  "error.PAYMENT_PROVIDER_UNAVAILABLE":
    "The payment system is not answering. Nothing was charged; try again in a few minutes.",
  "error.SERVICE_UNAVAILABLE": "The service is temporarily unavailable. Try again in a few minutes.",
  "error.NETWORK": "No connection. Check the internet and try again.",
  "error.CARD_NOT_FOUND": "This card is already removed.",
  "error.SUBSCRIPTION_NOT_FOUND": "Subscription not found.",
  "error.VALIDATION_ERROR": "Please check the entered data.",
  "error.UNKNOWN": "Something went wrong. Try again.",

  "account.title": "My subscription",
  "account.none": "You have no subscription yet. Choose a plan in the bot.",
  "account.status": "Status",
  "account.status.active": "Active",
  "account.status.past_due": "Payment overdue",
  "account.status.canceled": "Cancelled",
  "account.status.expired": "Expired",
  "account.until": "Active until {date}",
  "account.ended": "Ended on {date}",
  "account.next_charge": "Next charge: {date}, {amount}, card {card}",
  "account.no_next_charge": "No automatic charge is planned.",
  "account.autorenew": "Auto-renew",
  "account.cancel_note": "If you turn it off, you keep access until {date}.",
  "account.turn_off": "Turn off",
  "account.turn_on": "Turn on",
  "account.cards": "Saved cards",
  "account.no_cards": "No saved cards.",
  "account.card_expiry": "valid thru {expiry}",
  "account.remove": "Remove",
  "account.remove_confirm": "Remove this card? Auto-renew that uses it will stop.",
  "account.remove_yes": "Yes, remove",
  "account.keep": "Keep",
  "account.removed": "Card removed.",
  "account.history": "Payment history",
  "account.no_payments": "No payments yet.",
  "account.kind.initial": "Purchase",
  "account.kind.renewal": "Renewal",
  "account.payment.success": "Paid",
  "account.payment.pending": "Pending",
  "account.payment.failed": "Failed",
  "account.payment.unknown": "Being checked",
  "account.payment.reversed": "Refunded",
  "account.receipt": "🧾 Receipt",

  // A failed or expired link reopened: its real reason and the way to a new link (issue 16).
  "reason.failed": "The payment did not go through.",
  "reason.closed": "The payment system closed this payment before it was completed. No money was taken.",
  "reason.reversed": "The bank returned the money for this payment, so it was cancelled.",
  "reason.new_link":
    "This link can no longer be paid. Send /premium in the bot and pick a plan to get a new payment link.",
  "reason.open_bot": "Open the bot",
} as const;

export type MessageKey = keyof typeof en;
type Dictionary = Record<MessageKey, string>;

const uz: Dictionary = {
  "app.title": "Obuna to'lovi",
  "app.loading": "Yuklanmoqda…",
  "app.language": "Til",
  "app.dev_notice":
    "Ishlab chiqish rejimi: Telegramdan tashqarida {id} foydalanuvchi sifatida ochildi. Faqat shlyuz imzosiz so'rovlarga ruxsat berganda ishlaydi.",
  "app.open_in_telegram": "Bu sahifani Telegramdagi bot orqali oching.",
  "app.retry": "Qayta urinish",
  "app.close": "Yopish",

  "checkout.paying_as": "To'lov hisobi: {who}",
  "checkout.paying_as_hint":
    "Obuna va saqlangan karta shu Telegram hisobiga bog'lanadi. Bu siz emasmisiz? To'lamang: sahifani yoping va botni o'zingiz oching.",
  "checkout.plan": "Tarif",
  "checkout.price": "Narxi",
  "checkout.period": "Muddat",
  "checkout.period_days": "{n} kun",
  "checkout.autorenew": "Avtomatik yangilash",
  "checkout.autorenew_on":
    "Har {period}da muddat tugashidan bir kun oldin shu kartadan {price} yechiladi. Istalgan vaqtda “Mening obunam” bo'limida o'chirishingiz mumkin; kirish muddat oxirigacha saqlanadi.",
  "checkout.autorenew_off": "Bir martalik to'lov. Obuna {period}dan keyin tugaydi; karta saqlanmaydi.",
  "checkout.card_number": "Karta raqami",
  "checkout.card_hint": "UzCard yoki Humo",
  "checkout.expiry": "Amal qilish muddati (OO/YY)",
  "checkout.pay": "{price} to'lash",
  "checkout.secure": "Karta raqami to'g'ridan-to'g'ri to'lov tizimiga yuboriladi va saqlanmaydi.",
  // i16-admin: the public offer under the pay button (acceptance by paying; docs/checkout.md)
  "checkout.offer_before": "To'lov qilib, siz ",
  "checkout.offer_link": "ommaviy oferta",
  "checkout.offer_after": " shartlarini qabul qilasiz.",
  "card.uzcard": "UzCard",
  "card.humo": "Humo",
  "card.error.length": "Karta raqami 16 ta raqamdan iborat.",
  "card.error.luhn": "Karta raqamida xato bor. Tekshirib ko'ring.",
  "card.error.unsupported_card": "Faqat UzCard va Humo kartalari qabul qilinadi.",
  "card.error.expiry_format": "Muddatni kartadagidek OO/YY ko'rinishida kiriting.",
  "card.error.expiry_past": "Kartaning muddati tugagan.",

  "otp.title": "SMS kod",
  "otp.sent_to": "6 xonali kod {phone} raqamiga yuborildi.",
  "otp.sent": "6 xonali kod kartaga ulangan telefon raqamiga yuborildi.",
  "otp.label": "SMS dagi kod",
  "otp.confirm": "To'lovni tasdiqlash",
  "otp.resend": "Kodni qayta yuborish",
  "otp.resend_in": "Yangi kod {s} soniyadan keyin",
  "otp.resent": "Yangi kod yuborildi.",
  "otp.attempts_left": "Qolgan urinishlar: {n}",
  "otp.error.format": "SMS dagi 6 ta raqamni kiriting.",
  "otp.back": "Kartani o'zgartirish",

  "processing.title": "To'lov amalga oshirilmoqda…",
  "processing.keep_open": "Iltimos, oynani yopmang.",
  "processing.slow_title": "To'lov tasdiqlanmoqda",
  "processing.slow_text":
    "Bank hali javob bermadi. Javob kelishi bilan bot sizga xabar beradi; pul ikki marta yechilmaydi.",

  "result.success_title": "To'lov muvaffaqiyatli",
  "result.success_text": "{plan} {date} gacha faol.",
  "result.card_saved": "Yangilash uchun karta saqlandi: {card}",
  "result.autorenew_on": "Avtomatik yangilash yoqilgan.",
  "result.autorenew_off": "Avtomatik yangilash o'chirilgan.",
  "result.failure_title": "To'lov amalga oshmadi",
  "result.try_another_card": "Boshqa karta bilan urinish",
  "result.expired_title": "To'lov havolasining muddati tugagan",
  "result.get_new_link": "Botga qayting va yangi to'lov havolasini oling.",
  "result.back_to_bot": "Botga qaytish",
  "result.my_subscription": "Mening obunam",
  "stars.pay": "Telegram Stars bilan to'lash",
  "stars.cancelled": "Stars bilan to'lov bekor qilindi. Stars yoki karta bilan to'lashingiz mumkin.",
  "stars.failed": "Telegram Stars bilan to'lov o'tmadi. Stars yechilmadi; qaytadan urinib ko'ring.",
  "stars.paid_subscription":
    "Telegram Stars bilan to'landi: Telegram uni har 30 kunda yangilaydi. “Mening obunam” bo'limida istalgan vaqtda bekor qilishingiz mumkin.",
  "stars.paid_once": "Telegram Stars bilan to'landi.",

  "error.WRONG_OTP": "Kod noto'g'ri.",
  "error.OTP_EXPIRED": "Kodning muddati tugagan. Yangi kod so'rang.",
  "error.OTP_ATTEMPTS_EXCEEDED": "Noto'g'ri kod juda ko'p kiritildi. To'lov to'xtatildi; pul yechilmadi.",
  "error.OTP_RESEND_TOO_SOON": "Yangi kod so'rashdan oldin biroz kuting.",
  "error.INSUFFICIENT_FUNDS": "Kartada mablag' yetarli emas.",
  "error.CARD_EXPIRED": "Kartaning muddati tugagan.",
  "error.CARD_BLOCKED": "Karta bloklangan. Bankingizga murojaat qiling yoki boshqa kartadan foydalaning.",
  "error.CARD_DECLINED": "Bank to'lovni rad etdi.",
  "error.SMS_NOT_CONNECTED":
    "Kartaga SMS-xabarnoma ulanmagan. Uni bankda yoqing yoki boshqa kartadan foydalaning.",
  "error.INVALID_CARD": "Karta ma'lumotlari noto'g'ri. Tekshirib ko'ring.",
  "error.UNSUPPORTED_CARD": "Faqat UzCard va Humo kartalari qabul qilinadi.",
  "error.SESSION_EXPIRED": "To'lov havolasining muddati tugagan. Botdan yangi havola oling.",
  "error.SESSION_NOT_FOUND": "To'lov havolasi topilmadi. Botdan yangi havola oling.",
  "error.SESSION_ALREADY_COMPLETED": "Bu to'lov allaqachon amalga oshirilgan.",
  "error.SESSION_FAILED": "Bu to'lov amalga oshmadi. Botdan yangi havola oling.",
  "error.INVALID_STATE": "Bu qadam endi mumkin emas. Sahifani yangilang.",
  "error.AMOUNT_MISMATCH": "Narx o'zgargan. Botdan yangi havola oling.",
  "error.UNAUTHORIZED": "Telegram hisobingizni tasdiqlab bo'lmadi. Sahifani botdan qayta oching.",
  "error.INIT_DATA_STALE":
    "Sahifa ancha oldin ochilgan. Xavfsizlik uchun uni yoping va to'lovni botdan qayta oching.",
  "error.FORBIDDEN": "Bu sahifa boshqa Telegram hisobiga tegishli.",
  "error.RATE_LIMITED": "Urinishlar juda ko'p. Bir daqiqa kutib, qayta urining.",
  "error.RATE_LIMITED_wait": "Urinishlar juda ko'p. {wait}dan keyin qayta urining.",
  "wait.minutes": "{n} daqiqa",
  "wait.seconds": "{n} soniya",
  "error.IDEMPOTENCY_IN_PROGRESS": "Oldingi so'rovingiz hali bajarilmoqda.",
  "error.PAYMENT_PROVIDER_UNAVAILABLE":
    "To'lov tizimi javob bermayapti. Pul yechilmadi; bir necha daqiqadan so'ng urinib ko'ring.",
  "error.SERVICE_UNAVAILABLE": "Xizmat vaqtincha ishlamayapti. Bir necha daqiqadan so'ng urinib ko'ring.",
  "error.NETWORK": "Aloqa yo'q. Internetni tekshirib, qayta urining.",
  "error.CARD_NOT_FOUND": "Bu karta allaqachon o'chirilgan.",
  "error.SUBSCRIPTION_NOT_FOUND": "Obuna topilmadi.",
  "error.VALIDATION_ERROR": "Kiritilgan ma'lumotlarni tekshiring.",
  "error.UNKNOWN": "Nimadir xato ketdi. Qayta urining.",

  "account.title": "Mening obunam",
  "account.none": "Sizda hali obuna yo'q. Botda tarifni tanlang.",
  "account.status": "Holati",
  "account.status.active": "Faol",
  "account.status.past_due": "To'lov kechikmoqda",
  "account.status.canceled": "Bekor qilingan",
  "account.status.expired": "Muddati tugagan",
  "account.until": "{date} gacha faol",
  "account.ended": "{date} da tugagan",
  "account.next_charge": "Keyingi to'lov: {date}, {amount}, karta {card}",
  "account.no_next_charge": "Avtomatik to'lov rejalashtirilmagan.",
  "account.autorenew": "Avtomatik yangilash",
  "account.cancel_note": "O'chirsangiz ham, {date} gacha foydalanishingiz mumkin.",
  "account.turn_off": "O'chirish",
  "account.turn_on": "Yoqish",
  "account.cards": "Saqlangan kartalar",
  "account.no_cards": "Saqlangan karta yo'q.",
  "account.card_expiry": "{expiry} gacha",
  "account.remove": "Olib tashlash",
  "account.remove_confirm": "Karta olib tashlansinmi? Unga bog'langan avtomatik yangilash to'xtaydi.",
  "account.remove_yes": "Ha, olib tashlash",
  "account.keep": "Qoldirish",
  "account.removed": "Karta olib tashlandi.",
  "account.history": "To'lovlar tarixi",
  "account.no_payments": "Hali to'lovlar yo'q.",
  "account.kind.initial": "Xarid",
  "account.kind.renewal": "Yangilash",
  "account.payment.success": "To'langan",
  "account.payment.pending": "Kutilmoqda",
  "account.payment.failed": "Amalga oshmagan",
  "account.payment.unknown": "Tekshirilmoqda",
  "account.payment.reversed": "Qaytarilgan",
  "account.receipt": "🧾 Chek",

  "reason.failed": "To'lov o'tmadi.",
  "reason.closed": "To'lov tizimi bu to'lovni yakunlanmasdan yopdi. Pul yechilmadi.",
  "reason.reversed": "Bank bu to'lov pulini qaytardi, shuning uchun to'lov bekor qilindi.",
  "reason.new_link":
    "Bu havola orqali endi to'lab bo'lmaydi. Yangi havola olish uchun botga /premium yuboring va tarifni tanlang.",
  "reason.open_bot": "Botni ochish",
};

const ru: Dictionary = {
  "app.title": "Оплата подписки",
  "app.loading": "Загрузка…",
  "app.language": "Язык",
  "app.dev_notice":
    "Режим разработки: открыто вне Telegram как пользователь {id}. Работает, только если шлюз разрешает неподписанные запросы.",
  "app.open_in_telegram": "Откройте эту страницу из бота в Telegram.",
  "app.retry": "Повторить",
  "app.close": "Закрыть",

  "checkout.paying_as": "Оплата за аккаунт {who}",
  "checkout.paying_as_hint":
    "Подписка и сохранённая карта будут привязаны к этому аккаунту Telegram. Это не вы? Не платите: закройте страницу и откройте бота сами.",
  "checkout.plan": "Тариф",
  "checkout.price": "Цена",
  "checkout.period": "Срок",
  "checkout.period_days": "{n} дн.",
  "checkout.autorenew": "Продлевать автоматически",
  "checkout.autorenew_on":
    "Каждые {period} за день до окончания с этой карты списывается {price}. Отключить можно в любой момент в «Моя подписка»; доступ сохранится до конца срока.",
  "checkout.autorenew_off": "Разовый платёж. Подписка закончится через {period}; карта не сохраняется.",
  "checkout.card_number": "Номер карты",
  "checkout.card_hint": "UzCard или Humo",
  "checkout.expiry": "Срок действия (ММ/ГГ)",
  "checkout.pay": "Оплатить {price}",
  "checkout.secure": "Номер карты передаётся напрямую платёжной системе и не хранится.",
  // i16-admin: the public offer under the pay button (acceptance by paying; docs/checkout.md)
  "checkout.offer_before": "Оплачивая, вы принимаете условия ",
  "checkout.offer_link": "публичной оферты",
  "checkout.offer_after": ".",
  "card.uzcard": "UzCard",
  "card.humo": "Humo",
  "card.error.length": "Номер карты состоит из 16 цифр.",
  "card.error.luhn": "В номере карты опечатка. Проверьте его.",
  "card.error.unsupported_card": "Принимаются только карты UzCard и Humo.",
  "card.error.expiry_format": "Введите срок как на карте: ММ/ГГ.",
  "card.error.expiry_past": "Срок действия карты истёк.",

  "otp.title": "Код из SMS",
  "otp.sent_to": "Мы отправили 6-значный код на {phone}.",
  "otp.sent": "Мы отправили 6-значный код на телефон, привязанный к карте.",
  "otp.label": "Код из SMS",
  "otp.confirm": "Подтвердить оплату",
  "otp.resend": "Отправить код ещё раз",
  "otp.resend_in": "Новый код через {s} с",
  "otp.resent": "Новый код отправлен.",
  "otp.attempts_left": "Осталось попыток: {n}",
  "otp.error.format": "Введите 6 цифр из SMS.",
  "otp.back": "Сменить карту",

  "processing.title": "Проводим платёж…",
  "processing.keep_open": "Пожалуйста, не закрывайте окно.",
  "processing.slow_title": "Платёж подтверждается",
  "processing.slow_text":
    "Банк ещё не ответил. Бот напишет вам, как только ответ придёт; дважды деньги не спишутся.",

  "result.success_title": "Оплата прошла",
  "result.success_text": "{plan} активен до {date}.",
  "result.card_saved": "Карта сохранена для продления: {card}",
  "result.autorenew_on": "Автопродление включено.",
  "result.autorenew_off": "Автопродление выключено.",
  "result.failure_title": "Оплата не прошла",
  "result.try_another_card": "Попробовать другую карту",
  "result.expired_title": "Срок действия ссылки истёк",
  "result.get_new_link": "Вернитесь в бот и получите новую ссылку на оплату.",
  "result.back_to_bot": "Вернуться в бот",
  "result.my_subscription": "Моя подписка",
  "stars.pay": "Оплатить Telegram Stars",
  "stars.cancelled": "Оплата Stars отменена. Можно оплатить Stars или картой.",
  "stars.failed": "Оплата Telegram Stars не прошла. Stars не списаны; попробуйте ещё раз.",
  "stars.paid_subscription":
    "Оплачено Telegram Stars: Telegram продлевает подписку каждые 30 дней. Отменить можно в «Моя подписка».",
  "stars.paid_once": "Оплачено Telegram Stars.",

  "error.WRONG_OTP": "Неверный код.",
  "error.OTP_EXPIRED": "Срок действия кода истёк. Запросите новый.",
  "error.OTP_ATTEMPTS_EXCEEDED": "Слишком много неверных кодов. Платёж остановлен; деньги не списаны.",
  "error.OTP_RESEND_TOO_SOON": "Подождите немного, прежде чем запросить новый код.",
  "error.INSUFFICIENT_FUNDS": "На карте недостаточно средств.",
  "error.CARD_EXPIRED": "Срок действия карты истёк.",
  "error.CARD_BLOCKED": "Карта заблокирована. Обратитесь в банк или используйте другую карту.",
  "error.CARD_DECLINED": "Банк отклонил платёж.",
  "error.SMS_NOT_CONNECTED":
    "К карте не подключено SMS-информирование. Подключите его в банке или используйте другую карту.",
  "error.INVALID_CARD": "Данные карты неверны. Проверьте их.",
  "error.UNSUPPORTED_CARD": "Принимаются только карты UzCard и Humo.",
  "error.SESSION_EXPIRED": "Срок действия ссылки истёк. Получите новую ссылку в боте.",
  "error.SESSION_NOT_FOUND": "Ссылка на оплату не найдена. Получите новую ссылку в боте.",
  "error.SESSION_ALREADY_COMPLETED": "Этот платёж уже проведён.",
  "error.SESSION_FAILED": "Этот платёж не прошёл. Получите новую ссылку в боте.",
  "error.INVALID_STATE": "Этот шаг больше недоступен. Обновите страницу.",
  "error.AMOUNT_MISMATCH": "Цена изменилась. Получите новую ссылку в боте.",
  "error.UNAUTHORIZED": "Не удалось подтвердить ваш аккаунт Telegram. Откройте страницу из бота снова.",
  "error.INIT_DATA_STALE":
    "Страница открыта слишком давно. Для безопасности закройте её и снова откройте оплату из бота.",
  "error.FORBIDDEN": "Эта страница принадлежит другому аккаунту Telegram.",
  "error.RATE_LIMITED": "Слишком много попыток. Подождите минуту и попробуйте снова.",
  "error.RATE_LIMITED_wait": "Слишком много попыток. Попробуйте снова через {wait}",
  "wait.minutes": "{n} мин.",
  "wait.seconds": "{n} сек.",
  "error.IDEMPOTENCY_IN_PROGRESS": "Предыдущий запрос ещё обрабатывается.",
  "error.PAYMENT_PROVIDER_UNAVAILABLE":
    "Платёжная система не отвечает. Деньги не списаны; попробуйте через несколько минут.",
  "error.SERVICE_UNAVAILABLE": "Сервис временно недоступен. Попробуйте через несколько минут.",
  "error.NETWORK": "Нет соединения. Проверьте интернет и попробуйте снова.",
  "error.CARD_NOT_FOUND": "Эта карта уже удалена.",
  "error.SUBSCRIPTION_NOT_FOUND": "Подписка не найдена.",
  "error.VALIDATION_ERROR": "Проверьте введённые данные.",
  "error.UNKNOWN": "Что-то пошло не так. Попробуйте снова.",

  "account.title": "Моя подписка",
  "account.none": "У вас пока нет подписки. Выберите тариф в боте.",
  "account.status": "Статус",
  "account.status.active": "Активна",
  "account.status.past_due": "Просрочен платёж",
  "account.status.canceled": "Отменена",
  "account.status.expired": "Истекла",
  "account.until": "Активна до {date}",
  "account.ended": "Закончилась {date}",
  "account.next_charge": "Следующее списание: {date}, {amount}, карта {card}",
  "account.no_next_charge": "Автоматическое списание не запланировано.",
  "account.autorenew": "Автопродление",
  "account.cancel_note": "Если отключить, доступ сохранится до {date}.",
  "account.turn_off": "Отключить",
  "account.turn_on": "Включить",
  "account.cards": "Сохранённые карты",
  "account.no_cards": "Нет сохранённых карт.",
  "account.card_expiry": "до {expiry}",
  "account.remove": "Удалить",
  "account.remove_confirm": "Удалить карту? Автопродление с этой карты прекратится.",
  "account.remove_yes": "Да, удалить",
  "account.keep": "Оставить",
  "account.removed": "Карта удалена.",
  "account.history": "История платежей",
  "account.no_payments": "Платежей пока нет.",
  "account.kind.initial": "Покупка",
  "account.kind.renewal": "Продление",
  "account.payment.success": "Оплачено",
  "account.payment.pending": "В обработке",
  "account.payment.failed": "Не прошёл",
  "account.payment.unknown": "Проверяется",
  "account.payment.reversed": "Возвращён",
  "account.receipt": "🧾 Чек",

  "reason.failed": "Платёж не прошёл.",
  "reason.closed": "Платёжная система закрыла этот платёж до завершения. Деньги не списаны.",
  "reason.reversed": "Банк вернул деньги за этот платёж, поэтому он отменён.",
  "reason.new_link":
    "По этой ссылке оплатить уже нельзя. Отправьте боту /premium и выберите тариф, чтобы получить новую ссылку.",
  "reason.open_bot": "Открыть бота",
};

const DICTIONARIES: Record<Language, Dictionary> = { uz, ru, en };

/** Telegram `language_code` ("ru", "en-US", …) → our language; Uzbek by default. */
export function pickLanguage(code: string | null | undefined): Language {
  const base = (code ?? "").toLowerCase().split(/[-_]/)[0];
  return base === "ru" || base === "en" || base === "uz" ? base : "uz";
}

export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

export function translator(lang: Language): Translate {
  const dictionary = DICTIONARIES[lang];
  return (key, params) => {
    const text = dictionary[key] ?? en[key] ?? key;
    return params ? text.replace(/\{(\w+)\}/g, (whole, name: string) => String(params[name] ?? whole)) : text;
  };
}

/**
 * The text for a gateway error: a 429 RATE_LIMITED that says when to come back (Retry-After) names
 * the wait, rounded up to whole minutes from one minute on.
 */
export function errorText(t: Translate, error: { code: string; retryAfterS?: number }): string {
  const seconds = error.retryAfterS;
  if (error.code === "RATE_LIMITED" && typeof seconds === "number" && seconds > 0) {
    const wait =
      seconds < 60
        ? t("wait.seconds", { n: Math.ceil(seconds) })
        : t("wait.minutes", { n: Math.ceil(seconds / 60) });
    return t("error.RATE_LIMITED_wait", { wait });
  }
  return t(errorMessageKey(error.code));
}

/** Message key for a gateway error code; unknown codes get a generic text. */
export function errorMessageKey(code: string): MessageKey {
  const key = `error.${code}`;
  return key in en ? (key as MessageKey) : "error.UNKNOWN";
}

/**
 * The text for a session's `failure_reason` as the gateway stores it (an ATMOS error kind, or
 * transaction_closed / transaction_reversed / otp_attempts_exceeded): what really happened.
 */
export function failureReasonKey(reason: string | null): MessageKey {
  switch (reason) {
    case "insufficient_funds":
      return "error.INSUFFICIENT_FUNDS";
    case "card_expired":
      return "error.CARD_EXPIRED";
    case "card_blocked":
      return "error.CARD_BLOCKED";
    case "card_not_found":
    case "invalid_params":
      return "error.INVALID_CARD";
    case "sms_not_connected":
      return "error.SMS_NOT_CONNECTED";
    case "declined":
    case "card_already_bound":
      return "error.CARD_DECLINED";
    case "otp_attempts_exceeded":
      return "error.OTP_ATTEMPTS_EXCEEDED";
    case "transaction_closed":
    case "transaction_not_found":
      return "reason.closed";
    case "transaction_reversed":
      return "reason.reversed";
    default:
      return "reason.failed";
  }
}

/** Language names are shown in their own language. */
export const LANGUAGE_NAMES: Record<Language, string> = { uz: "O'zbekcha", ru: "Русский", en: "English" };
