"""Bytes a server fetches from its S3 store per tile (scripts/bench-s3.sh): a counting TCP
proxy between the server and the store, and two sequential passes over every tile of the
OpenSeadragon mix (the second with the headers cached). Prints one line per pass.

    python3 scripts/s3_bytes.py PROXY_PORT STORE_PORT  (then start the server on the proxy)
    and, once it answers: python3 scripts/s3_bytes.py measure IMAGE_BASE_URL COUNT_FILE

The proxy writes the bytes it has passed from the store to COUNT_FILE (PROXY_PORT.count)."""
import asyncio, json, sys, urllib.request


async def proxy(listen, upstream, count_file):
    total = 0

    async def pump(reader, writer, counted):
        nonlocal total
        try:
            while data := await reader.read(65536):
                if counted:
                    total += len(data)
                    with open(count_file, "w") as f:
                        f.write(str(total))
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def handle(cr, cw):
        sr, sw = await asyncio.open_connection("127.0.0.1", upstream)
        await asyncio.gather(pump(cr, sw, False), pump(sr, cw, True))

    server = await asyncio.start_server(handle, "127.0.0.1", listen)
    async with server:
        await server.serve_forever()


def tiles(base):
    info = json.load(urllib.request.urlopen(base + "/info.json"))
    w, h = info["width"], info["height"]
    t = info["tiles"][0]
    out = []
    for s in t["scaleFactors"]:
        step = t["width"] * s
        for y in range(0, h, step):
            for x in range(0, w, step):
                rw, rh = min(step, w - x), min(step, h - y)
                out.append(f"{base}/{x},{y},{rw},{rh}/{-(-rw // s)},/0/default.jpg")
    return out


def measure(base, count_file):
    read = lambda: int(open(count_file).read() or 0)
    urls = tiles(base)
    for label in ["pass 1 (cold headers)", "pass 2 (headers cached)"]:
        before, body = read(), 0
        for u in urls:
            body += len(urllib.request.urlopen(u).read())
        fetched = read() - before
        print(f"{label}: {len(urls)} tiles, {fetched / len(urls) / 1024:.1f} KiB fetched "
              f"per tile for {body / len(urls) / 1024:.1f} KiB served per tile "
              f"({fetched / body:.2f}x)")


if sys.argv[1] == "measure":
    measure(sys.argv[2], sys.argv[3])
else:
    asyncio.run(proxy(int(sys.argv[1]), int(sys.argv[2]), f"/tmp/s3-proxy-{sys.argv[1]}.count"))
