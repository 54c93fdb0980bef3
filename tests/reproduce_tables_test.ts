import { ok, strictEqual } from "node:assert/strict";

const REPRODUCE = new URL("../tasks/reproduce.ts", import.meta.url).pathname;

/** Runs tasks/reproduce.ts with `args` and returns its exit code and output. */
async function runReproduce(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", REPRODUCE, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code: output.code, stdout: decoder.decode(output.stdout), stderr: decoder.decode(output.stderr) };
}

Deno.test("reproduce --help documents --tables", async () => {
  const { code, stdout } = await runReproduce(["--help"]);
  strictEqual(code, 0);
  ok(stdout.includes("--tables WHERE"), stdout);
  ok(stdout.includes("heap") && stdout.includes("host"), stdout);
});

Deno.test("reproduce rejects an unknown --tables", async () => {
  const { code, stderr } = await runReproduce(["--tables", "disk", "--profile", "smoke"]);
  strictEqual(code, 2, stderr);
  ok(stderr.includes('Invalid --tables "disk": use heap or host.'), stderr);
});

Deno.test("reproduce accepts --tables heap and host", async () => {
  // An unknown profile stops the run after the options are parsed and before any stage or backend starts.
  for (const tables of ["heap", "host"]) {
    const { code, stderr } = await runReproduce(["--tables", tables, "--profile", "no-such-profile"]);
    strictEqual(code, 2, stderr);
    ok(!stderr.includes("Invalid --tables"), stderr);
    ok(stderr.includes("no-such-profile"), stderr);
  }
});

Deno.test("reproduce --tables host needs the sampled softmax", async () => {
  // The smoke profile trains with the full softmax, so host tables are rejected before any stage runs.
  const full = await runReproduce(["--tables", "host", "--profile", "smoke", "--no-notebook"]);
  strictEqual(full.code, 2, full.stderr);
  ok(
    full.stderr.includes('Invalid --tables "host": host tables train only with the sampled softmax'),
    full.stderr,
  );
  ok(full.stderr.includes('uses softmax "full". Add --softmax sampled, or use --tables heap.'), full.stderr);

  const explicit = await runReproduce(["--tables", "host", "--softmax", "full", "--profile", "default"]);
  strictEqual(explicit.code, 2, explicit.stderr);
  ok(explicit.stderr.includes("host tables train only with the sampled softmax"), explicit.stderr);
});
