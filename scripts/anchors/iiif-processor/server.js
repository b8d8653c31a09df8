// The issue-5 "libvips through sharp" anchor: iiif-processor behind a few lines of Node http.
//   node server.js IMAGES_DIR [PORT]   ->  http://127.0.0.1:PORT/iiif/2/{id}/...
// Loopback only. Image dimensions are read once per identifier (as a real deployment would
// cache them); the pixels are processed by sharp (libvips) on every request.
"use strict";
const http = require("http");
const fs = require("fs");
const path = require("path");
const sharp = require("sharp");
const { Processor } = require("iiif-processor");

const root = path.resolve(process.argv[2] || ".");
const port = Number(process.argv[3] || 8203);
const dims = new Map();
const file = (id) => {
  const p = path.resolve(root, decodeURIComponent(id));
  if (!p.startsWith(root + path.sep)) throw Object.assign(new Error("not found"), { statusCode: 404 });
  return p;
};
const streamResolver = async ({ id }) => fs.createReadStream(file(id));
const dimensionFunction = async ({ id }) => {
  if (!dims.has(id)) {
    const m = await sharp(file(id)).metadata();
    dims.set(id, { width: m.width, height: m.height });
  }
  return dims.get(id);
};

http
  .createServer(async (req, res) => {
    try {
      const url = `http://${req.headers.host}${req.url}`;
      const result = await new Processor(url, streamResolver, { dimensionFunction }).execute();
      if (result.type === "content") {
        res.writeHead(200, { "Content-Type": result.contentType, "Access-Control-Allow-Origin": "*" });
        res.end(result.body);
      } else if (result.type === "redirect") {
        res.writeHead(303, { Location: result.location });
        res.end();
      } else {
        res.writeHead(result.statusCode || 500, { "Content-Type": "text/plain" });
        res.end(String(result.message));
      }
    } catch (e) {
      res.writeHead(e.statusCode || 500, { "Content-Type": "text/plain" });
      res.end(String(e.message));
    }
  })
  .listen(port, "127.0.0.1", () => console.log(`iiif-processor on http://127.0.0.1:${port}/iiif/2/`));
