/**
 * A folder of periodic training checkpoints, from which a killed run resumes.
 *
 * Each checkpoint is a subfolder `step-<step>` (the step zero-padded to 9 digits) in the format of
 * {@linkcode saveCheckpoint}. A new checkpoint is written to a temporary folder and renamed into place, so a
 * `step-*` folder is always complete. Older checkpoints are removed only after the new one is in place, so
 * a run killed at any moment leaves at least its last complete checkpoint. The folder belongs to one
 * training run at a time.
 * @module
 */

import { join } from "node:path";
import { type Checkpoint, type CheckpointExtra, loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import type { Track2SeqModel } from "./network.ts";

const CHECKPOINT_NAME = /^step-(\d{9})$/;
/** Leftovers of an interrupted save or removal: saveCheckpoint's staging folders and our removals. */
const LEFTOVER_NAME = /^(step-\d{9}\.(tmp|old)-[0-9a-f-]+|\.removing-step-\d{9}-[0-9a-f-]+)$/;

/** Returns the subfolder name of the checkpoint after `step` steps. */
export function checkpointFolderName(step: number): string {
  if (!Number.isInteger(step) || step < 0 || step > 999_999_999) {
    throw new RangeError(
      `Naming the checkpoint failed: step ${step} is not an integer in [0, 999999999].`,
    );
  }
  return `step-${String(step).padStart(9, "0")}`;
}

/** Lists the steps of the complete checkpoints in `folder`, ascending, or none when the folder is missing. */
export async function listCheckpointSteps(folder: string): Promise<number[]> {
  const steps: number[] = [];
  try {
    for await (const entry of Deno.readDir(folder)) {
      const match = entry.isDirectory ? CHECKPOINT_NAME.exec(entry.name) : null;
      if (match !== null) steps.push(Number(match[1]));
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  return steps.sort((a, b) => a - b);
}

/**
 * Loads the checkpoint with the highest step in `folder`, or returns undefined when there is none. Pass the
 * result as `resumeFrom` to `trainTrack2Seq`. The caller owns its model and optimizer.
 *
 * @throws what {@linkcode loadCheckpoint} throws for a damaged checkpoint.
 */
export async function loadLatestCheckpoint(folder: string): Promise<Checkpoint | undefined> {
  const steps = await listCheckpointSteps(folder);
  if (steps.length === 0) return undefined;
  return await loadCheckpoint(join(folder, checkpointFolderName(steps[steps.length - 1])));
}

/**
 * Saves the checkpoint after `extra.step` steps into `folder`, then removes every other checkpoint there and
 * the leftovers of interrupted saves.
 *
 * @returns the path of the new checkpoint.
 */
export async function saveTrainingCheckpoint(
  model: Track2SeqModel,
  folder: string,
  extra: CheckpointExtra & { step: number },
): Promise<string> {
  await Deno.mkdir(folder, { recursive: true });
  const name = checkpointFolderName(extra.step);
  const path = join(folder, name);
  await saveCheckpoint(model, path, extra);

  for await (const entry of Deno.readDir(folder)) {
    const match = CHECKPOINT_NAME.exec(entry.name);
    if (match !== null && entry.isDirectory && entry.name !== name) {
      // The rename takes the old checkpoint out of sight first, so a removal killed halfway never leaves a
      // partial folder that looks like a checkpoint.
      const removing = join(folder, `.removing-${entry.name}-${crypto.randomUUID()}`);
      await Deno.rename(join(folder, entry.name), removing);
      await Deno.remove(removing, { recursive: true });
    } else if (LEFTOVER_NAME.test(entry.name)) {
      await Deno.remove(join(folder, entry.name), { recursive: true });
    }
  }
  return path;
}
