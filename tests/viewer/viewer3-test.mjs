// Three real IIIF viewers against a running Tessera, in headless Chromium (Debian's chromium,
// driven by playwright-core): Mirador 4 and Clover open a Presentation 3.0 manifest, and
// OpenSeadragon opens an Image API info.json. Each must draw the image's tiles: the viewer's
// OpenSeadragon area is screenshotted until (polling, with a deadline) the picture in it matches
// the source image, scaled by the browser to the box where the viewer drew it (mean absolute
// difference, against the same reference mirrored as a control, and the mean colour). Every
// request the viewers make to Tessera must succeed, and some must be tile requests (an explicit
// region), so a viewer that shows only a thumbnail or a blank area fails. OpenSeadragon is then
// zoomed to full resolution, and its view must match the source's crop from scale-factor-1 tiles.
//
//   node viewer3-test.mjs --tessera URL --manifest URL|static --info URL --source FILE --work DIR
//                         [--only mirador,clover,osd] [--deadline SECONDS (60)]
//
// --manifest static serves a hand-made Presentation 3.0 manifest (one canvas, the image of
// --info as its body, with that info.json's service as ImageService2 or ImageService3) from this
// script's static server, for use before Tessera serves 3.0 manifests.
//
// The viewers load without a build step, from node_modules through this script's static server
// (loopback only): Mirador's UMD bundle (mirador/dist/mirador.min.js, global Mirador.viewer),
// Clover's web component bundle (@samvera/clover-iiif/dist/web-components/index.umd.js, the
// <clover-viewer iiif-content=...> element) and OpenSeadragon's build. The pages set the
// OpenSeadragon container's background to magenta, so the drawn image's box is found as the
// part of the screenshot that is not magenta.
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];
for (const k of ["tessera", "manifest", "info", "source", "work"]) {
  if (!args[k]) {
    console.error("usage: node viewer3-test.mjs --tessera URL --manifest URL|static --info URL --source FILE --work DIR [--only mirador,clover,osd]");
    process.exit(2);
  }
}
const only = (args.only || "mirador,clover,osd").split(",");
const here = path.dirname(fileURLToPath(import.meta.url));
const nm = path.join(here, "node_modules");
const work = path.resolve(args.work);
fs.mkdirSync(work, { recursive: true });
const tessera = args.tessera.replace(/\/$/, "");
const DEADLINE_MS = 1000 * Number(args.deadline || 60);

const info = await (await fetch(args.info)).json();
const infoId = info.id || info["@id"];
const serviceType = info.id ? "ImageService3" : "ImageService2";
const aspect = info.width / info.height;

const files = {
  "/lib/mirador.js": path.join(nm, "mirador/dist/mirador.min.js"),
  "/lib/clover.js": path.join(nm, "@samvera/clover-iiif/dist/web-components/index.umd.js"),
  "/lib/osd.js": path.join(nm, "openseadragon/build/openseadragon/openseadragon.min.js"),
  "/source": path.resolve(args.source),
};
const types = { ".js": "text/javascript", ".json": "application/json", ".png": "image/png", ".jpg": "image/jpeg", ".html": "text/html" };
const style = `<style>html,body{margin:0;background:#fff}
  .openseadragon-container{background:#ff00ff !important}</style>`;
let base = "";
const pages = {
  "/mirador.html": (manifest) => `<!doctype html><html><head><meta charset="utf-8">${style}</head><body>
<div id="m" style="position:absolute;inset:0"></div>
<script src="/lib/mirador.js"></script>
<script>
  Mirador.viewer({ id: "m",
    windows: [{ manifestId: ${JSON.stringify(manifest)}, thumbnailNavigationPosition: "off" }],
    window: { allowClose: false, allowMaximize: false, sideBarOpen: false, hideWindowTitle: true },
    workspaceControlPanel: { enabled: false },
    osdConfig: { animationTime: 0, blendTime: 0 } });
</script></body></html>`,
  "/clover.html": (manifest) => `<!doctype html><html><head><meta charset="utf-8">${style}</head><body>
<script src="/lib/clover.js"></script>
<div style="width:1000px;height:700px"><clover-viewer iiif-content=${JSON.stringify(manifest)}></clover-viewer></div>
</body></html>`,
  "/osd.html": () => `<!doctype html><html><head><meta charset="utf-8">${style}</head><body>
<div id="v" style="width:900px;height:600px"></div>
<script src="/lib/osd.js"></script>
<script>
  window.viewer = OpenSeadragon({ id: "v", tileSources: ${JSON.stringify(args.info)}, drawer: "canvas",
    animationTime: 0, blendTime: 0, showNavigationControl: false });
</script></body></html>`,
  "/analyze.html": () => `<!doctype html><html><body></body></html>`,
};

