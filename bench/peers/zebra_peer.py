"""Zebra (Debian's idzebra-2.0) as a peer for bench/relevance and bench/search.

The configuration is bench/peers/zebra/: the MARCXML example of
idzebra-2.0 (/usr/share/doc/idzebra-2.0/examples/marcxml/: the dom filter,
MARC21slim2INDEX.xsl, identity.xsl for retrieval) with ICU folding chains
(fold.idx, words-fold.xml, phrases-fold.xml), a CQL-to-PQF map for SRU and a
yazgfs.xml that listens on 127.0.0.1 at a port chosen at run time. Two
changes to the example's stylesheet, made when it is copied: ISBN:n -> ISBN:p
(see fold.idx), and the record id 003:001 instead of 001 alone.

Records are told apart by 003 (the source id, added by bench/peers/common.py
when it exports the store) and 001 (the local id).
"""
import gzip
import http.client
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = "/usr/share/doc/idzebra-2.0/examples/marcxml"
TAB = "/usr/share/idzebra-2.0/tab"
MODULES = ["/usr/lib/x86_64-linux-gnu/idzebra-2.0/modules", "/usr/lib/idzebra-2.0/modules"]


def free_port():
    """A port the kernel hands out now on 127.0.0.1 (free when we bind it)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def setup(work):
    """Write the configuration into the directory work (created, emptied)."""
    shutil.rmtree(work, ignore_errors=True)
    reg = os.path.join(work, "register")
    os.makedirs(reg)
    mod = next((m for m in MODULES if os.path.isdir(m)), MODULES[0])
    src = os.path.join(HERE, "zebra")
    for name in os.listdir(src):
        with open(os.path.join(src, name), encoding="utf-8") as f:
            text = f.read()
        text = text.replace("@TAB@", TAB).replace("@MOD@", mod).replace("@REG@", reg)
        with open(os.path.join(work, name), "w", encoding="utf-8") as f:
            f.write(text)
    with gzip.open(os.path.join(EXAMPLE, "MARC21slim2INDEX.xsl.gz"), "rt", encoding="utf-8") as f:
        xsl = f.read()
    with open(os.path.join(work, "MARC21slim2INDEX.xsl"), "w", encoding="utf-8") as f:
        # The example's record id is 001 alone: local ids repeat across
        # libraries (Koha numbers), and zebraidx would replace one library's
        # record by another's. Ours is 003:001 (source:local id).
        xsl = xsl.replace('z:id="{$controlField001}"',
                          'z:id="{normalize-space(marc:controlfield[@tag=\'003\'])}:'
                          '{$controlField001}"')
        f.write(xsl.replace('name="ISBN:n"', 'name="ISBN:p"'))
    shutil.copy(os.path.join(EXAMPLE, "identity.xsl"), work)


def index(work, files):
    """zebraidx init + update of the MARCXML files; (seconds, records read).
    zebraidx's own count of inserted / updated records is in zebraidx.log
    (inserted(work) reads it)."""
    cfg = os.path.join(work, "zebra.cfg")
    log = open(os.path.join(work, "zebraidx.log"), "w")
    subprocess.run(["zebraidx", "-c", cfg, "init"], cwd=work, check=True, stdout=log, stderr=log)
    t = time.monotonic()
    subprocess.run(["zebraidx", "-c", cfg, "update"] + list(files), cwd=work, check=True,
                   stdout=log, stderr=log)
    dt = time.monotonic() - t
    log.close()
    n = 0
    with open(os.path.join(work, "zebraidx.log"), errors="replace") as f:
        for line in f:
            m = re.search(r"Records: +(\d+) i/u/d", line)
            if m:
                n = int(m.group(1))
    return dt, n


def inserted(work):
    """(inserted, updated) of the last zebraidx run: records Zebra took for
    one it had already (its default record id) are updated, not added."""
    ins = upd = 0
    with open(os.path.join(work, "zebraidx.log"), errors="replace") as f:
        for line in f:
            m = re.search(r"Records: +\d+ i/u/d (\d+)/(\d+)/", line)
            if m:
                ins, upd = int(m.group(1)), int(m.group(2))
    return ins, upd


def register_bytes(work):
    reg = os.path.join(work, "register")
    return sum(os.path.getsize(os.path.join(reg, f)) for f in os.listdir(reg))


class Server:
    """zebrasrv on 127.0.0.1:<free port>, SRU over HTTP; stop() ends it."""

    def __init__(self, work):
        self.port = free_port()
        with open(os.path.join(work, "yazgfs.xml"), encoding="utf-8") as f:
            text = f.read()
        cfg = os.path.join(work, "yazgfs-run.xml")
        with open(cfg, "w", encoding="utf-8") as f:
            f.write(text.replace("@PORT@", str(self.port)))
        # -T: one process, a thread per connection (zebrasrv forks per
        # connection otherwise); either way wrk's connections are served apart.
        self.proc = subprocess.Popen(["zebrasrv", "-T", "-f", cfg, "-l",
                                      os.path.join(work, "zebrasrv.log"), "-v", "none"],
                                     cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("zebrasrv did not start (see %s/zebrasrv.log)" % work)
                time.sleep(0.1)
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def path(self, cql, n):
        return "/Default?" + urllib.parse.urlencode({
            "version": "1.1", "operation": "searchRetrieve", "query": cql,
            "maximumRecords": str(n), "recordSchema": "marc"})

    def search(self, cql, n=10):
        """[(source, local id)] of the first n records, or None on an SRU diagnostic."""
        for attempt in (0, 1):
            try:
                self.conn.request("GET", self.path(cql, n))
                r = self.conn.getresponse()
                body = r.read().decode("utf-8", "replace")
                break
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt:
                    raise
        if "<diag:diagnostic" in body and "<zs:numberOfRecords>" not in body:
            return None
        out = []
        for rec in body.split("<zs:record>")[1:]:
            f001 = re.search(r'tag="001">([^<]*)<', rec)
            f003 = re.search(r'tag="003">([^<]*)<', rec)
            if f001:
                out.append((f003.group(1) if f003 else "", unescape(f001.group(1))))
        return out

    def rss(self):
        return proc_rss(self.proc.pid)

    def stop(self):
        self.conn.close()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def unescape(s):
    return s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace(
        "&apos;", "'").replace("&amp;", "&")


def proc_rss(pid):
    """(RssAnon, RssFile) in KiB from /proc/PID/status."""
    anon = file = 0
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    anon = int(line.split()[1])
                elif line.startswith("RssFile:"):
                    file = int(line.split()[1])
    except OSError:
        pass
    return anon, file


def cql_quote(s):
    return '"%s"' % s.replace("\\", " ").replace('"', " ").replace("*", " ").replace("?", " ")


def cql_for(q):
    """The CQL for one benchmark query (a dict from bench/relevance: kind,
    text, title, author, isbn). The example indexes no "any" field, so each
    kind goes to the index a reader would pick in an advanced search form."""
    if q.get("isbn"):
        return "bath.isbn = %s" % cql_quote(q["isbn"])
    if q.get("author"):
        return "dc.title all/relevant %s and dc.creator all/relevant %s" % (
            cql_quote(q["title"]), cql_quote(q["author"]))
    return "dc.title all/relevant %s" % cql_quote(q["text"])
