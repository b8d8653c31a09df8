// Issue 6: a static IIIF level 0 tree cut by `tessera tiles`, served by a plain static file
// server (this script's, loopback only), opened in OpenSeadragon in headless Chromium.
// It checks that every request the viewer makes is answered, that tiles draw at the home
// view (the canvas matches the tree's own reduced image) and at full resolution, and saves
// screenshots.
//
//   node osd-test.mjs TESSERA_BIN SOURCE_IMAGE WORK_DIR
//
// Needs Debian's chromium (/usr/bin/chromium) and `npm ci` in this folder.
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const [bin, source, work] = process.argv.slice(2);
// TILES_API=3 cuts an Image API 3.0 tree (`tessera tiles --api 3`); screenshots are named for it.
const api = process.env.TILES_API || "2";
const shot = (name) => path.join(work, api === "3" ? name.replace(".png", "-api3.png") : name);
if (!bin || !source || !work) {
  console.error("usage: node osd-test.mjs TESSERA_BIN SOURCE_IMAGE WORK_DIR");
  process.exit(2);
}
const here = path.dirname(fileURLToPath(import.meta.url));
const osdDir = path.join(here, "node_modules/openseadragon/build/openseadragon");
const tree = path.resolve(work, "tree");
fs.rmSync(tree, { recursive: true, force: true });
fs.mkdirSync(tree, { recursive: true });
const id = path.basename(source).replace(/\.[^.]+$/, "");

const requests = [];
const types = { ".json": "application/json", ".jpg": "image/jpeg", ".png": "image/png", ".js": "text/javascript" };
const page = `<!doctype html><html><body style="margin:0">
<div id="v" style="width:800px;height:600px;background:#000"></div>
<script src="/osd.js"></script>
<script>
  window.viewer = OpenSeadragon({ id: "v", prefixUrl: "/osd-images/", drawer: "canvas",
    tileSources: location.origin + "/iiif/${encodeURIComponent(id)}/info.json",
    animationTime: 0, blendTime: 0, immediateRender: false, showNavigationControl: false });
</script></body></html>`;
const server = http.createServer((req, res) => {
  const url = decodeURIComponent(req.url.split("?")[0]);
  let file = null;
  if (url === "/") {
    res.writeHead(200, { "Content-Type": "text/html" });
    return res.end(page);
  } else if (url === "/osd.js") {
    file = path.join(osdDir, "openseadragon.min.js");
  } else if (url.startsWith("/osd-images/")) {
    file = path.join(osdDir, "images", path.basename(url));
  } else if (url.startsWith("/iiif/")) {
    file = path.resolve(tree, "." + url.slice("/iiif".length));
    if (!file.startsWith(tree + path.sep)) file = null;
    requests.push(url);
  }
  if (!file || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    if (url.startsWith("/iiif/")) requests.push("404 " + url);
    res.writeHead(404, { "Access-Control-Allow-Origin": "*" });
    return res.end("not found");
  }
  res.writeHead(200, {
    "Content-Type": types[path.extname(file)] || "application/octet-stream",
    "Access-Control-Allow-Origin": "*",
  });
  fs.createReadStream(file).pipe(res);
});
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
const base = `http://127.0.0.1:${server.address().port}`;

