# python3 echo_many.py PORT: a TCP echo server on 127.0.0.1:PORT for thousands of
# connections at once (asyncio, the descriptor limit raised to its hard limit); at a
# client's EOF it closes.  For t_scale.sh and tests/bench/bench_scale.sh.
import asyncio, resource, sys

hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def echo(r, w):
    try:
        while True:
            d = await r.read(65536)
            if not d:
                break
            w.write(d)
            await w.drain()
        w.close()
    except OSError:
        pass


async def main():
    s = await asyncio.start_server(echo, '127.0.0.1', int(sys.argv[1]), backlog=4096)
    async with s:
        await s.serve_forever()

asyncio.run(main())