function staticManifest() {
  const m = `${base}/static-manifest.json`;
  return {
    "@context": "http://iiif.io/api/presentation/3/context.json",
    id: m, type: "Manifest",
    label: { en: ["Hand-made 3.0 manifest over Tessera's image service"] },
    items: [{
      id: `${m}/canvas/1`, type: "Canvas", width: info.width, height: info.height,
      items: [{
        id: `${m}/page/1`, type: "AnnotationPage",
        items: [{
          id: `${m}/annotation/1`, type: "Annotation", motivation: "painting", target: `${m}/canvas/1`,
          body: {
            id: `${infoId}/full/${serviceType === "ImageService3" ? "max" : "full"}/0/default.jpg`,
            type: "Image", format: "image/jpeg", width: info.width, height: info.height,
            service: [{ id: infoId, type: serviceType, profile: "level2" }],
          },
        }],
      }],
    }],
  };
}

const server = http.createServer((req, res) => {
  const url = req.url.split("?")[0];
  if (pages[url]) {
    res.writeHead(200, { "Content-Type": "text/html" });
    return res.end(pages[url](manifestUrl));
  }
  if (url === "/static-manifest.json") {
    res.writeHead(200, { "Content-Type": "application/json", "Access-Control-Allow-Origin": "*" });
    return res.end(JSON.stringify(staticManifest()));
  }
  const file = files[url];
  if (!file || !fs.existsSync(file)) {
    res.writeHead(404);
    return res.end("not found");
  }
  res.writeHead(200, { "Content-Type": types[path.extname(file)] || "application/octet-stream" });
  fs.createReadStream(file).pipe(res);
});
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
base = `http://127.0.0.1:${server.address().port}`;
const manifestUrl = args.manifest === "static" ? `${base}/static-manifest.json` : args.manifest;
console.log(`manifest: ${manifestUrl}\ninfo.json: ${args.info} (${info.width}x${info.height}, ${serviceType})`);

