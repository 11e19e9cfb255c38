import { prepareTestDatabase } from "../src/testing/index";

export default async function setup() {
  // The db package's own tests build their databases themselves (they test migrate and seed);
  // this one is shared by the query tests.
  await prepareTestDatabase("db", { seed: true });
}