// The tree is cut for this server's URL, as a museum would cut it for its own host.
execFileSync(bin, ["tiles", source, tree, "--base-url", `${base}/iiif`, "--api", api], { stdio: "inherit" });
const info = JSON.parse(fs.readFileSync(path.join(tree, id, "info.json"), "utf8"));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
let failed = [];
try {
  const tab = await browser.newPage({ viewport: { width: 800, height: 600 } });
  tab.on("pageerror", (e) => failed.push("page error: " + e.message));
  await tab.goto(base + "/");
  const settle = () => tab.waitForFunction(() => {
    const item = window.viewer && window.viewer.world.getItemAt(0);
    return item && item.getFullyLoaded() && !window.viewer.world.needsDraw();
  }, null, { timeout: 30000 });
  await settle();
  await tab.waitForTimeout(300);
  fs.mkdirSync(work, { recursive: true });
  await tab.screenshot({ path: shot("osd-home.png") });

  // Home view: the drawn image against the tree's own reduced image, scaled the same way.
  const sizes = info.sizes.map((s) => s.width);
  const heights = Object.fromEntries(info.sizes.map((s) => [s.width, s.height]));
  const home = await tab.evaluate(async ({ id, sizes, heights, api }) => {
    const v = window.viewer, item = v.world.getItemAt(0);
    const size = item.getContentSize();
    const a = item.imageToViewerElementCoordinates(new OpenSeadragon.Point(0, 0));
    const b = item.imageToViewerElementCoordinates(new OpenSeadragon.Point(size.x, size.y));
    const r = { x: Math.ceil(a.x) + 2, y: Math.ceil(a.y) + 2, w: Math.floor(b.x - a.x) - 4, h: Math.floor(b.y - a.y) - 4 };
    const canvas = v.drawer.canvas, ratio = canvas.width / canvas.clientWidth;
    const drawn = canvas.getContext("2d").getImageData(r.x * ratio, r.y * ratio, r.w * ratio, r.h * ratio);
    const width = sizes.filter((w) => w <= 2 * (b.x - a.x)).pop() || sizes[0];
    const img = new Image();
    // The tree's reduced image as the tree spells it: `w,` in 2.1, `w,h` in 3.0.
    const spelled = api === "3" ? `${width},${heights[width]}` : `${width},`;
    img.src = `/iiif/${encodeURIComponent(id)}/full/${spelled}/0/default.jpg`;
    await img.decode();
    const ref = document.createElement("canvas");
    ref.width = drawn.width; ref.height = drawn.height;
    const ctx = ref.getContext("2d");
    ctx.imageSmoothingQuality = "high";
    const sx = img.width / (b.x - a.x), sy = img.height / (b.y - a.y);
    ctx.drawImage(img, (r.x - a.x) * sx, (r.y - a.y) * sy, r.w * sx, r.h * sy, 0, 0, ref.width, ref.height);
    const want = ctx.getImageData(0, 0, ref.width, ref.height);
    // A control: the same reference mirrored, i.e. the right pixels in the wrong places.
    ctx.setTransform(-1, 0, 0, 1, ref.width, 0);
    ctx.drawImage(img, (r.x - a.x) * sx, (r.y - a.y) * sy, r.w * sx, r.h * sy, 0, 0, ref.width, ref.height);
    const wrong = ctx.getImageData(0, 0, ref.width, ref.height);
    let diff = 0, control = 0, sum = 0, sum2 = 0, n = 0;
    for (let i = 0; i < drawn.data.length; i += 4) {
      for (let c = 0; c < 3; c++) {
        diff += Math.abs(drawn.data[i + c] - want.data[i + c]);
        control += Math.abs(drawn.data[i + c] - wrong.data[i + c]);
        sum += drawn.data[i + c]; sum2 += drawn.data[i + c] ** 2; n++;
      }
    }
    const mean = sum / n;
    return { rect: r, meanDiff: diff / n, control: control / n, stddev: Math.sqrt(sum2 / n - mean * mean) };
  }, { id, sizes, heights, api });
  console.log(`home view: ${home.rect.w}x${home.rect.h} px drawn; mean difference ${home.meanDiff.toFixed(2)} against the tree's reduced image, ${home.control.toFixed(2)} against it mirrored; stddev ${home.stddev.toFixed(1)}`);
  if (!(home.meanDiff < 12 && home.meanDiff < home.control / 3)) {
    failed.push(`home view differs from the image (${home.meanDiff.toFixed(2)}, control ${home.control.toFixed(2)})`);
  }
  if (!(home.stddev > 10)) failed.push("home view is blank");

  // Full resolution at the centre: scale-factor-1 tiles must be fetched and drawn.
  const before = requests.length;
  await tab.evaluate(() => {
    const v = window.viewer;
    v.viewport.zoomTo(v.viewport.imageToViewportZoom(1), null, true);
  });
  await settle();
  await tab.waitForTimeout(300);
  await tab.screenshot({ path: shot("osd-full-resolution.png") });
  // Tiles as each version spells them: `x,y,w,h/w,/…` in 2.1, `x,y,w,h/w,h/…` in 3.0.
  const full = requests.slice(before).filter((u) => /\/\d+,\d+,\d+,\d+\/\d+,(\d+)?\/0\/default\.jpg$/.test(u));
  const deep = full.filter((u) => {
    const m = u.match(/\/(\d+),(\d+),(\d+),(\d+)\/(\d+),/);
    return m && Number(m[3]) === Number(m[5]);
  });
  const stddev = await tab.evaluate(() => {
    const c = window.viewer.drawer.canvas;
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let s = 0, s2 = 0, n = 0;
    for (let i = 0; i < d.length; i += 4) { s += d[i + 1]; s2 += d[i + 1] ** 2; n++; }
    return Math.sqrt(s2 / n - (s / n) ** 2);
  });
  console.log(`full resolution: ${deep.length} full-resolution tiles fetched, canvas stddev ${stddev.toFixed(1)}`);
  if (deep.length < 4) failed.push("no full-resolution tiles were fetched");
  if (!(stddev > 10)) failed.push("full-resolution view is blank");
} finally {
  await browser.close();
  server.close();
}
const missing = requests.filter((u) => u.startsWith("404 "));
console.log(`${requests.length} requests to the tree, ${missing.length} not found`);
if (missing.length) failed.push("missing files: " + missing.slice(0, 5).join(", "));
if (failed.length) {
  console.error("FAILED:\n  " + failed.join("\n  "));
  process.exit(1);
}
console.log(`OpenSeadragon drew the static Image API ${api} tree; screenshots in ${work}`);
