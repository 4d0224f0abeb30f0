// The supervisor board in a real browser (headless Chromium driven by
// playwright-core): the engine serves the board, two calls of tenant "acme"
// are streamed through it in real time with `callsense stream`, and the page
// must show both calls, each final turn (with its sentiment) and the rule's
// alert within 2 s of the result reaching the streaming client, move the
// finished calls to "ended", and show nothing to another tenant's supervisor.
//
//   node tests/browser/board.test.mjs        (after `cargo build --release`)
//
// Env: CHROMIUM (default /usr/bin/chromium), CALLSENSE_BIN (default
// target/release/callsense), BOARD_SCREENSHOTS (a folder: the board and one
// call's panel are saved there as PNG).

import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const bin = process.env.CALLSENSE_BIN || path.join(repo, "target/release/callsense");
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
/// A result must be on the page this soon after the client got it.
const LIMIT_MS = 2000;
/// The whole test, at most.
const DEADLINE_MS = 180_000;

const sha256 = (s) => createHash("sha256").update(s).digest("hex");
const children = [];

function fail(msg) {
  console.error(`FAIL: ${msg}`);
  for (const c of children) c.kill("SIGKILL");
  process.exit(1);
}

setTimeout(() => fail(`not done within ${DEADLINE_MS / 1000} s`), DEADLINE_MS).unref();

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function until(what, ms, check) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  fail(`${what}: not within ${ms} ms`);
}

const grpcPort = await freePort();
const boardPort = await freePort();
const dir = mkdtempSync(path.join(os.tmpdir(), "callsense-board-"));
writeFileSync(
  path.join(dir, "rules.toml"),
  `
[[rule]]
name = "cancel-words"
actions = [{ type = "alert", message = "The customer wants to cancel", severity = "high" }]
[rule.phrase]
forbid = ["cancel my account"]
role = "customer"
`,
);
writeFileSync(
  path.join(dir, "callsense.toml"),
  `
[server]
listen = "127.0.0.1:${grpcPort}"
[asr]
model = "models/asr-synth/ggml-callsense-synth-en-q8_0.bin"
workers = 2
[connect.rules]
file = "${path.join(dir, "rules.toml")}"
[ui]
listen = "127.0.0.1:${boardPort}"
[[ui.supervisors]]
name = "ana"
tenant = "acme"
password_sha256 = "${sha256("acme-secret")}"
[[ui.supervisors]]
name = "gus"
tenant = "globex"
password_sha256 = "${sha256("globex-secret")}"
`,
);

const server = spawn(bin, ["serve", "--config", path.join(dir, "callsense.toml")], {
  cwd: repo,
  stdio: ["ignore", "inherit", "inherit"],
  env: { ...process.env, CALLSENSE_LOG: process.env.CALLSENSE_LOG || "warn" },
});
children.push(server);
server.on("exit", (code) => {
  if (!stopping) fail(`callsense serve exited (${code})`);
});
let stopping = false;

const board = `http://127.0.0.1:${boardPort}`;
const auth = "Basic " + Buffer.from("ana:acme-secret").toString("base64");
await until("the board serving", 60_000, async () => (await fetch(`${board}/api/calls`, { headers: { authorization: auth } })).ok);

