import { runRenewalsBench } from "./renewals-bench";

await runRenewalsBench();
process.exit(0);
