// Part of `npm test`: the browser tests drive Debian's Chromium (never a downloaded browser).
// Finds it at $CHROMIUM_PATH or /usr/bin/chromium; where it is missing and this is a Debian-like
// machine on which we may install (root, or sudo without a password), installs the `chromium`
// package; otherwise says in one line how to get it, and the test command stops there.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (existsSync(path)) process.exit(0);
const has = (cmd) => { try { execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }); return true; } catch { return false; } };
const root = process.getuid?.() === 0;
const sudo = !root && has('sudo') && (() => { try { execFileSync('sudo', ['-n', 'true'], { stdio: 'ignore' }); return true; } catch { return false; } })();
if (has('apt-get') && (root || sudo) && !process.env.CHROMIUM_PATH) {
  console.log('npm test: installing Debian\'s chromium for the browser tests (apt-get install chromium) …');
  const run = (args) => execFileSync(root ? args[0] : 'sudo', root ? args.slice(1) : args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  try {
    run(['apt-get', 'update', '-qq']);
    run(['apt-get', 'install', '-y', '-qq', 'chromium']);
  } catch {
    console.error(`npm test: installing chromium failed; install it yourself (apt-get install chromium) or set CHROMIUM_PATH to a Chromium binary`);
    process.exit(1);
  }
  if (existsSync(path)) process.exit(0);
}
console.error(`npm test: the browser tests need Chromium at ${path}: run 'sudo apt-get install chromium' (Debian/Ubuntu), or set CHROMIUM_PATH to a Chromium binary`);
process.exit(1);
