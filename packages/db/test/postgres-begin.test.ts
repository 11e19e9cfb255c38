import net from "node:net";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabaseUrl } from "../src/testing/index";

/**
 * Our postgres.js patch (patches/postgres@3.4.9.patch, `begin`): a plain BEGIN is not awaited, so
 * a transaction's first statements travel in the same write (round trip) as its BEGIN. What must
 * still hold: nothing from outside joins the transaction's connection, a failed statement or BEGIN
 * commits nothing, and a BEGIN with options is still awaited before anything runs behind it.
 */
const url = testDatabaseUrl("db");
const sql = postgres(url, { max: 3, onnotice: () => {} });
const table = `begin_patch_${process.pid}`;

beforeAll(async () => {
  await sql.unsafe(`create table if not exists ${table} (id serial primary key, note text not null)`);
});

afterAll(async () => {
  await sql.unsafe(`drop table if exists ${table}`);
  await sql.end();
});

/** Socket writes made while `run` runs (postgres.js writes once per tick and connection). */
async function countWrites(run: () => Promise<unknown>) {
  const write = net.Socket.prototype.write;
  let writes = 0;
  net.Socket.prototype.write = function counted(this: net.Socket, ...args: unknown[]) {
    writes++;
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as typeof write;
  try {
    await run();
  } finally {
    net.Socket.prototype.write = write;
  }
  return writes;
}

const notes = async (note: string) =>
  (await sql.unsafe(`select count(*)::int as n from ${table} where note = $1`, [note]))[0]!.n as number;

describe("postgres.js begin (patched)", () => {
  it("sends a transaction's first statement with its BEGIN: one write fewer than statements", async () => {
    const one = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const transaction = () =>
        one.begin(async (tx) => {
          // Tagged statements, prepared once per connection (`unsafe` ones are described every time).
          const [row] = await tx`insert into ${tx(table)} (note) values (${"one-trip"}) returning id`;
          await tx`update ${tx(table)} set note = ${"one-trip"} where id = ${row!.id}`;
        });
      await transaction(); // opens the connection and prepares both statements: not counted
      const writes = await countWrites(transaction);
      // BEGIN + insert, update, COMMIT: three writes (four when BEGIN waits for its answer).
      expect(writes).toBe(3);
      expect(await notes("one-trip")).toBe(2);
    } finally {
      await one.end();
    }
  });

  it("lets no statement from outside run on a transaction's connection", async () => {
    // One connection: the statements from outside can only wait for it, never join the transaction.
    const one = postgres(url, { max: 1, onnotice: () => {} });
    try {
      await one`select 1`;
      let outside!: Promise<{ xid: string | null }[][]>;
      await one.begin(async (tx) => {
        // Sent with BEGIN, before BEGIN's answer is in: the window the patch opens.
        const insert = tx`insert into ${tx(table)} (note) values ('held')`.execute();
        // Issued now, while the transaction is open, they must wait for it to end: one run on its
        // connection would see the xid the insert assigns.
        outside = Promise.all(
          Array.from(
            { length: 10 },
            () => one<{ xid: string | null }[]>`select txid_current_if_assigned()::text as xid`,
          ),
        );
        await insert;
        await tx`select pg_sleep(0.2)`;
      });
      const xids = (await outside).map(([row]) => row!.xid);
      expect(xids).toEqual(xids.map(() => null));
    } finally {
      await one.end();
    }
  });

  it("commits nothing when a statement fails, even one sent with BEGIN", async () => {
    await expect(
      sql.begin(async (tx) => {
        const first = tx.unsafe(`insert into ${table} (note) values ('rolled-back')`);
        const second = tx.unsafe(`insert into ${table} (id, note) values (null, 'rolled-back')`);
        await Promise.all([first, second]);
      }),
    ).rejects.toMatchObject({ code: "23502" });
    expect(await notes("rolled-back")).toBe(0);
  });

  it("awaits a BEGIN with options first: one Postgres refuses leaves nothing written", async () => {
    await expect(
      sql.begin("isolation level nonsense", async (tx) => {
        await tx.unsafe(`insert into ${table} (note) values ('bad-begin')`);
      }),
    ).rejects.toMatchObject({ code: "42601" });
    expect(await notes("bad-begin")).toBe(0);
    // A valid one still works.
    await sql.begin("isolation level serializable", async (tx) => {
      const [row] = await tx`show transaction_isolation`;
      expect(row!.transaction_isolation).toBe("serializable");
    });
  });

  it("keeps concurrent transactions on a small pool apart", async () => {
    const [{ id }] = await sql.unsafe(`insert into ${table} (note) values ('0') returning id`);
    await Promise.all(
      Array.from({ length: 40 }, () =>
        sql.begin(async (tx) => {
          const [row] = await tx.unsafe(`select note from ${table} where id = $1 for update`, [id]);
          await tx.unsafe(`update ${table} set note = $1 where id = $2`, [String(Number(row!.note) + 1), id]);
        }),
      ),
    );
    const [row] = await sql.unsafe(`select note from ${table} where id = $1`, [id]);
    expect(row!.note).toBe("40");
  });
});
