/**
 * Writing stage artifacts safely, and telling whether a stage's earlier output can be reused.
 * @module
 */

import { dirname } from "node:path";

/** Writes a file through a temporary name and a rename, so readers never see a half-written file. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    if (typeof data === "string") await Deno.writeTextFile(temporary, data);
    else await Deno.writeFile(temporary, data);
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
}

/** Writes `value` as indented JSON, atomically. */
export function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  return writeFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
}

/** Reads a JSON file, or returns undefined when it does not exist. */
export async function readJsonIfExists<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as T;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** Returns the SHA-256 hex digest of `value`'s JSON form with object keys sorted. */
export async function hashConfig(value: unknown): Promise<string> {
  const canonical = JSON.stringify(
    value,
    (_key, item) =>
      item && typeof item === "object" && !Array.isArray(item)
        ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => a.localeCompare(b)))
        : item,
  );
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The record a stage leaves beside its outputs. */
export interface StageManifest {
  stage: string;
  /** Hash of the stage's configuration and of its inputs' manifests. */
  key: string;
  seconds: number;
  finished_at: string;
}

/**
 * Returns true when `manifestPath` records a finished run with the same key, so the stage can be
 * skipped.
 */
export async function isStageFresh(manifestPath: string, key: string): Promise<boolean> {
  const manifest = await readJsonIfExists<StageManifest>(manifestPath);
  return manifest?.key === key;
}