// Compares a PNG screenshot of a viewer's OpenSeadragon area with the source image, in a page
// of its own: finds the box that is not the magenta background, draws the source into a box of
// that size and measures.
async function analyze(page, png) {
  return page.evaluate(async ({ b64, aspect }) => {
    const load = async (src) => { const i = new Image(); i.src = src; await i.decode(); return i; };
    const shot = await load("data:image/png;base64," + b64);
    const W = shot.width, H = shot.height;
    const c = document.createElement("canvas"); c.width = W; c.height = H;
    const ctx = c.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(shot, 0, 0);
    const d = ctx.getImageData(0, 0, W, H).data;
    const isBg = (i) => d[i] > 200 && d[i + 1] < 60 && d[i + 2] > 200;
    // The image's box: rows and columns mostly not background. First roughly (half of the
    // fullest row or column), then each row within the rough columns and each column within the
    // rows must be 90% picture, so that the viewers' buttons and navigator beside the picture
    // do not widen the box.
    const counts = (xa, xb, ya, yb, byRow) => {
      const out = new Array(byRow ? H : W).fill(0);
      for (let y = ya; y < yb; y++) for (let x = xa; x < xb; x++) {
        if (!isBg((y * W + x) * 4)) out[byRow ? y : x]++;
      }
      return out;
    };
    const span = (c, min) => {
      const idx = c.map((v, i) => (v >= min && v > 0 ? i : -1)).filter((i) => i >= 0);
      return idx.length ? [idx[0], idx[idx.length - 1] + 1] : [0, 0];
    };
    let rowCounts = counts(0, W, 0, H, true);
    let [y0, y1] = span(rowCounts, 0.5 * Math.max(...rowCounts));
    let colCounts = counts(0, W, y0, y1, false);
    let [x0, x1] = span(colCounts, 0.5 * Math.max(...colCounts));
    [y0, y1] = span(counts(x0, x1, 0, H, true), 0.9 * (x1 - x0));
    [x0, x1] = span(counts(0, W, y0, y1, false), 0.9 * (y1 - y0));
    const box = { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
    let bgFraction = 0;
    for (let i = 0; i < d.length; i += 4) bgFraction += isBg(i);
    bgFraction /= W * H;
    if (box.w < 100 || box.h < 100) return { box, bgFraction, blank: true };
    // The reference: the source image drawn at the box's size by the browser.
    const src = await load("/source");
    // Compared: the box less 5% on the left, right and top and 15% at the bottom, where viewers
    // put their overlays (Mirador's zoom and page bar is translucent over the picture).
    const r = { x: box.x + Math.round(box.w * 0.05), y: box.y + Math.round(box.h * 0.05),
      w: Math.round(box.w * 0.9), h: Math.round(box.h * 0.8) };
    const drawn = ctx.getImageData(r.x, r.y, r.w, r.h).data;
    const ref = document.createElement("canvas"); ref.width = box.w; ref.height = box.h;
    const rctx = ref.getContext("2d", { willReadFrequently: true });
    rctx.imageSmoothingQuality = "high";
    rctx.drawImage(src, 0, 0, box.w, box.h);
    const want = rctx.getImageData(r.x - box.x, r.y - box.y, r.w, r.h).data;
    rctx.setTransform(-1, 0, 0, 1, box.w, 0);
    rctx.drawImage(src, 0, 0, box.w, box.h);
    const mirrored = rctx.getImageData(r.x - box.x, r.y - box.y, r.w, r.h).data;
    let diff = 0, control = 0, n = 0;
    const meanDrawn = [0, 0, 0], meanWant = [0, 0, 0];
    for (let i = 0; i < drawn.length; i += 4) {
      for (let k = 0; k < 3; k++) {
        diff += Math.abs(drawn[i + k] - want[i + k]);
        control += Math.abs(drawn[i + k] - mirrored[i + k]);
        meanDrawn[k] += drawn[i + k]; meanWant[k] += want[i + k];
      }
      n++;
    }
    return {
      box, bgFraction, blank: false,
      aspectError: Math.abs(box.w / box.h - aspect) / aspect,
      meanDiff: diff / (3 * n), control: control / (3 * n),
      meanDrawn: meanDrawn.map((v) => v / n), meanWant: meanWant.map((v) => v / n),
    };
  }, { b64: png.toString("base64"), aspect });
}

// Compares a screenshot that the picture fills (OpenSeadragon at full resolution) with the
// source's crop `rect` (image pixels) drawn at the screenshot's size.
async function compareCrop(page, png, rect) {
  return page.evaluate(async ({ b64, rect }) => {
    const load = async (src) => { const i = new Image(); i.src = src; await i.decode(); return i; };
    const shot = await load("data:image/png;base64," + b64);
    const W = shot.width, H = shot.height;
    const grab = (draw) => {
      const c = document.createElement("canvas"); c.width = W; c.height = H;
      const ctx = c.getContext("2d", { willReadFrequently: true });
      ctx.imageSmoothingQuality = "high";
      draw(ctx);
      return ctx.getImageData(Math.round(W * 0.05), Math.round(H * 0.05), Math.round(W * 0.9), Math.round(H * 0.8)).data;
    };
    const src = await load("/source");
    const drawn = grab((ctx) => ctx.drawImage(shot, 0, 0));
    const want = grab((ctx) => ctx.drawImage(src, rect.x, rect.y, rect.w, rect.h, 0, 0, W, H));
    const mirrored = grab((ctx) => { ctx.setTransform(-1, 0, 0, 1, W, 0); ctx.drawImage(src, rect.x, rect.y, rect.w, rect.h, 0, 0, W, H); });
    let diff = 0, control = 0, n = 0;
    for (let i = 0; i < drawn.length; i += 4) {
      for (let k = 0; k < 3; k++) {
        diff += Math.abs(drawn[i + k] - want[i + k]);
        control += Math.abs(drawn[i + k] - mirrored[i + k]);
        n++;
      }
    }
    return { meanDiff: diff / n, control: control / n };
  }, { b64: png.toString("base64"), rect });
}

function verdict(a) {
  if (!a || a.blank) return "nothing drawn";
  const why = [];
  if (a.aspectError > 0.03) why.push(`box ${a.box.w}x${a.box.h} is not the image's aspect ratio`);
  if (!(a.meanDiff < 14)) why.push(`mean difference ${a.meanDiff.toFixed(1)} >= 14`);
  if (!(a.meanDiff < a.control / 2)) why.push(`mean difference ${a.meanDiff.toFixed(1)} not under half the mirrored control's ${a.control.toFixed(1)}`);
  const colour = Math.max(...a.meanDrawn.map((v, k) => Math.abs(v - a.meanWant[k])));
  if (!(colour < 8)) why.push(`mean colour off by ${colour.toFixed(1)}`);
  return why.join("; ");
}

const fmt = (a) => a && !a.blank
  ? `box ${a.box.w}x${a.box.h} at ${a.box.x},${a.box.y}; mean difference ${a.meanDiff.toFixed(2)} (mirrored control ${a.control.toFixed(2)}); mean colour ${a.meanDrawn.map((v) => v.toFixed(0)).join(",")} vs source ${a.meanWant.map((v) => v.toFixed(0)).join(",")}`
  : `nothing drawn (${a ? (100 * a.bgFraction).toFixed(0) : "?"}% background)`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const results = [];
try {
  const analysisPage = await browser.newPage();
  await analysisPage.goto(base + "/analyze.html");
  for (const name of only) {
    const failed = [];
    const responses = [];
    const tab = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    tab.on("pageerror", (e) => failed.push("page error: " + e.message));
    tab.on("response", (r) => {
      if (r.url().startsWith(tessera)) responses.push({ url: r.url().slice(tessera.length), status: r.status() });
    });
    tab.on("requestfailed", (r) => {
      if (r.url().startsWith(tessera)) responses.push({ url: r.url().slice(tessera.length), status: "failed: " + (r.failure() || {}).errorText });
    });
    await tab.goto(`${base}/${name}.html`);
    const started = Date.now();
    let last = null, shot = null, ok = false, tries = 0;
    while (Date.now() - started < DEADLINE_MS) {
      tries++;
      const area = tab.locator(".openseadragon-container").first();
      if (await area.count()) {
        const box = await area.boundingBox();
        if (box && box.width > 50 && box.height > 50) {
          shot = await tab.screenshot({ clip: box });
          last = await analyze(analysisPage, shot);
          const tiles = responses.filter((r) => isTile(r.url));
          if (!verdict(last) && tiles.length > 0) { ok = true; break; }
        }
      }
      await tab.waitForTimeout(250);
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (shot) fs.writeFileSync(path.join(work, `${name}-3.png`), shot);
    await tab.screenshot({ path: path.join(work, `${name}-3-page.png`) });
    const bad = responses.filter((r) => r.status !== 200 && r.status !== 304);
    const tiles = responses.filter((r) => isTile(r.url));
    const images = responses.filter((r) => isImage(r.url));
    if (!ok) failed.push(`no matching picture within ${DEADLINE_MS / 1000} s: ${verdict(last)}`);
    if (tiles.length === 0) failed.push("no tile request (an image request with a region) reached Tessera");
    if (bad.length) failed.push(`failed requests to Tessera: ${bad.slice(0, 5).map((r) => `${r.status} ${r.url}`).join(", ")}`);
    console.log(`${failed.length ? "FAIL" : "PASS"} ${name}: ${fmt(last)}; ${responses.length} requests to Tessera (${images.length} images, ${tiles.length} tiles, ${bad.length} failed); ${tries} looks in ${seconds} s`);
    for (const f of failed) console.log(`     ${f}`);
    if (process.env.VIEWER3_VERBOSE) for (const r of responses) console.log(`     ${r.status} ${r.url}`);
    results.push({ name, failed });

    // OpenSeadragon only (its viewer is ours to drive): zoom to full resolution at the centre;
    // scale factor 1 tiles must be fetched, and the view must match the source's crop there.
    if (name === "osd" && ok) {
      const fullFailed = [];
      const before = responses.length;
      await tab.evaluate(() => {
        const v = window.viewer;
        v.viewport.zoomTo(v.viewport.imageToViewportZoom(1), null, true);
      });
      const t0 = Date.now();
      let m = null, deep = [], good = false, looks = 0;
      while (Date.now() - t0 < DEADLINE_MS) {
        looks++;
        const rect = await tab.evaluate(() => {
          const v = window.viewer;
          const r = v.viewport.viewportToImageRectangle(v.viewport.getBounds(true));
          return { x: r.x, y: r.y, w: r.width, h: r.height, loaded: v.world.getItemAt(0).getFullyLoaded() };
        });
        if (!rect.loaded) { await tab.waitForTimeout(250); continue; }
        const box = await tab.locator(".openseadragon-container").first().boundingBox();
        shot = await tab.screenshot({ clip: box });
        m = await compareCrop(analysisPage, shot, rect);
        deep = responses.slice(before).filter((r) => isFullResolutionTile(r.url));
        if (m.meanDiff < 14 && m.meanDiff < m.control / 2 && deep.length >= 4) { good = true; break; }
        await tab.waitForTimeout(250);
      }
      fs.writeFileSync(path.join(work, "osd-3-full-resolution.png"), shot);
      if (!good) fullFailed.push(`full resolution view: mean difference ${m.meanDiff.toFixed(2)} (mirrored ${m.control.toFixed(2)}), ${deep.length} full-resolution tiles`);
      const bad2 = responses.slice(before).filter((r) => r.status !== 200 && r.status !== 304);
      if (bad2.length) fullFailed.push(`failed requests: ${bad2.slice(0, 5).map((r) => `${r.status} ${r.url}`).join(", ")}`);
      console.log(`${fullFailed.length ? "FAIL" : "PASS"} osd-full-resolution: mean difference ${m.meanDiff.toFixed(2)} against the source's crop (mirrored control ${m.control.toFixed(2)}); ${deep.length} full-resolution tiles; ${looks} looks in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      for (const f of fullFailed) console.log(`     ${f}`);
      results.push({ name: "osd-full-resolution", failed: fullFailed });
    }
    await tab.close();
  }
} finally {
  await browser.close();
  server.close();
}

function isImage(url) {
  return /\/[^/]+\/[^/]+\/!?[-0-9.]+\/[a-z]+\.(jpg|png|webp|gif|tif)$/.test(url.split("?")[0]);
}
function isFullResolutionTile(url) {
  const m = url.split("?")[0].match(/\/\d+,\d+,(\d+),\d+\/(\d+),\d*\/0\/default\.jpg$/);
  return !!m && m[1] === m[2];
}
function isTile(url) {
  const m = url.split("?")[0].match(/\/(\d+,\d+,\d+,\d+)\/[^/]+\/!?[-0-9.]+\/[a-z]+\.(jpg|png|webp|gif|tif)$/);
  return !!m;
}

const nfailed = results.filter((r) => r.failed.length).length;
console.log(`screenshots in ${work}`);
console.log(`viewers: ${results.length - nfailed} passed, ${nfailed} failed`);
process.exit(nfailed ? 1 : 0);
