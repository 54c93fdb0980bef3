/**
 * Runs the test suite and prints the plain closing line `N passed, N failed` that CI reads.
 *
 * Usage: deno task test [extra deno test arguments]
 */

const junitPath = await Deno.makeTempFile({ suffix: ".xml" });
try {
  const command = new Deno.Command(Deno.execPath(), {
    args: ["test", "-A", `--junit-path=${junitPath}`, ...Deno.args, ...(Deno.args.length ? [] : ["tests/"])],
    stdout: "inherit",
    stderr: "inherit",
  });
  const { code } = await command.output();

  // deno test writes one <testcase> per test; a failure adds a <failure> child, an ignored test <skipped/>.
  let report = "";
  try {
    report = await Deno.readTextFile(junitPath);
  } catch {
    report = "";
  }
  const total = (report.match(/<testcase /g) ?? []).length;
  const failed = (report.match(/<failure/g) ?? []).length;
  const skipped = (report.match(/<skipped/g) ?? []).length;
  const failedCount = code !== 0 && failed === 0 ? 1 : failed;
  console.log(
    `${total - failed - skipped} passed, ${failedCount} failed${skipped ? `, ${skipped} skipped` : ""}`,
  );
  Deno.exitCode = code;
} finally {
  await Deno.remove(junitPath).catch(() => {});
}
