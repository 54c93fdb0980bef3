import { ok, strictEqual } from "node:assert/strict";

const SCRIPT = new URL("../tasks/gpu_check.ts", import.meta.url).pathname;

Deno.test("gpu_check reports each backend", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      SCRIPT,
      "--backends",
      "tensorflow,wasm",
      "--vocab",
      "50",
      "--seconds",
      "0.2",
      "--playlists",
      "2",
      "--predict-steps",
      "5",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  strictEqual(output.code, 0, new TextDecoder().decode(output.stderr));

  // Without a native package the tensorflow backend is reported as missing; with one it is measured.
  const tensorflow = stdout.split("\n").filter((line) => line.startsWith("tensorflow"));
  ok(
    tensorflow.some((line) => line.includes("not available") || line.includes("tokens/s")),
    `no tensorflow line in:\n${stdout}`,
  );
  const training = stdout.match(/^wasm \(wasm\): training (\d+) tokens\/s/m);
  const prediction = stdout.match(/^wasm \(wasm\): prediction ([\d.]+) playlists\/s \(2 playlists/m);
  ok(training !== null, `no wasm training line in:\n${stdout}`);
  ok(prediction !== null, `no wasm prediction line in:\n${stdout}`);
  ok(Number(training[1]) > 0);
  ok(Number(prediction[1]) > 0);
});
