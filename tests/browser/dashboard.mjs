// The dashboard end to end in Debian's headless Chromium (driven by playwright-core, no
// downloaded browser): first paint, the hello service with 3 healthy replicas, the request
// chart moving under load, the topology, a trace's waterfall, events, topics and locks.
// Screenshots go to $GANTRY_ARTIFACTS. Prints the measured figures as JSON on the last line.
// usage: GANTRY_API=127.0.0.1:P GANTRY_GATEWAY=127.0.0.1:Q GANTRY_ARTIFACTS=dir node dashboard.mjs
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const api = process.env.GANTRY_API;
const gateway = process.env.GANTRY_GATEWAY;
const artifacts = process.env.GANTRY_ARTIFACTS ?? "artifacts";
assert.match(api ?? "", /^127\.0\.0\.1:\d+$/, "GANTRY_API must be a loopback address");
assert.match(gateway ?? "", /^127\.0\.0\.1:\d+$/, "GANTRY_GATEWAY must be a loopback address");
mkdirSync(artifacts, { recursive: true });
const origin = `http://${api}`;
const deadline = (seconds) => Date.now() + seconds * 1000;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  // This machine has no network beyond loopback: nothing in the background may try to reach out.
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
});
const figures = {};
const problems = [];

function watch(page) {
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  page.on("request", (request) => {
    const url = request.url();
    if (!url.startsWith(origin + "/") && !url.startsWith("data:")) problems.push(`request outside the agent: ${url}`);
  });
}

async function shot(page, name) {
  await page.screenshot({ path: join(artifacts, name), fullPage: true });
}

// A bounded load through the gateway: `count` requests at most, for `seconds` at most, until
// `stop.now` is set.
async function load(paths, count, seconds, stop) {
  const end = deadline(seconds);
  let sent = 0;
  let failed = 0;
  const client = async () => {
    while (sent < count && Date.now() < end && !stop.now) {
      const path = paths[sent++ % paths.length];
      try {
        const response = await fetch(`http://${gateway}${path}`);
        await response.arrayBuffer();
        if (!response.ok) failed++;
      } catch {
        failed++;
      }
    }
  };
  await Promise.all([client(), client(), client(), client()]);
  return { sent, failed };
}

