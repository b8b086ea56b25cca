import { runSiChildIfAsked, SI_CHILD_FLAG } from './sources/siChild';

/**
 * Entry of the si-child bundle (out/node/si-child.cjs): systeminformation's killable helper, started by a
 * SiLauncher as `<helper> SI_CHILD_FLAG <job>` (a process-group child in plain Node, a utility process under
 * Electron). It is nothing else, so started any other way it says what it is and exits 2.
 */
if (!runSiChildIfAsked()) {
  process.stderr.write(`portwatch: this is the systeminformation helper: the monitor starts it as ${SI_CHILD_FLAG} <job>\n`);
  process.exitCode = 2;
}
