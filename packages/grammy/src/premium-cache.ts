import type { Entitlement } from "@obuna/contracts/http";
import type { EntitlementRead } from "./gateway-client";

export interface PremiumCacheOptions {
  /** How long an answer is used without asking the gateway again (ms). Default 60 s. */
  ttlMs?: number;
  /** When the gateway cannot be asked, an answer this old (ms) is still used. Default 10 minutes. */
  staleIfErrorMs?: number;
  /** Most users kept (the least recently fetched are dropped first). Default 10 000. */
  maxEntries?: number;
  clock?: () => number;
}

interface Entry {
  entitlement: Entitlement;
  etag: string | null;
  fetchedAt: number;
}

/**
 * Entitlements per Telegram user, in memory. An answer is reused for `ttlMs`; after that the gateway
 * is asked again with the ETag, so an unchanged entitlement costs a 304 with no body. Concurrent
 * lookups of one user share one request. `invalidate()` drops a user at once (the signed events will
 * call it when premium starts or ends). A user who was just sent a payment link is never answered
 * "not premium" from the cache until that link expires: the next premium-only command after paying
 * must see the payment.
 */
export class PremiumCache {
  private readonly entries = new Map<number, Entry>();
  private readonly inFlight = new Map<number, Promise<Entitlement>>();
  private readonly checkouts = new Map<number, number>();
  /** Bumped by invalidate(): an answer that was on its way before it is not stored. */
  private readonly generations = new Map<number, number>();
  private readonly ttlMs: number;
  private readonly staleIfErrorMs: number;
  private readonly maxEntries: number;
  private readonly clock: () => number;

  constructor(
    private readonly read: (telegramId: number, etag: string | null) => Promise<EntitlementRead>,
    options: PremiumCacheOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.staleIfErrorMs = options.staleIfErrorMs ?? 10 * 60_000;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.clock = options.clock ?? Date.now;
  }

  get(telegramId: number): Promise<Entitlement> {
    const now = this.clock();
    const entry = this.entries.get(telegramId);
    if (entry && now - entry.fetchedAt < this.ttlMs && !this.mustRecheck(telegramId, entry, now)) {
      return Promise.resolve(entry.entitlement);
    }
    let pending = this.inFlight.get(telegramId);
    if (!pending) {
      pending = this.refresh(telegramId, entry).finally(() => this.inFlight.delete(telegramId));
      this.inFlight.set(telegramId, pending);
    }
    return pending;
  }

  /** Drops what is known about the user: the next lookup asks the gateway. */
  invalidate(telegramId: number): void {
    this.entries.delete(telegramId);
    this.inFlight.delete(telegramId);
    this.generations.set(telegramId, (this.generations.get(telegramId) ?? 0) + 1);
  }

  noteCheckout(telegramId: number, expiresAt: Date): void {
    this.checkouts.set(telegramId, expiresAt.getTime());
  }

  private mustRecheck(telegramId: number, entry: Entry, now: number): boolean {
    const until = this.checkouts.get(telegramId);
    if (until === undefined) return false;
    if (until <= now || entry.entitlement.active) {
      this.checkouts.delete(telegramId);
      return false;
    }
    return true;
  }

  private async refresh(telegramId: number, entry: Entry | undefined): Promise<Entitlement> {
    const generation = this.generations.get(telegramId);
    let read: EntitlementRead;
    try {
      read = await this.read(telegramId, entry?.etag ?? null);
    } catch (error) {
      // The gateway is unreachable: a recent answer beats no answer (premium users keep working).
      if (entry && this.clock() - entry.fetchedAt < this.staleIfErrorMs) return entry.entitlement;
      throw error;
    }
    const fetchedAt = this.clock();
    const current = this.generations.get(telegramId) === generation;
    if (read.status === "not_modified" && entry) {
      if (current) this.store(telegramId, { ...entry, fetchedAt });
      return entry.entitlement;
    }
    if (read.status === "not_modified") {
      // 304 without a cached body cannot happen (no ETag was sent); ask again plainly.
      return this.refresh(telegramId, undefined);
    }
    if (current) this.store(telegramId, { entitlement: read.entitlement, etag: read.etag, fetchedAt });
    return read.entitlement;
  }

  private store(telegramId: number, entry: Entry): void {
    this.entries.delete(telegramId);
    this.entries.set(telegramId, entry);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    if (this.checkouts.size > this.maxEntries) this.checkouts.clear();
    if (this.generations.size > this.maxEntries) this.generations.clear();
  }
}