try {
  // First paint and first data, each in a fresh context (nothing cached), median of 5.
  const paints = [];
  const data = [];
  for (let i = 0; i < 5; i++) {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    watch(page);
    await page.goto(`${origin}/ui/`);
    await page.waitForSelector('#services tr[data-service="hello"]', { timeout: 30_000 });
    const timing = await page.evaluate(() => {
      const paint = performance.getEntriesByName("first-contentful-paint")[0];
      return { paint: paint ? paint.startTime : -1, now: performance.now() };
    });
    paints.push(timing.paint);
    data.push(timing.now);
    await context.close();
  }
  const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
  figures.first_paint_ms = paints.map(Math.round);
  figures.first_paint_median_ms = Math.round(median(paints));
  figures.services_drawn_ms = data.map(Math.round);
  assert.ok(paints.every((p) => p > 0), "Chromium reported no first-contentful-paint");

  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  watch(page);
  await page.goto(`${origin}/ui/`);

  // The hello service, with its 3 replicas healthy.
  const hello = page.locator('#services tr[data-service="hello"]');
  await hello.waitFor({ timeout: 30_000 });
  await page.waitForFunction(
    () => document.querySelector('#services tr[data-service="hello"]')?.getAttribute("data-healthy") === "3",
    null, { timeout: 30_000 });
  assert.equal(await hello.getAttribute("data-instances"), "3");
  assert.match(await hello.locator('[data-field="replicas"]').innerText(), /^3\/3 healthy$/);
  assert.equal(await page.locator('#replicas tr[data-replica^="hello-"]').count(), 3);
  await shot(page, "overview.png");

  // The request chart moves under load: hello's newest requests/s goes above zero.
  const before = Number(await page.locator('#chart-rps .legend-item[data-series="hello"]').getAttribute("data-value") || 0);
  const stop = { now: false };
  const traffic = load(["/", "/greet", "/stock/abc"], 20_000, 30, stop);
  await page.waitForFunction(
    () => Number(document.querySelector('#chart-rps .legend-item[data-series="hello"]')?.getAttribute("data-value") || 0) > 1 &&
          (document.querySelector('#chart-rps path[data-series="hello"]')?.getAttribute("d") ?? "").includes("L"),
    null, { timeout: 30_000 });
  const during = Number(await page.locator('#chart-rps .legend-item[data-series="hello"]').getAttribute("data-value"));
  figures.chart_hello_rps = { before, during: Math.round(during) };
  assert.ok(during > before, `the chart did not move: ${before} -> ${during}`);
  // The topology shows the gateway calling hello and greeter calling hello and inventory.
  for (const [from, to] of [["gateway", "hello"], ["gateway", "greeter"], ["greeter", "hello"], ["greeter", "inventory"]]) {
    await page.waitForSelector(`#topology g.edge[data-from="${from}"][data-to="${to}"]`, { timeout: 30_000 });
  }
  await page.waitForFunction(
    () => Number(document.querySelector('#topology g.edge[data-from="greeter"][data-to="hello"]')?.getAttribute("data-rps") || 0) > 0,
    null, { timeout: 30_000 });
  // A few points on the line, for the screenshot.
  await page.waitForFunction(
    () => ((document.querySelector('#chart-rps path[data-series="hello"]')?.getAttribute("d") ?? "").match(/L/g) ?? []).length >= 4,
    null, { timeout: 30_000 });
  await shot(page, "overview-under-load.png");
  stop.now = true;
  figures.load = await traffic;
  assert.ok(figures.load.sent > 0 && figures.load.failed === 0, `load: ${JSON.stringify(figures.load)}`);

  // A trace of /greet opens as a waterfall: gateway -> greeter, greeter -> hello.
  await page.click('#nav a[data-view="traces"]');
  await page.selectOption("#trace-service", "greeter");
  const row = page.locator("#traces tr[data-trace]").filter({ hasText: "/greet" }).first();
  await row.waitFor({ timeout: 30_000 });
  await row.click();
  await page.waitForSelector("#trace .waterfall-row", { timeout: 30_000 });
  const hops = await page.locator("#trace .waterfall-row .label b").allInnerTexts();
  assert.deepEqual(hops, ["greeter", "hello"], `waterfall rows: ${hops}`);
  await page.locator("#trace .waterfall-row").nth(1).click();
  assert.match(await page.locator("#span-detail").innerText(), /mesh → hello/);
  await shot(page, "trace.png");

  // Events: the replicas' starts.
  await page.click('#nav a[data-view="events"]');
  await page.waitForSelector("#events tr[data-event]", { timeout: 30_000 });
  assert.ok((await page.locator("#events").innerText()).includes("started"));
  await shot(page, "events.png");

  // Topics and locks: the test's own topic and lock appear.
  const lock = await fetch(`${origin}/api/v1/locks/dashboard-demo`, { method: "POST", body: '{"ttl": "60s"}' });
  assert.equal(lock.status, 200);
  const published = await fetch(`${origin}/api/v1/topics/orders`, { method: "POST", body: "first order" });
  assert.equal(published.status, 200);
  await page.click('#nav a[data-view="data"]');
  await page.waitForSelector('#locks tr[data-lock="dashboard-demo"]', { timeout: 30_000 });
  await page.waitForSelector('#topics tr[data-topic="orders"]', { timeout: 30_000 });
  await shot(page, "topics-and-locks.png");

  assert.deepEqual(problems, []);
  await context.close();
} finally {
  await browser.close();
}
console.log(JSON.stringify(figures));
