"""A real SMTP server for the tests: aiosmtpd on loopback, storing each
message it accepts as a file and refusing chosen recipients.

    smtp_sink.py --dir DIR [--port N] [--reject ADDR]... [--defer ADDR]...
                 [--die-after N]

Prints "listening on PORT" once it accepts connections (port 0: a free
one). Each accepted message is written to DIR as NNNNNN-RCPT.eml (one file
per recipient, written under a temporary name and renamed, so a reader never
sees half a file). RCPT TO an address given with --reject is answered 550,
with --defer 451. With --die-after N the process exits at the first MAIL
FROM after it accepted N messages, as a server killed mid-queue: every
message it answered 250 is on disk, the next one is cut off. Runs until
killed. aiosmtpd is pinned by .ci/run.
"""

import argparse
import asyncio
import itertools
import os
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, directory, reject, defer, die_after):
        self.directory = directory
        self.die_after = die_after
        self.accepted = 0
        self.reject = {a.lower() for a in reject}
        self.defer = {a.lower() for a in defer}
        existing = [f for f in os.listdir(directory) if f.endswith(".eml")]
        self.counter = itertools.count(len(existing) + 1)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.die_after is not None and self.accepted >= self.die_after:
            os._exit(0)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        if address.lower() in self.defer:
            return "451 4.2.0 <%s>: mailbox busy, try later" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        for rcpt in envelope.rcpt_tos:
            name = "%06d-%s.eml" % (next(self.counter), rcpt.replace("/", "_"))
            tmp = os.path.join(self.directory, "." + name + ".tmp")
            with open(tmp, "wb") as f:
                f.write(envelope.original_content or envelope.content)
            os.rename(tmp, os.path.join(self.directory, name))
        self.accepted += 1
        return "250 2.0.0 Message accepted"


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--reject", action="append", default=[])
    parser.add_argument("--defer", action="append", default=[])
    parser.add_argument("--die-after", type=int, default=None)
    args = parser.parse_args()
    handler = Sink(args.dir, args.reject, args.defer, args.die_after)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="sink.test", enable_SMTPUTF8=True),
        "127.0.0.1",
        args.port,
    )
    port = server.sockets[0].getsockname()[1]
    print("listening on %d" % port, flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
