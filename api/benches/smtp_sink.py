#!/usr/bin/env python3
"""A mail server for the benchmarks: accepts every message over SMTP (many
per connection, as a pooled client sends them), keeps those to
owner@example.com as DIR/owner-N.eml (the benchmarks follow links in them),
and writes how many it accepted to DIR/count ten times a second.

    api/benches/smtp_sink.py PORT DIR
"""
import asyncio
import os
import sys

port, folder = int(sys.argv[1]), sys.argv[2]
os.makedirs(folder, exist_ok=True)
accepted = 0


async def session(reader, writer):
    global accepted
    writer.write(b"220 bench-sink ESMTP\r\n")
    recipients = []
    while line := await reader.readline():
        command = line.strip().upper()
        if command.startswith((b"EHLO", b"HELO")):
            writer.write(b"250 bench-sink\r\n")
        elif command.startswith(b"RCPT TO"):
            recipients.append(line.decode().lower())
            writer.write(b"250 OK\r\n")
        elif command == b"DATA":
            writer.write(b"354 go on\r\n")
            body = []
            while (line := await reader.readline()) not in (b".\r\n", b".\n", b""):
                body.append(line)
            accepted += 1
            if any("owner@example.com" in r for r in recipients):
                with open(os.path.join(folder, f"owner-{accepted}.eml"), "wb") as file:
                    file.writelines(body)
            recipients = []
            writer.write(b"250 OK queued\r\n")
        elif command == b"QUIT":
            writer.write(b"221 Bye\r\n")
            break
        else:  # MAIL FROM, RSET, NOOP
            writer.write(b"250 OK\r\n")
        await writer.drain()
    writer.close()


async def report():
    while True:
        with open(os.path.join(folder, "count.tmp"), "w") as file:
            file.write(str(accepted))
        os.replace(os.path.join(folder, "count.tmp"), os.path.join(folder, "count"))
        await asyncio.sleep(0.1)


async def main():
    server = await asyncio.start_server(session, "127.0.0.1", port)
    asyncio.create_task(report())
    async with server:
        await server.serve_forever()


asyncio.run(main())
