/**
 * The shared entry point of command-line tasks: run `main`, exit with its status, and print an expected
 * failure as one line instead of a stack trace.
 * @module
 */

/**
 * Runs `main(Deno.args)` and exits with the status it returns. An error thrown by `main` is printed as
 * `Name: message` (with a pointer to --help for an unknown option) and exits with `failureStatus`.
 */
export async function runMain(main: (args: string[]) => Promise<number>, failureStatus = 1): Promise<never> {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    console.error(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    if (error instanceof TypeError && "code" in error && error.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      console.error("Run with --help to see the options.");
    }
    Deno.exit(failureStatus);
  }
}
