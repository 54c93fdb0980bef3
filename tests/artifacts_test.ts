import { deepStrictEqual, notStrictEqual, rejects, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { hashConfig, isStageFresh, writeFileAtomic, writeJsonAtomic } from "../lib/pipeline/artifacts.ts";

Deno.test("hashConfig ignores key order", async () => {
  strictEqual(await hashConfig({ a: 1, b: { c: 2, d: 3 } }), await hashConfig({ b: { d: 3, c: 2 }, a: 1 }));
  notStrictEqual(await hashConfig({ a: 1 }), await hashConfig({ a: 2 }));
});

Deno.test("writeFileAtomic leaves no temporary file", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "nested", "out.json");
  await writeJsonAtomic(path, { x: 1 });
  deepStrictEqual(JSON.parse(await Deno.readTextFile(path)), { x: 1 });
  const names = [];
  for await (const entry of Deno.readDir(join(dir, "nested"))) names.push(entry.name);
  deepStrictEqual(names, ["out.json"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("writeFileAtomic keeps the old file on failure", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "out.txt");
  await writeFileAtomic(path, "old");
  // A path whose parent is a file cannot be created, so the write fails before any rename.
  await rejects(writeFileAtomic(join(path, "child.txt"), "new"));
  strictEqual(await Deno.readTextFile(path), "old");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("isStageFresh compares keys", async () => {
  const dir = await Deno.makeTempDir();
  const manifest = join(dir, "stage.json");
  strictEqual(await isStageFresh(manifest, "k1"), false);
  await writeJsonAtomic(manifest, { stage: "s", key: "k1", seconds: 1, finished_at: "" });
  strictEqual(await isStageFresh(manifest, "k1"), true);
  strictEqual(await isStageFresh(manifest, "k2"), false);
  await Deno.remove(dir, { recursive: true });
});
