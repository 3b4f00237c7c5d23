// Opens a purposelint HTML report in headless Chromium (Debian's /usr/bin/chromium, driven
// by playwright-core) and fails if the page requests anything but itself, logs an error,
// throws, or takes longer than the limit to load. Takes a full-page PNG screenshot.
//
//   node browser-check.mjs PAGE.html OUT.png [--findings N] [--max-ms MS] [--dark OUT-dark.png]
import { chromium } from "playwright-core";
import { pathToFileURL } from "node:url";

const args = process.argv.slice(2);
const [pagePath, pngPath] = args;
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const expectFindings = opt("--findings");
const maxMs = Number(opt("--max-ms") ?? 2000);
const darkPng = opt("--dark");
const url = pathToFileURL(pagePath).href;
if (!pagePath) {
  console.error("usage: node browser-check.mjs PAGE.html [OUT.png] [--findings N] [--max-ms MS] [--dark OUT.png]");
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
const problems = [];
async function open(colorScheme) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme });
  const page = await context.newPage();
  const requests = [];
  page.on("request", (r) => { if (r.url() !== url) requests.push(r.url()); });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`); });
  await page.goto(url, { waitUntil: "load" });
  // Time to the load event, and to the first frame painted after it (layout included).
  const timing = await page.evaluate(() => new Promise((resolve) => {
    const nav = performance.getEntriesByType("navigation")[0];
    requestAnimationFrame(() => requestAnimationFrame(() =>
      resolve({ load: nav.loadEventEnd, frame: performance.now() })));
  }));
  return { context, page, requests, timing };
}

const light = await open("light");
const { page, requests, timing } = light;
const findings = await page.locator("article.finding").count();
const visible = await page.locator("article.finding:visible").count();
const svg = await page.locator("svg.flows").count();
const bytes = (await page.content()).length;
console.log(JSON.stringify({ page: pagePath, bytes, findings, visible, svg,
  load_ms: Math.round(timing.load), first_frame_ms: Math.round(timing.frame) }));
if (requests.length) problems.push(`requests besides the page: ${requests.join(", ")}`);
if (expectFindings !== undefined && findings !== Number(expectFindings))
  problems.push(`expected ${expectFindings} findings, the page has ${findings}`);
if (timing.frame > maxMs) problems.push(`first frame after ${Math.round(timing.frame)} ms, limit ${maxMs} ms`);
// The filter works: a word of the first finding keeps it and hides nothing it matches.
if (findings > 0) {
  await page.fill("#q", "zzz-no-such-thing");
  await page.waitForTimeout(300);
  const none = await page.locator("article.finding:visible").count();
  if (none !== 0) problems.push(`filter for a missing word still shows ${none} findings`);
  await page.fill("#q", "");
  await page.waitForTimeout(300);
}
// Every finding shown has its details: for a large page, open the first group and
// check that its packed details were inflated into place.
if (findings > 0) {
  const group = page.locator("details.group").first();
  if (!(await group.evaluate((d) => d.open))) await group.locator("summary").first().click();
  const sub = page.locator("details.sub").first();
  if (!(await sub.evaluate((d) => d.open))) await sub.locator("summary").first().click();
  try {
    await page.locator("details.sub").first().locator("article.finding .ends").first().waitFor({ timeout: 10000 });
    const opened = await page.locator("details.sub").first().locator("article.finding").count();
    const detailed = await page.locator("details.sub").first().locator("article.finding ol.path").count();
    console.log(JSON.stringify({ first_group_findings: opened, with_path: detailed }));
    if (opened !== detailed) problems.push(`${opened - detailed} findings of the first group have no path`);
  } catch (e) {
    problems.push(`the first group's details did not appear: ${e.message}`);
  }
}
if (pngPath) {
  // A small report whole; a large one at its first opened group.
  if (findings > 50) await page.locator("details.sub").first().scrollIntoViewIfNeeded();
  await page.screenshot({ path: pngPath, fullPage: findings <= 50 });
}
if (darkPng) {
  const dark = await open("dark");
  await dark.page.screenshot({ path: darkPng, fullPage: true });
  if (dark.requests.length) problems.push(`dark: requests besides the page: ${dark.requests.join(", ")}`);
}
await browser.close();
if (problems.length) {
  for (const p of problems) console.error(`FAIL: ${p}`);
  process.exit(1);
}
console.log("ok");
