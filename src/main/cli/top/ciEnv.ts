/**
 * Ink draws only its last frame, on exit, when it believes it runs in CI (its is-in-ci check: a CI,
 * CONTINUOUS_INTEGRATION or CI_* variable), which left `portwatch top` blank in a terminal whose shell exports CI
 * (and in this project's own CI). top runs only on a terminal, so it says it is not in CI before Ink loads: that
 * check reads the environment once, when its module is evaluated.
 */
export function notInCi(env: NodeJS.ProcessEnv = process.env): void {
  env.CI = 'false';
}
