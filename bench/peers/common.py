"""What bench/relevance and bench/search share: the corpus (bench/gen-corpus,
cached under bench/out/), a store built from it (init, import --no-merge of
every library, merge, index), the exports the peers index, the ground truth,
and our side as a client of `mucluc serve` (one persistent HTTP connection)
or, when the server is not there, of `mucluc search --json`."""
import configparser
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# $BENCH_OUT moves the cache and the results elsewhere (the smoke test does).
OUT = os.environ.get("BENCH_OUT") or os.path.join(SRC, "bench", "out")


def say(*a):
    print(*a, flush=True)


def find_mucluc(opt, who):
    cands = [opt, os.environ.get("MUCLUC"), os.path.join(SRC, "build/cli/mucluc")]
    for d in sorted(os.listdir(SRC)):
        if d.startswith("build-"):
            cands.append(os.path.join(SRC, d, "cli/mucluc"))
    for c in cands:
        if c and os.access(c, os.X_OK):
            return os.path.abspath(c)
    sys.exit("%s: no mucluc binary found (give --mucluc PATH)" % who)


def has_command(mucluc, name):
    """Whether this mucluc knows the subcommand (its --help exits 0)."""
    r = subprocess.run([mucluc, name, "--help"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    return r.returncode == 0


def corpus(records, libraries, seed, quiet=True):
    """The directory of a gen-corpus run with --works (generated once)."""
    os.makedirs(OUT, exist_ok=True)
    d = os.path.join(OUT, "corpus-l%d-r%d-s%d" % (libraries, records, seed))
    if not os.path.exists(os.path.join(d, "works.tsv")):
        say("== generating %d records from %d libraries into %s (cached)" % (records, libraries, d))
        shutil.rmtree(d + ".tmp", ignore_errors=True)
        subprocess.run([sys.executable, os.path.join(SRC, "bench/gen-corpus"), "--libraries",
                        str(libraries), "--records", str(records), "--seed", str(seed), "--works",
                        "--out", d + ".tmp"] + (["--quiet"] if quiet else []), check=True)
        shutil.rmtree(d, ignore_errors=True)
        os.rename(d + ".tmp", d)
    return d


def manifest(cdir):
    out = []
    with open(os.path.join(cdir, "manifest.tsv"), encoding="utf-8") as f:
        next(f)
        for line in f:
            lid, file, fmt, enc, cnt = line.rstrip("\n").split("\t")
            out.append((lid, file, fmt, enc, int(cnt)))
    return out


def restricted_sources(cdir):
    cp = configparser.ConfigParser(interpolation=None, strict=False)
    cp.read(os.path.join(cdir, "libraries.ini"), encoding="utf-8")
    out = set()
    for sec in cp.sections():
        if sec.startswith('source "') and cp[sec].get("visibility", "public").strip() == "restricted":
            out.add(sec[len('source "'):-1])
    return out


class Store:
    """A data directory under work built from the corpus cdir."""

    def __init__(self, mucluc, cdir, work):
        self.mucluc, self.cdir, self.work = mucluc, cdir, work
        self.cfg = os.path.join(work, "mucluc.ini")
        self.data = os.path.join(work, "data")

    def run(self, *args, **kw):
        return subprocess.run([self.mucluc, "-c", self.cfg] + list(args), **kw)

    def build(self, index=True):
        """init, import every library (--no-merge), merge; then `mucluc index`
        when this mucluc has it. Returns {stage: seconds}."""
        os.makedirs(self.work, exist_ok=True)
        with open(os.path.join(self.cdir, "mucluc.ini"), encoding="utf-8") as f, \
                open(self.cfg, "w", encoding="utf-8") as g:
            for line in f:
                if line.startswith("data_dir"):
                    line = "data_dir = %s\n" % self.data
                g.write(line)
        times = {}
        self.run("init", check=True, stdout=subprocess.DEVNULL)
        t = time.monotonic()
        for lid, file, fmt, enc, _ in manifest(self.cdir):
            args = ["import", "--no-merge", "--source", lid, "--format", fmt, "--encoding", enc]
            if has_flag_no_index(self.mucluc):
                args.append("--no-index")
            self.run(*(args + [os.path.join(self.cdir, file)]), check=True,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times["import"] = time.monotonic() - t
        t = time.monotonic()
        args = ["merge"] + (["--no-index"] if has_flag_no_index(self.mucluc) else [])
        self.run(*args, check=True, stdout=subprocess.DEVNULL)
        times["merge"] = time.monotonic() - t
        if index and has_command(self.mucluc, "index"):
            t = time.monotonic()
            self.run("index", "--rebuild", check=True, stdout=subprocess.DEVNULL)
            times["index"] = time.monotonic() - t
        return times

    def union_members(self):
        """{union id (str): [(source, local id)]} from `export --union`."""
        p = subprocess.Popen([self.mucluc, "-c", self.cfg, "export", "--union"],
                             stdout=subprocess.PIPE, text=True, encoding="utf-8")
        out = {}
        for line in p.stdout:
            u = json.loads(line)
            out[str(u["id"])] = [tuple(m.split(":", 1)) for m in u.get("members", [])]
        if p.wait():
            raise RuntimeError("mucluc export --union failed")
        return out

    def export_for_peers(self, dest, skip):
        """One MARCXML file per source not in skip, each record with a 003
        holding its source id (the peers tell records apart by 003 + 001).
        Returns the list of files."""
        os.makedirs(dest, exist_ok=True)
        files = []
        for lid, _, _, _, _ in manifest(self.cdir):
            if lid in skip:
                continue
            path = os.path.join(dest, lid + ".xml")
            files.append(path)
            if os.path.exists(path):
                continue
            p = subprocess.Popen([self.mucluc, "-c", self.cfg, "export", "--source", lid,
                                  "--format", "marcxml"], stdout=subprocess.PIPE, text=True,
                                 encoding="utf-8")
            with open(path + ".tmp", "w", encoding="utf-8") as g:
                for line in p.stdout:
                    g.write(line)
                    if line.lstrip().startswith('<controlfield tag="001">'):
                        g.write('  <controlfield tag="003">%s</controlfield>\n' % lid)
            if p.wait():
                raise RuntimeError("mucluc export --source %s failed" % lid)
            os.rename(path + ".tmp", path)
        return files


_NO_INDEX = {}


def has_flag_no_index(mucluc):
    """Whether import/merge take --no-index (the index stage is timed apart)."""
    if mucluc not in _NO_INDEX:
        r = subprocess.run([mucluc, "merge", "--help"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        _NO_INDEX[mucluc] = "--no-index" in r.stdout
    return _NO_INDEX[mucluc]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Serve:
    """`mucluc serve --listen 127.0.0.1:<free port>` on the store; search()
    over one persistent HTTP/1.1 connection."""

    def __init__(self, store, log):
        self.port = free_port()
        self.logf = open(log, "w")
        self.proc = subprocess.Popen([store.mucluc, "-c", store.cfg, "serve", "--listen",
                                      "127.0.0.1:%d" % self.port], stdout=self.logf,
                                     stderr=self.logf)
        deadline = time.monotonic() + 30
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                c.request("GET", "/health")
                c.getresponse().read()
                c.close()
                break
            except (OSError, http.client.HTTPException):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("mucluc serve did not start (see %s)" % log)
                time.sleep(0.1)
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def get(self, path):
        for attempt in (0, 1):
            try:
                self.conn.request("GET", path)
                r = self.conn.getresponse()
                return r.status, r.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt:
                    raise
        return None, b""

    def search(self, text, n=10):
        """(union ids of the first n results, the parsed answer or None)."""
        status, body = self.get("/api/search?" + urllib.parse.urlencode(
            {"q": text, "size": str(n)}))
        if status != 200:
            return [], None
        js = json.loads(body)
        return [str(r["id"]) for r in js.get("results", [])], js

    def stop(self):
        self.conn.close()
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.logf.close()


class SearchCli:
    """`mucluc search --json` per query (slow: a process each), when there is
    no `serve`."""

    def __init__(self, store):
        self.store = store

    def search(self, text, n=10):
        r = self.store.run("search", "--json", "--size", str(n), "--", text,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        if r.returncode:
            return [], None
        js = json.loads(r.stdout)
        return [str(x["id"]) for x in js.get("results", [])], js

    def stop(self):
        pass
