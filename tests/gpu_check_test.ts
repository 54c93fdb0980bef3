import { ok, strictEqual } from "node:assert/strict";

const SCRIPT = new URL("../tasks/gpu_check.ts", import.meta.url).pathname;

Deno.test("gpu_check reports each backend", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      SCRIPT,
      "--backends",
      "auto,tensorflow,webgpu,wasm",
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
  // Without a hardware WebGPU adapter webgpu is reported with the reason; with one it is checked and measured.
  const webgpu = stdout.split("\n").filter((line) => line.startsWith("webgpu"));
  ok(
    webgpu.some((line) => line.includes("not available") || line.includes("self-test")),
    `no webgpu line in:\n${stdout}`,
  );
  const chosen = stdout.match(/^backend auto: chose (\w+)$/m);
  ok(chosen !== null, `no auto line in:\n${stdout}`);
  ok(["tensorflow", "webgpu", "wasm", "cpu"].includes(chosen[1]), chosen[1]);
  ok(
    /^wasm \(wasm\): self-test passed: \d+ checks match cpu/m.test(stdout),
    `no wasm self-test in:\n${stdout}`,
  );
  const training = stdout.match(/^wasm \(wasm\): training (\d+) tokens\/s/m);
  const prediction = stdout.match(/^wasm \(wasm\): prediction ([\d.]+) playlists\/s \(2 playlists/m);
  ok(training !== null, `no wasm training line in:\n${stdout}`);
  ok(prediction !== null, `no wasm prediction line in:\n${stdout}`);
  ok(Number(training[1]) > 0);
  ok(Number(prediction[1]) > 0);
});