const browser = await chromium.launch({
  executablePath: chromiumPath,
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
const acmeCtx = await browser.newContext({
  httpCredentials: { username: "ana", password: "acme-secret" },
  viewport: { width: 1500, height: 900 },
});
const globexCtx = await browser.newContext({
  httpCredentials: { username: "gus", password: "globex-secret" },
  viewport: { width: 1500, height: 900 },
});
const acme = await acmeCtx.newPage();
const globex = await globexCtx.newPage();
for (const p of [acme, globex]) {
  p.on("pageerror", (e) => fail(`page error: ${e.message}`));
  await p.goto(board);
  await p.waitForSelector("#conn.live", { timeout: 10_000 });
}

// Two real-time calls; results timed as the streaming client gets them.
const latencies = [];
const checks = [];
let alertSeen = false;
function stream(callId) {
  const child = spawn(
    bin,
    ["stream", "tests/fixtures/demo_call.wav", "--server", `http://127.0.0.1:${grpcPort}`, "--as", "mulaw", "--rate", "8000",
      "--realtime", "--json", "--tenant", "acme", "--call-id", callId],
    { cwd: repo, stdio: ["ignore", "pipe", "inherit"] },
  );
  children.push(child);
  const lines = readline.createInterface({ input: child.stdout });
  lines.on("line", (line) => {
    const msg = JSON.parse(line);
    const at = Date.now();
    if (callId !== "acme-1") return;
    if (msg.result && msg.result.is_final) {
      const seq = msg.result.seq;
      checks.push(
        acme
          .waitForSelector(`#d-turns li[data-seq="${seq}"] .meta`, { timeout: LIMIT_MS })
          .then(async (el) => {
            latencies.push(Date.now() - at);
            const meta = await el.textContent();
            if (!/negative|neutral|positive/.test(meta)) fail(`turn ${seq} shows no sentiment: ${meta}`);
          })
          .catch(() => fail(`turn ${seq} of acme-1 not on the page within ${LIMIT_MS} ms`)),
      );
    }
    if (msg.rule_alert) {
      checks.push(
        acme
          .waitForSelector(`#d-alerts li:has-text("${msg.rule_alert.rule}")`, { timeout: LIMIT_MS })
          .then(() => {
            latencies.push(Date.now() - at);
            alertSeen = true;
          })
          .catch(() => fail(`alert ${msg.rule_alert.rule} not on the page within ${LIMIT_MS} ms`)),
      );
    }
  });
  return new Promise((resolve) => child.on("exit", (code) => (code === 0 ? resolve() : fail(`stream ${callId} exited ${code}`))));
}

const done = [stream("acme-1"), stream("acme-2")];
// Both calls appear; open the first one's panel.
await acme.waitForSelector('tr[data-call="acme-1"]', { timeout: 10_000 });
await acme.waitForSelector('tr[data-call="acme-2"]', { timeout: 10_000 });
await acme.click('tr[data-call="acme-1"]');
await acme.waitForSelector("#detail:not([hidden])");
if (process.env.BOARD_SCREENSHOTS) {
  setTimeout(() => {
    acme.screenshot({ path: path.join(process.env.BOARD_SCREENSHOTS, "board.png") }).catch(() => {});
  }, 30_000);
}
await Promise.all(done);
await Promise.all(checks);
if (!alertSeen) fail("the cancel-words alert never reached the page");
for (const id of ["acme-1", "acme-2"]) {
  await acme.waitForSelector(`tr[data-call="${id}"].ended`, { timeout: 5000 }).catch(() => fail(`${id} not shown as ended`));
}
const badge = await acme.textContent('tr[data-call="acme-1"] .badge');
if (badge.trim() !== "1") fail(`acme-1 shows ${badge} alerts`);
if (process.env.BOARD_SCREENSHOTS) {
  await acme.screenshot({ path: path.join(process.env.BOARD_SCREENSHOTS, "board-ended.png") });
}
// The other tenant saw nothing, live or on reload.
const theirs = await globex.$$("#rows tr");
if (theirs.length !== 0) fail(`globex's supervisor sees ${theirs.length} calls`);
await globex.reload();
await globex.waitForSelector("#conn.live");
if ((await globex.$$("#rows tr")).length !== 0) fail("globex's supervisor sees calls after a reload");
if (!(await globex.isVisible("#empty"))) fail("globex's board does not say it is empty");

latencies.sort((a, b) => a - b);
const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
console.log(
  `board: ${latencies.length} results on the page, client → page p50 ${q(0.5)} ms, p95 ${q(0.95)} ms, max ${latencies.at(-1)} ms (limit ${LIMIT_MS} ms)`,
);
await browser.close();
stopping = true;
server.kill("SIGTERM");
console.log("PASS: supervisor board in Chromium");
process.exit(0);
