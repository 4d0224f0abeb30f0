// The board with 50 live calls and 10 supervisors in real browsers (a load
// measurement, not a test): examples/board_fanout publishes the calls, ten
// headless Chromium pages show the board, and each page times every turn
// event from its publication (the `sent=` stamp in its text) to its arrival
// in the page, and records the page's long main-thread tasks.
//
//   cargo build --release --example board_fanout
//   node tests/browser/fanout.mjs [calls] [browsers] [seconds]

import { spawn } from "node:child_process";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const [calls = "50", browsers = "10", seconds = "20"] = process.argv.slice(2);
const tool = spawn(
  path.join(repo, "target/release/examples/board_fanout"),
  ["--calls", calls, "--viewers", "0", "--browsers", browsers, "--seconds", seconds, "--start-after-ms", "8000"],
  { cwd: repo, stdio: ["ignore", "pipe", "inherit"] },
);
const lines = readline.createInterface({ input: tool.stdout });
const url = await new Promise((resolve) => {
  lines.on("line", (l) => {
    const m = /board at (\S+)/.exec(l);
    if (m) resolve(m[1]);
    else console.log(l);
  });
});

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
const pages = [];
for (let i = 0; i < Number(browsers); i++) {
  const ctx = await browser.newContext({
    httpCredentials: { username: "sup", password: "fanout" },
    viewport: { width: 1400, height: 900 },
  });
  await ctx.addInitScript(() => {
    window.__lat = [];
    window.__long = [];
    new PerformanceObserver((l) => l.getEntries().forEach((e) => window.__long.push(e.duration))).observe({
      type: "longtask",
      buffered: true,
    });
    const Original = window.EventSource;
    window.EventSource = class extends Original {
      constructor(...args) {
        super(...args);
        this.addEventListener("turn", (e) => {
          const sent = Number(/sent=(\d+)/.exec(JSON.parse(e.data).turn.text)?.[1]);
          if (sent) window.__lat.push(Date.now() - sent);
        });
      }
    };
  });
  const page = await ctx.newPage();
  await page.goto(url);
  await page.waitForSelector("#conn.live");
  pages.push(page);
}
await new Promise((r) => tool.once("exit", r));
const lat = [];
const long = [];
let rows = 0;
for (const p of pages) {
  lat.push(...(await p.evaluate(() => window.__lat)));
  long.push(...(await p.evaluate(() => window.__long)));
  rows = Math.max(rows, (await p.$$("#rows tr")).length);
}
lat.sort((a, b) => a - b);
long.sort((a, b) => a - b);
const q = (xs, p) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))];
console.log(
  `${browsers} browsers × ${calls} calls: ${lat.length} turn events in pages; publish → page p50 ${q(lat, 0.5)} ms, p95 ${q(lat, 0.95)} ms, max ${lat.at(-1)} ms; rows shown ${rows}; long tasks (> 50 ms) ${long.length}, longest ${long.at(-1) ?? 0} ms`,
);
await browser.close();
