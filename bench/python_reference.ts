/**
 * The Python interpreter that the reference sides of the benchmarks run on, and the installation of their
 * Debian packages.
 * @module
 */

/** Debian's interpreter, whose dist-packages hold the apt-installed python3-* modules. */
export const PYTHON = "/usr/bin/python3";

/**
 * Makes sure that {@linkcode PYTHON} can import `module`, installing the Debian package `debianPackage` with
 * apt-get when it cannot. On CI (the `CI` variable set) it installs nothing and throws instead.
 *
 * @throws {Error} when the module is missing on CI, or apt-get fails (it needs root and the Debian mirrors).
 */
export async function ensurePythonModule(module: string, debianPackage: string): Promise<void> {
  const probe = await new Deno.Command(PYTHON, { args: ["-c", `import ${module}`], stderr: "null" }).output();
  if (probe.success) return;
  if (Deno.env.get("CI")) {
    throw new Error(
      `Running the Python reference failed: ${PYTHON} has no ${module} module, and CI installs nothing. ` +
        `Install ${debianPackage} into the CI image, or run the benchmark elsewhere.`,
    );
  }

  const install = await new Deno.Command("apt-get", {
    args: ["install", "-y", "--no-install-recommends", debianPackage],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!install.success) {
    throw new Error(
      `Installing ${debianPackage} with apt-get failed: ${
        new TextDecoder().decode(install.stderr).trim()
      }. ` +
        `Install it as root with "apt-get install -y --no-install-recommends ${debianPackage}".`,
    );
  }
}
