// Tessera's collection browser in headless Chromium (Debian's chromium, driven by
// playwright-core), against a running Tessera over the sample images and records:
//   1. `/` shows the grid, every thumbnail loaded (naturalWidth > 0);
//   2. clicking an object opens its page, and its OpenSeadragon viewer draws tiles: the viewer's
//      area, screenshotted, is mostly picture (not the viewer's background) and varied, and
//      tile requests (an explicit region) reached Tessera; choosing another image draws it;
//   3. a limited image (sample 300003, 256 px) opens, zoomed all the way in, without a request
//      for more than 256 px, and the viewer stops zooming at its largest size;
//   4. the search box finds a sample object by title and by object number;
//   5. with JavaScript off, `/` shows the grid with its thumbnails, and an object page its
//      metadata and still image.
// Every request to Tessera must succeed, no page may throw or break its Content-Security-Policy,
// and OpenSeadragon must come from Tessera itself (the installed package: no internet here).
// Waits poll with a deadline; screenshots go to --work.
//
//   node browser-test.mjs --tessera URL --work DIR [--deadline SECONDS (60)]
import fs from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];
if (!args.tessera || !args.work) {
  console.error("usage: node browser-test.mjs --tessera URL --work DIR [--deadline SECONDS]");
  process.exit(2);
}
const tessera = args.tessera.replace(/\/$/, "");
const work = path.resolve(args.work);
fs.mkdirSync(work, { recursive: true });
const DEADLINE_MS = 1000 * Number(args.deadline || 60);
const failures = [];
const check = (ok, what) => {
  console.log(`${ok ? "PASS" : "FAIL"} ${what}`);
  if (!ok) failures.push(what);
  return ok;
};
const shot = (name) => path.join(work, name);

// A tile request: an explicit region (x,y,w,h), not `full` or `square`.
const isTile = (url) => /\/iiif\/.+\/\d+,\d+,\d+,\d+\/[^/]+\/\d+\/default\.jpg/.test(url);

/// Watches a page: its responses from Tessera, failed requests, errors and CSP violations.
function watch(page) {
  const log = { responses: [], problems: [] };
  page.on("response", (r) => {
    if (r.url().startsWith(tessera)) log.responses.push({ url: r.url().slice(tessera.length), status: r.status() });
  });
  page.on("requestfailed", (r) => log.problems.push(`request failed: ${r.url()} (${(r.failure() || {}).errorText})`));
  page.on("pageerror", (e) => log.problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" || /Content Security Policy/i.test(m.text())) log.problems.push(`console: ${m.text()}`);
  });
  return log;
}

function requestsOk(log, what) {
  const bad = log.responses.filter((r) => r.status !== 200 && r.status !== 304);
  check(bad.length === 0, `${what}: every request to Tessera succeeded (${log.responses.length}${bad.length ? `; failed: ${bad.slice(0, 5).map((r) => `${r.status} ${r.url}`).join(", ")}` : ""})`);
  check(log.problems.length === 0, `${what}: no page error, failed request or CSP violation${log.problems.length ? `: ${log.problems.slice(0, 5).join(" | ")}` : ""}`);
}

