import { prepareTestDatabase } from "@obuna/db/testing";

export default async function setup() {
  // One real Postgres database for the money core's own tests, rebuilt from the migrations.
  await prepareTestDatabase("billing", { seed: true });
}
