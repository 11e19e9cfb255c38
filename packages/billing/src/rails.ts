/** Which rail renews a subscription next: Stars (Telegram), a card (our worker), or nothing. */
export function renewsWith(sub: {
  rail: "card" | "stars";
  autoRenew: boolean;
  starsCanceledAt: Date | null;
  status: string;
}): "stars" | "card" | null {
  if (sub.status !== "active" && sub.status !== "past_due") return null;
  if (sub.rail === "stars") return sub.starsCanceledAt === null ? "stars" : null;
  return sub.autoRenew ? "card" : null;
}