// Pixels of a PNG screenshot, measured in a blank page: the share that is not the viewer's
// background (#202022), the luma's standard deviation, and the number of distinct colours
// (quantised to 4 bits a channel).
async function measure(analysis, png) {
  return analysis.evaluate(async (b64) => {
    const img = new Image();
    img.src = "data:image/png;base64," + b64;
    await img.decode();
    const c = document.createElement("canvas");
    c.width = img.width; c.height = img.height;
    const ctx = c.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(img, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let picture = 0, sum = 0, sum2 = 0, n = 0;
    const colours = new Set();
    for (let i = 0; i < d.length; i += 4) {
      const [r, g, b] = [d[i], d[i + 1], d[i + 2]];
      if (Math.abs(r - 0x20) + Math.abs(g - 0x20) + Math.abs(b - 0x22) > 24) picture++;
      const y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
      sum += y; sum2 += y * y; n++;
      colours.add(((r >> 4) << 8) | ((g >> 4) << 4) | (b >> 4));
    }
    const mean = sum / n;
    return { picture: picture / n, sd: Math.sqrt(sum2 / n - mean * mean), colours: colours.size, mean };
  }, png.toString("base64"));
}

const drawn = (m) => m.picture > 0.3 && m.sd > 12 && m.colours > 64;
const fmt = (m) => `${(100 * m.picture).toFixed(0)}% picture, luma sd ${m.sd.toFixed(1)}, ${m.colours} colours`;

// Waits until OpenSeadragon has opened an image whose service names `identifier` and has drawn
// every tile it needs at the current view.
async function viewerLoaded(page, identifier) {
  return page.waitForFunction((id) => {
    const v = window.tesseraViewer;
    const item = v && v.world.getItemCount() === 1 && v.world.getItemAt(0);
    if (!item || !item.getFullyLoaded()) return false;
    const s = item.source;
    const url = s["@id"] || s.id || (s.levels && s.levels.length && s.levels[0].url) || "";
    return url.includes(id);
  }, identifier, { timeout: DEADLINE_MS, polling: 100 });
}

async function viewerShot(page, analysis, name) {
  const png = await page.locator("#viewer").screenshot({ path: shot(name) });
  return measure(analysis, png);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const analysis = await browser.newPage();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const log = watch(page);

  // 1. The grid, every thumbnail loaded.
  await page.goto(`${tessera}/`);
  check((await page.locator("h1").innerText()).includes("the collection"), "/ says what it is");
  check((await page.content()).includes("is a IIIF image server"), "/ says Tessera is a IIIF image server");
  const cards = page.locator("ul.grid li");
  const nCards = await cards.count();
  check(nCards >= 10, `/ shows the grid (${nCards} objects)`);
  const thumbs = page.locator("ul.grid img");
  const nThumbs = await thumbs.count();
  // Lazy images load as they come into view: scroll through the page, then wait for them all.
  for (let i = 0; i < nThumbs; i++) await thumbs.nth(i).scrollIntoViewIfNeeded();
  const loaded = await page.waitForFunction(() => {
    const imgs = [...document.querySelectorAll("ul.grid img")];
    return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0);
  }, null, { timeout: DEADLINE_MS, polling: 100 }).then(() => true, () => false);
  const widths = await thumbs.evaluateAll((imgs) => imgs.map((i) => i.naturalWidth));
  check(loaded && nThumbs >= 9 && widths.every((w) => w > 0 && w <= 200),
    `every grid thumbnail loaded (${nThumbs}: natural widths ${widths.join(" ")})`);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: shot("browser-grid.png"), fullPage: true });

  // 2. Click an object: its page, its viewer drawing tiles, then another of its images.
  await page.locator("ul.grid a", { hasText: "Lakeside Boats at Dusk" }).click();
  await page.waitForURL(/\/objects\/300001$/, { timeout: DEADLINE_MS });
  check((await page.locator("h1").innerText()) === "Lakeside Boats at Dusk", "clicking an object opens its page");
  const osdSrc = await page.locator("script[src*='openseadragon']").getAttribute("src");
  check(osdSrc.startsWith(`${tessera}/static/openseadragon/`), `OpenSeadragon comes from Tessera itself (${osdSrc})`);
  check(await page.locator("dl.metadata dt", { hasText: "Object Number" }).count() === 1, "the object page shows its metadata");
  const first = await viewerLoaded(page, "landscape-lake-boats").then(() => true, (e) => e.message);
  check(first === true, `the viewer opened the first image (${first})`);
  let m = await viewerShot(page, analysis, "browser-viewer.png");
  const tiles = log.responses.filter((r) => isTile(r.url) && r.url.includes("landscape-lake-boats"));
  check(drawn(m) && tiles.length > 0, `the viewer draws tiles: ${fmt(m)}; ${tiles.length} tile requests`);
  // Zoomed in to full resolution: more tiles, still a picture.
  const before = log.responses.length;
  await page.evaluate(() => {
    const v = window.tesseraViewer;
    v.viewport.zoomTo(v.viewport.imageToViewportZoom(1), null, true);
  });
  await viewerLoaded(page, "landscape-lake-boats").catch(() => {});
  m = await viewerShot(page, analysis, "browser-viewer-zoomed.png");
  const deep = log.responses.slice(before).filter((r) => isTile(r.url));
  check(drawn(m) && deep.length > 0, `zoomed to full resolution, the viewer draws its tiles: ${fmt(m)}; ${deep.length} more tile requests`);
  await page.screenshot({ path: shot("browser-object.png"), fullPage: true });
  await page.locator("a.choice").nth(2).click();
  const third = await viewerLoaded(page, "mosaic-six-photos").then(() => true, (e) => e.message);
  const m3 = await viewerShot(page, analysis, "browser-viewer-switched.png");
  check(third === true && drawn(m3) && Math.abs(m3.mean - m.mean) > 1,
    `choosing the third image opens it in the viewer (${third}): ${fmt(m3)}`);
  check(page.url().endsWith("/objects/300001?image=3"), "the page's address names the chosen image");
  requestsOk(log, "object page");

  // 3. A limited image: nothing over 256 px is asked for, even zoomed all the way in.
  const limited = await context.newPage();
  const limitedLog = watch(limited);
  await limited.goto(`${tessera}/objects/300003`);
  const opened = await viewerLoaded(limited, "alpha-ladybird").then(() => true, (e) => e.message);
  await limited.evaluate(() => {
    const v = window.tesseraViewer;
    v.viewport.zoomTo(v.viewport.getMaxZoom(), null, true);
  });
  await viewerLoaded(limited, "alpha-ladybird").catch(() => {});
  const zoom = await limited.evaluate(() => {
    const v = window.tesseraViewer;
    const item = v.world.getItemAt(0);
    const shown = item.getBounds(true);
    const pixels = v.viewport.deltaPixelsFromPointsNoRotate(new window.OpenSeadragon.Point(shown.width, shown.height), true);
    const at = v.viewport.pixelFromPointNoRotate(new window.OpenSeadragon.Point(shown.x, shown.y), true);
    const box = document.getElementById("viewer").getBoundingClientRect();
    return {
      imageZoom: item.viewportToImageZoom(v.viewport.getZoom(true)), width: item.source.dimensions.x,
      shownWidth: pixels.x, shownHeight: pixels.y,
      clip: { x: box.left + window.scrollX + at.x, y: box.top + window.scrollY + at.y, width: pixels.x, height: pixels.y },
    };
  });
  await limited.locator("#viewer").screenshot({ path: shot("browser-viewer-limited.png") });
  // The picture itself: the image's box in the viewer, at most 256 px.
  const ml = await measure(analysis, await limited.screenshot({ clip: zoom.clip, fullPage: true }));
  const asked = limitedLog.responses.filter((r) => r.url.includes("/alpha-ladybird/") && !r.url.endsWith("info.json"));
  // The size segment: the one after the region (full, square, x,y,w,h or pct:...).
  const sizes = asked.map((r) => {
    const m = r.url.match(/\/(?:full|square|\d+,\d+,\d+,\d+|pct:[^/]+)\/([^/]+)\/[^/]+\/[^/]+$/);
    const size = m ? m[1] : "";
    const nums = (size.match(/\d+/g) || []).map(Number);
    return { url: r.url, max: !nums.length || size.startsWith("pct:") ? Infinity : Math.max(...nums) };
  });
  check(opened === true && drawn(ml), `the limited image opens: ${fmt(ml)} (${opened})`);
  check(asked.length > 0 && sizes.every((s) => s.max <= 256),
    `the limited image's viewer asks for nothing over 256 px: ${sizes.map((s) => s.url).join(", ")}`);
  check(zoom.width <= 256 && zoom.imageZoom <= 1.0001 && Math.max(zoom.shownWidth, zoom.shownHeight) <= 256.5,
    `its viewer stops zooming at its largest size (${zoom.width} px wide; zoomed all the way in, ${zoom.imageZoom.toFixed(2)}x, shown ${zoom.shownWidth.toFixed(0)}x${zoom.shownHeight.toFixed(0)} px)`);
  requestsOk(limitedLog, "limited object page");

  // 4. The search box, by title and by object number.
  for (const [query, want] of [["ladybird", "Ladybird on a Grass Stem"], ["TS.300006", "IIIF Colour Test Chart"]]) {
    await page.goto(`${tessera}/`);
    await page.locator("input[name=q]").fill(query);
    await page.locator("input[name=q]").press("Enter");
    await page.waitForURL(/\?q=/, { timeout: DEADLINE_MS });
    const titles = await page.locator("ul.grid .title").allInnerTexts();
    check(titles.length === 1 && titles[0] === want, `searching "${query}" finds ${want} (${JSON.stringify(titles)})`);
    await page.waitForFunction(() => [...document.querySelectorAll("ul.grid img")].every((i) => i.complete && i.naturalWidth > 0),
      null, { timeout: DEADLINE_MS, polling: 100 }).catch(() => {});
    await page.screenshot({ path: shot(`browser-search-${query.replace(/\W+/g, "-")}.png`), fullPage: true });
  }
  requestsOk(log, "grid and search");

  // 5. JavaScript off: the grid and an object's metadata are still there.
  const noJs = await browser.newContext({ viewport: { width: 1280, height: 900 }, javaScriptEnabled: false });
  const plain = await noJs.newPage();
  const plainLog = watch(plain);
  await plain.goto(`${tessera}/`);
  const plainCards = await plain.locator("ul.grid li").count();
  const plainThumbs = plain.locator("ul.grid img");
  for (let i = 0; i < (await plainThumbs.count()); i++) await plainThumbs.nth(i).scrollIntoViewIfNeeded();
  let plainWidths = [];
  const plainDeadline = Date.now() + DEADLINE_MS;
  while (Date.now() < plainDeadline) {
    plainWidths = await plainThumbs.evaluateAll((imgs) => imgs.map((i) => (i.complete ? i.naturalWidth : 0)));
    if (plainWidths.length && plainWidths.every((w) => w > 0)) break;
    await plain.waitForTimeout(100);
  }
  check(plainCards === nCards && plainWidths.length === nThumbs && plainWidths.every((w) => w > 0),
    `with JavaScript off, / shows the grid (${plainCards} objects) and its thumbnails (${plainWidths.join(" ")})`);
  await plain.evaluate(() => window.scrollTo(0, 0)).catch(() => {});
  await plain.screenshot({ path: shot("browser-nojs-grid.png"), fullPage: true });
  await plain.goto(`${tessera}/objects/300001`);
  const fields = await plain.locator("dl.metadata dt").count();
  const still = plain.locator("#viewer noscript img, #viewer img").first();
  const stillOk = await still.count() && await still.evaluate((i) => i.decode().then(() => i.naturalWidth, () => 0)).catch(() => 0);
  check(fields >= 5 && stillOk > 0, `with JavaScript off, an object page shows its metadata (${fields} fields) and a still image (${stillOk} px wide)`);
  await plain.screenshot({ path: shot("browser-nojs-object.png"), fullPage: true });
  requestsOk(plainLog, "JavaScript off");
} finally {
  await browser.close();
}
console.log(failures.length ? `${failures.length} check(s) failed` : "all checks passed");
process.exit(failures.length ? 1 : 0);
