/** Plans' fiscal receipt settings: seeded placeholders, validated by the database, turned into receipt lines. */
import { eq } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { createDb } from "../src/client";
import { getPlanBySlug, isPlaceholderFiscal, planReceiptItems } from "../src/queries/index";
import { PLACEHOLDER_IKPU_CODE, plans } from "../src/schema/index";
import { testDatabaseUrl } from "../src/testing/index";

const handle = createDb(testDatabaseUrl("db"), { max: 2 });
const { db } = handle;
afterAll(() => handle.close());

describe("plan fiscal settings", () => {
  it("seeded plans carry the placeholder codes (flagged) and 12 % VAT", async () => {
    const plan = (await getPlanBySlug(db, "monthly"))!;
    expect(plan).toMatchObject({ ikpuCode: PLACEHOLDER_IKPU_CODE, vatPercent: 12 });
    expect(isPlaceholderFiscal(plan)).toBe(true);
    expect(isPlaceholderFiscal({ ikpuCode: "10305008002000000", packageCode: "1501181" })).toBe(false);
  });

  it.each([
    ["a 16-digit IKPU code", { ikpuCode: "1030500800200000" }],
    ["a non-digit IKPU code", { ikpuCode: "1030500800200000x" }],
    ["a non-digit package code", { packageCode: "15-01" }],
    ["VAT above 100", { vatPercent: 112 }],
    ["negative VAT", { vatPercent: -1 }],
  ])("the database refuses %s", async (_label, patch) => {
    await expect(
      db.transaction(async (tx) => {
        await tx.update(plans).set(patch).where(eq(plans.slug, "monthly"));
      }),
    ).rejects.toMatchObject({ cause: expect.objectContaining({ code: "23514" }) });
  });

  it("a plan's receipt is one line: its code, package code, VAT and the whole amount", () => {
    const items = planReceiptItems(
      { nameUz: "1 Oylik", ikpuCode: "10305008002000000", packageCode: "1501181", vatPercent: 12 },
      2_900_000,
    );
    expect(items).toEqual([
      {
        code: "10305008002000000",
        name: "Obuna Premium: 1 Oylik",
        amount: 2_900_000,
        quantity: 1,
        packageCode: "1501181",
        vatPercent: 12,
      },
    ]);
  });
});
