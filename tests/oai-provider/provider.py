#!/usr/bin/env python3
"""provider.py - a fault-injecting OAI-PMH 2.0 provider for mucluc's tests.

Python 3 standard library only. Listens on 127.0.0.1 only; `--port 0` picks a
free port, written to `--port-file` once the socket listens. See README.md.

Modes
  generated corpus (default): N records oai:test:1 .. oai:test:N, MARCXML
      (marc21) and oai_dc renderings, datestamps spread over a date range;
      `--corpus FILE.xml ...` takes the record bodies from MARCXML files
      (bench/gen-corpus output) instead.
  replay: `--replay DIR` serves the files of DIR/<name>/ (mapping.txt: query
      string line, file line) at /replay/<name>/oai, and DIR itself at /oai
      when DIR holds mapping.txt. Files are sent with sendfile().
  render: `--render DIR` writes the pages of the generated corpus (pages of
      --page-size records, tokens p1, p2, ...) with a mapping.txt, then exits;
      serve them with `--replay DIR` (the benchmark does this).

URLs:  http://127.0.0.1:PORT[/OPT[=VAL]]*/oai?verb=...
  The path segments before `oai` are options (faults, corpus view); see
  README.md. POST /control/<op> changes the corpus and the clock;
  GET /control/state reports it.
"""
import argparse
import base64
import calendar
import gzip
import html
import json
import os
import random
import re
import socket
import struct
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/ '
        'http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">\n')
FORMATS = {
    "marc21": ("http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd",
               "http://www.loc.gov/MARC21/slim"),
    "oai_dc": ("http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
               "http://www.openarchives.org/OAI/2.0/oai_dc/"),
}
SETS = [("sach", "Sách"), ("luanvan", "Luận văn, luận án")]
INF = 1 << 60

AUTHORS = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng Cường", "Phạm Thu Dung",
           "Hoàng Minh Đức", "Vũ Thị Hằng", "Đặng Quốc Khánh", "Bùi Thị Lan"]
WORDS = ["Lịch sử", "Địa chí", "Văn hóa", "Kinh tế", "Giáo trình", "Tuyển tập",
         "Nghiên cứu", "Thơ", "Truyện ngắn", "Khoa học", "Đất nước", "Con người"]
PLACES = ["Hà Nội", "Thành phố Hồ Chí Minh", "Đà Lạt", "Huế", "Ninh Bình"]
PUBS = ["Kim Đồng", "Giáo dục Việt Nam", "Văn học", "Chính trị quốc gia", "Trẻ"]
SUBJECTS = ["Văn học Việt Nam", "Lịch sử -- Việt Nam", "Kinh tế học", "Giáo dục",
            "Địa lý -- Lâm Đồng", "Khoa học tự nhiên"]


def esc(s):
    return html.escape(s, quote=False)


def iso(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def day(ts):
    return time.strftime("%Y-%m-%d", time.gmtime(ts))


def parse_date(s):
    """'YYYY-MM-DD' or 'YYYY-MM-DDThh:mm:ssZ' -> (epoch, is_day) or None."""
    m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)(?:T(\d\d):(\d\d):(\d\d)Z)?", s or "")
    if not m:
        return None
    try:
        t = time.strptime(s[:10], "%Y-%m-%d")
    except ValueError:
        return None
    ts = calendar.timegm(t)
    if m.group(4) is None:
        return ts, True
    h, mi, se = int(m.group(4)), int(m.group(5)), int(m.group(6))
    if h > 23 or mi > 59 or se > 59:
        return None
    return ts + h * 3600 + mi * 60 + se, False


# ---------------------------------------------------------------- corpus

class Corpus:
    """The records: n -> [datestamp epoch, version, deleted]. Thread-safe."""

    def __init__(self, args):
        self.lock = threading.Lock()
        self.gen = 0               # bumped on every change
        self.recs = {}
        self.bodies = None         # n -> MARCXML <record> text (--corpus)
        if args.corpus:
            self.bodies = load_bodies(args.corpus, args.records)
            n = len(self.bodies)
        else:
            n = args.records
        t0, t1 = args.date_range
        span = max(t1 - t0, 1)
        for i in range(1, n + 1):
            ts = t0 + (span * (i - 1)) // max(n, 1)
            self.recs[i] = [ts, 1, False]
        self.next_n = n + 1
        self.now = args.now
        self._cache = {}

    def sorted_view(self):
        """[(ts, n)] in datestamp order; cached per generation."""
        with self.lock:
            key = ("all", self.gen)
            v = self._cache.get(key)
            if v is None:
                v = sorted((r[0], n) for n, r in self.recs.items())
                self._cache = {key: v}
            return v, self.gen

    def select(self, frm, until, gran_day, setspec, limit_n, deleted_policy):
        """Records matching; a cached list of n, in datestamp order."""
        view, gen = self.sorted_view()
        key = (gen, frm, until, gran_day, setspec, limit_n, deleted_policy)
        with self.lock:
            got = self._cache.get(key)
            if got is not None:
                return got
        out = []
        for ts, n in view:
            if limit_n and n > limit_n:
                continue
            d = ts - ts % 86400 if gran_day else ts
            if frm is not None and d < frm:
                continue
            if until is not None and d > until:
                continue
            if setspec and setspec != set_of(n):
                continue
            if deleted_policy == "no" and self.recs[n][2]:
                continue
            out.append(n)
        with self.lock:
            if self.gen == gen:
                self._cache[key] = out
        return out

    def get(self, n):
        with self.lock:
            r = self.recs.get(n)
            return list(r) if r else None

    def change(self, op, ids, count):
        with self.lock:
            now = self.now
            done = []
            if op == "add":
                for _ in range(count):
                    self.recs[self.next_n] = [now, 1, False]
                    done.append(self.next_n)
                    self.next_n += 1
            else:
                for n in ids:
                    r = self.recs.get(n)
                    if r is None:
                        continue
                    if op == "change":
                        r[0], r[1], r[2] = now, r[1] + 1, False
                    elif op == "delete":
                        r[0], r[2] = now, True
                    elif op == "undelete":
                        r[0], r[1], r[2] = now, r[1] + 1, False
                    done.append(n)
            self.gen += 1
            self._cache = {}
            return done


def set_of(n):
    return SETS[1][0] if n % 3 == 0 else SETS[0][0]


def load_bodies(files, limit):
    bodies = {}
    n = 0
    for f in files:
        with open(f, encoding="utf-8", errors="surrogateescape") as fh:
            text = fh.read()
        for m in re.finditer(r"<(?:marc:)?record\b.*?</(?:marc:)?record>", text, re.S):
            rec = m.group(0)
            if rec.startswith("<marc:"):
                rec = rec.replace("<marc:", "<").replace("</marc:", "</")
            if "xmlns=" not in rec[:200]:
                rec = rec.replace("<record", '<record xmlns="http://www.loc.gov/MARC21/slim"', 1)
            n += 1
            bodies[n] = rec
            if limit and n >= limit:
                return bodies
    return bodies


def render_marc(n, ts, version, bodies=None, title_suffix=""):
    if bodies is not None:
        return bodies[n]
    r = random.Random(n)
    au = r.choice(AUTHORS)
    title = "%s %s số %d" % (r.choice(WORDS), r.choice(WORDS).lower(), n)
    year = 1990 + n % 35
    f005 = time.strftime("%Y%m%d%H%M%S.0", time.gmtime(ts))
    return (
        '<record xmlns="http://www.loc.gov/MARC21/slim">'
        '<leader>00000nam a2200000 a 4500</leader>'
        '<controlfield tag="001">TEST%07d</controlfield>'
        '<controlfield tag="005">%s</controlfield>'
        '<controlfield tag="008">200101s%d    vm            000 0 vie d</controlfield>'
        '<datafield tag="100" ind1="1" ind2=" "><subfield code="a">%s</subfield></datafield>'
        '<datafield tag="245" ind1="1" ind2="0"><subfield code="a">%s%s :</subfield>'
        '<subfield code="b">bản %d /</subfield><subfield code="c">%s.</subfield></datafield>'
        '<datafield tag="260" ind1=" " ind2=" "><subfield code="a">%s :</subfield>'
        '<subfield code="b">%s,</subfield><subfield code="c">%d.</subfield></datafield>'
        '<datafield tag="300" ind1=" " ind2=" "><subfield code="a">%d tr. ;</subfield>'
        '<subfield code="c">21 cm.</subfield></datafield>'
        '<datafield tag="650" ind1=" " ind2="7"><subfield code="a">%s</subfield></datafield>'
        '</record>' % (n, f005, year, esc(au), esc(title), title_suffix, version, esc(au),
                       esc(r.choice(PLACES)), esc(r.choice(PUBS)), year, 80 + n % 400,
                       esc(r.choice(SUBJECTS))))


def render_dc(n, ts, version, bodies=None, title_suffix=""):
    r = random.Random(n)
    au = r.choice(AUTHORS)
    title = "%s %s số %d" % (r.choice(WORDS), r.choice(WORDS).lower(), n)
    if bodies is not None:
        m = re.search(r'tag="245".*?code="a">(.*?)</subfield>', bodies[n], re.S)
        title = html.unescape(m.group(1)) if m else "record %d" % n
    return (
        '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">'
        '<dc:title>%s%s (bản %d)</dc:title><dc:creator>%s</dc:creator>'
        '<dc:publisher>%s</dc:publisher><dc:date>%d</dc:date>'
        '<dc:subject>%s</dc:subject><dc:language>vie</dc:language>'
        '<dc:type>Text</dc:type><dc:identifier>TEST%07d</dc:identifier></oai_dc:dc>'
        % (esc(title), title_suffix, version, esc(au), esc(r.choice(PUBS)), 1990 + n % 35,
           esc(r.choice(SUBJECTS)), n))


# ---------------------------------------------------------------- options

FAULTS = {"503", "429", "500", "reset", "stall", "sametoken", "repeattoken", "emptypages",
          "nrmtoken",
          "badutf8", "ctrl", "entity", "truncate", "html", "expired", "liesize", "huge",
          "slow", "gzip", "deflate"}
COUNTED = {"503": 1, "429": 1, "500": 1, "reset": 1, "stall": 1, "truncate": 1, "html": INF,
           "expired": 1}


class Opts:
    """Options from the URL path: /OPT[=VAL]/.../oai."""

    def __init__(self, segs, args):
        self.key = "/".join(segs)
        self.n = 0
        self.ps = args.page_size
        self.gran_day = args.granularity == "day"
        self.deleted = args.deleted
        self.plain = False
        self.faults = {}
        self.at = None
        self.rec = 1
        self.retry_after = 1
        self.replay = None
        self.force_ce = None
        for s in segs:
            name, _, val = s.partition("=")
            if name == "n":
                self.n = int(val)
            elif name == "ps":
                self.ps = max(1, int(val))
            elif name == "gran":
                self.gran_day = val == "day"
            elif name == "del":
                if val not in ("no", "persistent", "transient"):
                    raise ValueError(s)
                self.deleted = val
            elif name == "plain":
                self.plain = True
            elif name == "at":
                self.at = int(val)
            elif name == "rec":
                self.rec = int(val)
            elif name == "retry":
                self.retry_after = int(val)
            elif name == "id":
                pass
            elif name == "replay":
                self.replay = val
            elif name in FAULTS:
                if name in ("gzip", "deflate"):
                    self.force_ce = name
                elif val == "always":
                    self.faults[name] = INF
                elif val:
                    self.faults[name] = float(val) if name in ("stall", "slow") else int(val)
                else:
                    self.faults[name] = COUNTED.get(name, 0)
            else:
                raise ValueError(s)
        if self.at is None:
            self.at = 2 if "expired" in self.faults else 0


# ---------------------------------------------------------------- the server

class State:
    def __init__(self, args):
        self.args = args
        self.corpus = Corpus(args) if not args.replay else None
        self.nonce = args.nonce or "%08x" % random.getrandbits(32)
        self.counters = {}
        self.clock_lock = threading.Lock()
        self.log_lock = threading.Lock()
        self.log = open(args.log, "a", encoding="utf-8") if args.log else None
        self.replays = {}
        if args.replay:
            if os.path.exists(os.path.join(args.replay, "mapping.txt")):
                self.replays[""] = load_mapping(args.replay)
            for d in sorted(os.listdir(args.replay)):
                p = os.path.join(args.replay, d)
                if os.path.exists(os.path.join(p, "mapping.txt")):
                    self.replays[d] = load_mapping(p)

    def now(self):
        if self.corpus:
            return self.corpus.now
        return self.args.now

    def hit(self, key, name, limit):
        """Count one use of fault `name` under `key`; True while under limit."""
        with self.clock_lock:
            k = (key, name)
            c = self.counters.get(k, 0)
            if c >= limit:
                return False
            self.counters[k] = c + 1
            return True

    def write_log(self, entry):
        if not self.log:
            return
        line = json.dumps(entry, ensure_ascii=False)
        with self.log_lock:
            self.log.write(line + "\n")
            self.log.flush()


def load_mapping(d):
    lines = open(os.path.join(d, "mapping.txt"), encoding="utf-8").read().splitlines()
    m = {}
    for q, f in zip(lines[0::2], lines[1::2]):
        m[norm_query(q)] = os.path.join(d, f.strip())
    return m


def norm_query(q):
    return "&".join(sorted("%s=%s" % (k, v) for k, v in parse_qsl(q, keep_blank_values=True)))


def make_token(st, verb, prefix, frm, until, setspec, offset):
    d = {"v": verb, "p": prefix, "f": frm, "u": until, "s": setspec, "o": offset, "n": st.nonce}
    raw = json.dumps(d, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_token(st, tok):
    try:
        raw = base64.urlsafe_b64decode(tok + "=" * (-len(tok) % 4))
        d = json.loads(raw)
        if d.get("n") != st.nonce:
            return None
        return d
    except (ValueError, TypeError):
        return None


class OAIError(Exception):
    def __init__(self, code, text):
        Exception.__init__(self, text)
        self.code = code
        self.text = text


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mucluc-test-provider/1"
    # headers and body are separate writes: without TCP_NODELAY, Nagle plus the
    # client's delayed ACK add 40 ms to a keep-alive response
    disable_nagle_algorithm = True

    def log_message(self, fmt, *a):  # quiet: the JSON log is the record
        pass

    # -- helpers
    def send_body(self, status, body, ctype="text/xml; charset=utf-8", headers=(), entry=None):
        ce = None
        ae = self.headers.get("Accept-Encoding", "") or ""
        opts = getattr(self, "opts", None)
        if opts is not None and opts.force_ce:
            ce = opts.force_ce
        elif not (opts is not None and opts.plain) and not self.server.st.args.no_compression:
            if "gzip" in ae:
                ce = "gzip"
            elif "deflate" in ae:
                ce = "deflate"
        if ce == "gzip":
            body = gzip.compress(body, 1)
        elif ce == "deflate":
            body = zlib.compress(body, 1)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if ce:
            self.send_header("Content-Encoding", ce)
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if entry is not None:
            entry["status"] = status
            entry["bytes"] = len(body)
            entry["ce"] = ce
            # Logged before the body goes out: a client that has read the
            # response must find its request in the log (tests read the log
            # as soon as the harvester exits).
            self.finish_log(entry)
        return body

    def finish_log(self, entry):
        if entry.get("_done"):
            return
        entry["ms"] = round((time.time() - self.t_start) * 1000, 1)
        self.server.st.write_log(entry)
        entry["_done"] = True

    def do_POST(self):
        self.handle_any()

    def do_GET(self):
        self.handle_any()

    def handle_any(self):
        self.t_start = time.time()
        self.opts = None  # the handler lives as long as the connection
        st = self.server.st
        u = urlsplit(self.path)
        query = u.query
        if self.command == "POST":
            n = int(self.headers.get("Content-Length") or 0)
            if n > 1 << 20:
                self.send_error(413)
                return
            data = self.rfile.read(n).decode("utf-8", "replace") if n else ""
            if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
                query = (query + "&" + data) if query else data
        segs = [unquote(s) for s in u.path.split("/") if s]
        entry = {"t": round(self.t_start, 3), "method": self.command, "path": u.path,
                 "query": query, "ae": self.headers.get("Accept-Encoding"),
                 "ua": self.headers.get("User-Agent")}
        try:
            if segs and segs[0] == "control":
                return self.control(segs[1:], query, entry)
            if not segs or segs[-1] != "oai":
                body = self.send_body(404, b"not found\n", "text/plain", entry=entry)
                self.wfile.write(body)
                return self.finish_log(entry)
            try:
                if len(segs) >= 3 and segs[0] == "replay":
                    self.opts = Opts(segs[2:-1], st.args)
                    self.opts.replay = segs[1]
                else:
                    self.opts = Opts(segs[:-1], st.args)
            except ValueError as e:
                body = self.send_body(400, ("bad option %s\n" % e).encode(), "text/plain",
                                      entry=entry)
                self.wfile.write(body)
                return self.finish_log(entry)
            self.oai(query, entry)
        except (BrokenPipeError, ConnectionResetError) as e:
            entry["client_gone"] = str(e)
            self.close_connection = True
        self.finish_log(entry)

    # -- control interface
    def control(self, segs, query, entry):
        st = self.server.st
        c = st.corpus
        args = dict(parse_qsl(query))
        op = segs[0] if segs else "state"
        out = {"ok": True}
        if op in ("add", "change", "delete", "undelete") and c:
            ids = []
            for part in (args.get("ids") or "").split(","):
                part = part.strip()
                if "-" in part:
                    a, b = part.split("-", 1)
                    ids.extend(range(int(a), int(b) + 1))
                elif part:
                    ids.append(int(part))
            out["done"] = c.change(op, ids, int(args.get("count", "1")))
        elif op == "clock" and c:
            with c.lock:
                if "set" in args:
                    p = parse_date(args["set"])
                    if p:
                        c.now = p[0]
                c.now += int(args.get("advance", "0"))
                c.gen += 1
                c._cache = {}
        elif op == "reset-faults":
            with st.clock_lock:
                st.counters.clear()
        elif op == "state":
            pass
        else:
            out = {"ok": False, "error": "unknown control op %s" % op}
        if c:
            with c.lock:
                out["now"] = iso(c.now)
                out["records"] = len(c.recs)
                out["deleted"] = sum(1 for r in c.recs.values() if r[2])
                out["generation"] = c.gen
        out["nonce"] = st.nonce
        body = (json.dumps(out, ensure_ascii=False) + "\n").encode()
        self.opts = None
        body = self.send_body(200 if out["ok"] else 400, body, "application/json", entry=entry)
        self.wfile.write(body)
        self.finish_log(entry)

    # -- OAI-PMH
    def oai(self, query, entry):
        st = self.server.st
        o = self.opts
        pairs = parse_qsl(query, keep_blank_values=True)
        entry["args"] = dict(pairs)
        verb = dict(pairs).get("verb")
        entry["verb"] = verb
        if o.replay is not None or st.args.replay:
            return self.replay(query, pairs, verb, entry)
        page_index = None
        self.entry_fault = None
        self.bad_record = None
        self.req_attrs = {}
        try:
            req_attrs, content, page_index, extra = self.dispatch(pairs)
        except OAIError as e:
            req_attrs, extra = self.req_attrs, b""
            content = '<error code="%s">%s</error>' % (e.code, esc(e.text))
            entry["oai_error"] = e.code
            if e.code == "noRecordsMatch" and "nrmtoken" in o.faults:
                content += ('<ListRecords><resumptionToken>%s</resumptionToken></ListRecords>'
                            % make_token(st, "ListRecords", "oai_dc", None, None, None, 0))
                entry["fault"] = "nrmtoken"
        entry["page"] = page_index
        if self.entry_fault:
            entry["fault"] = self.entry_fault
        if self.bad_record:
            entry["bad_record"] = self.bad_record
        listing = verb in ("ListRecords", "ListIdentifiers") and page_index is not None
        fault = None
        if listing and page_index == o.at:
            for name in ("503", "429", "500", "reset", "stall", "truncate", "html"):
                # stall=SECONDS: its value is a duration, it happens once
                limit = 1 if name == "stall" else o.faults.get(name)
                if name in o.faults and st.hit(o.key, name, limit):
                    fault = name
                    break
        if fault is None and "slow" in o.faults and listing:
            fault = "slow"
        entry["fault"] = entry.get("fault") or fault
        if fault in ("503", "429", "500"):
            hdrs = [("Retry-After", str(o.retry_after))] if fault != "500" else []
            body = self.send_body(int(fault), ("<html><body><h1>%s</h1></body></html>\n" % fault)
                                  .encode(), "text/html", hdrs, entry)
            self.wfile.write(body)
            return
        if fault == "html":
            page = ("<!DOCTYPE html>\n<html><head><title>Lỗi hệ thống</title></head><body>"
                    "<h1>Internal Server Error</h1><p>java.lang.NullPointerException at "
                    "org.dspace.app.oai.DSpaceOAICatalog</p>" + "<br>" * 50 + "</body></html>\n")
            body = self.send_body(200, page.encode(), "text/html; charset=utf-8", entry=entry)
            self.wfile.write(body)
            return
        huge = o.faults.get("huge") if listing and page_index == o.at else None
        if huge:
            return self.send_huge(req_attrs, huge, entry)
        doc = self.envelope(req_attrs, content).encode("utf-8")
        if extra:
            doc = doc.replace(b"@@BAD@@", extra)
        if fault == "truncate":
            cut = doc.find(b"<record>", doc.find(b"<record>") + 1)
            cut = cut + 200 if cut > 0 else len(doc) // 2
            doc = doc[:cut]
        body = self.send_body(200, doc, entry=entry)
        if fault == "reset":
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.rfile.close()
            self.wfile.close()
            self.connection.close()
            self.close_connection = True
            return
        if fault == "stall":
            half = len(body) // 2
            self.wfile.write(body[:half])
            self.wfile.flush()
            self.finish_log(entry)  # now: tests look before the sleep ends
            time.sleep(o.faults["stall"] if o.faults["stall"] < INF else 30)
            try:
                self.wfile.write(body[half:])
            except OSError:
                self.close_connection = True
            return
        if fault == "slow":
            ms = o.faults["slow"]
            step = max(len(body) // 10, 1)
            for i in range(0, len(body), step):
                self.wfile.write(body[i:i + step])
                self.wfile.flush()
                time.sleep(ms / 10000.0)
            return
        self.wfile.write(body)

    def envelope(self, req_attrs, content):
        st = self.server.st
        base = "http://127.0.0.1:%d%s" % (self.server.server_address[1], urlsplit(self.path).path)
        attrs = "".join(' %s="%s"' % (k, html.escape(v)) for k, v in req_attrs.items())
        return "%s<responseDate>%s</responseDate>\n<request%s>%s</request>\n%s\n</OAI-PMH>\n" % (
            HEAD, iso(st.now()), attrs, esc(base), content)

    def dispatch(self, pairs):
        """-> (request attributes, XML content, page index or None, bad bytes)."""
        st = self.server.st
        o = self.opts
        args = {}
        for k, v in pairs:
            if k in args:
                raise OAIError("badArgument", "repeated argument %s" % k)
            args[k] = v
        verb = args.get("verb")
        allowed = {
            "Identify": (set(), set()),
            "ListMetadataFormats": (set(), {"identifier"}),
            "ListSets": (set(), {"resumptionToken"}),
            "GetRecord": ({"identifier", "metadataPrefix"}, set()),
            "ListRecords": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
            "ListIdentifiers": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
        }
        if verb not in allowed:
            raise OAIError("badVerb", "illegal or missing verb")
        req, opt = allowed[verb]
        rest = set(args) - {"verb"}
        if "resumptionToken" in rest:
            if rest != {"resumptionToken"}:
                raise OAIError("badArgument", "resumptionToken is an exclusive argument")
        else:
            if req - rest:
                raise OAIError("badArgument", "missing argument(s): %s" % ", ".join(sorted(req - rest)))
            if rest - req - opt:
                raise OAIError("badArgument", "illegal argument(s): %s" % ", ".join(sorted(rest - req - opt)))
        attrs = dict(args)
        self.req_attrs = attrs
        c = st.corpus
        gran = "YYYY-MM-DD" if o.gran_day else "YYYY-MM-DDThh:mm:ssZ"
        if verb == "Identify":
            earliest = c.sorted_view()[0][0][0] if c.recs else st.now()
            fmt = day if o.gran_day else iso
            return attrs, (
                "<Identify><repositoryName>mucluc test provider</repositoryName>"
                "<baseURL>http://127.0.0.1:%d%s</baseURL><protocolVersion>2.0</protocolVersion>"
                "<adminEmail>test@example.org</adminEmail><earliestDatestamp>%s</earliestDatestamp>"
                "<deletedRecord>%s</deletedRecord><granularity>%s</granularity>"
                "<compression>gzip</compression><compression>deflate</compression></Identify>"
                % (self.server.server_address[1], urlsplit(self.path).path, fmt(earliest),
                   o.deleted, gran)), None, b""
        if verb == "ListMetadataFormats":
            if "identifier" in args and self.lookup(args["identifier"]) is None:
                raise OAIError("idDoesNotExist", "no such identifier")
            fm = "".join("<metadataFormat><metadataPrefix>%s</metadataPrefix><schema>%s</schema>"
                         "<metadataNamespace>%s</metadataNamespace></metadataFormat>" % (p, s, ns)
                         for p, (s, ns) in FORMATS.items() if p in st.args.formats)
            return attrs, "<ListMetadataFormats>%s</ListMetadataFormats>" % fm, None, b""
        if verb == "ListSets":
            if "resumptionToken" in args:
                raise OAIError("badResumptionToken", "ListSets is never split")
            if st.args.no_sets:
                raise OAIError("noSetHierarchy", "this repository has no sets")
            return attrs, "<ListSets>%s</ListSets>" % "".join(
                "<set><setSpec>%s</setSpec><setName>%s</setName></set>" % (s, esc(nm))
                for s, nm in SETS), None, b""
        if verb == "GetRecord":
            prefix = args["metadataPrefix"]
            n = self.lookup(args["identifier"])
            if n is None:
                raise OAIError("idDoesNotExist", "no such identifier")
            if prefix not in st.args.formats:
                raise OAIError("cannotDisseminateFormat", "format %s is not offered" % prefix)
            r = c.get(n)
            if r[2] and o.deleted == "no":
                raise OAIError("idDoesNotExist", "no such identifier")
            return attrs, "<GetRecord>%s</GetRecord>" % self.record(n, r, prefix, False), None, b""
        # ListRecords / ListIdentifiers
        if "resumptionToken" in args:
            d = read_token(st, args["resumptionToken"])
            if d is None or d.get("v") != verb:
                raise OAIError("badResumptionToken", "unknown or expired resumption token")
            prefix, frm_s, until_s, setspec, offset = d["p"], d["f"], d["u"], d["s"], d["o"]
            page_index = offset // o.ps
            repeat_first = False
            if "repeattoken" in o.faults and page_index >= o.at + 1 and \
                    (o.faults["repeattoken"] == INF or page_index == o.at + 1):
                # a cursor behind the token: the first answer repeats the token,
                # the next request with it gets the page after
                if st.hit(o.key, "repeattoken:" + args["resumptionToken"], 1):
                    repeat_first = True
                else:
                    offset += o.ps
            if "expired" in o.faults and page_index == o.at and \
                    st.hit(o.key, "expired", o.faults["expired"]):
                self.entry_fault = "expired"
                raise OAIError("badResumptionToken", "the resumption token has expired")
        else:
            prefix = args["metadataPrefix"]
            frm_s, until_s, setspec, offset = args.get("from"), args.get("until"), args.get("set"), 0
            page_index = 0
            repeat_first = False
            for v in (frm_s, until_s):
                if v is None:
                    continue
                p = parse_date(v)
                if p is None or (o.gran_day and not p[1]):
                    raise OAIError("badArgument", "bad date %s for granularity %s" % (v, gran))
            if frm_s and until_s:
                if len(frm_s) != len(until_s):
                    raise OAIError("badArgument", "from and until have different granularities")
                if parse_date(frm_s)[0] > parse_date(until_s)[0]:
                    raise OAIError("badArgument", "from is after until")
            if prefix not in st.args.formats:
                raise OAIError("cannotDisseminateFormat", "format %s is not offered" % prefix)
            if setspec is not None and (st.args.no_sets or setspec not in [s for s, _ in SETS]):
                if st.args.no_sets:
                    raise OAIError("noSetHierarchy", "this repository has no sets")
                raise OAIError("noRecordsMatch", "no such set")
        frm = parse_date(frm_s) if frm_s else None
        until = parse_date(until_s) if until_s else None
        ufrom = frm[0] if frm else None
        uuntil = None
        if until:
            # a day-granularity until includes the whole day on a seconds repository
            uuntil = until[0] + (86399 if until[1] and not o.gran_day else 0)
        sel = c.select(ufrom, uuntil, o.gran_day, setspec, o.n, o.deleted)
        entry_fault = None
        if "emptypages" in o.faults and page_index >= 1:
            sel_page = []
            entry_fault = "emptypages"
        else:
            sel_page = sel[offset:offset + o.ps]
        if "nrmtoken" in o.faults and page_index == 0:
            raise OAIError("noRecordsMatch", "no records match")
        if not sel and page_index == 0:
            raise OAIError("noRecordsMatch", "no records match")
        bad = b""
        parts = []
        hdr_only = verb == "ListIdentifiers"
        badn = None
        for i, n in enumerate(sel_page):
            r = c.get(n)
            is_bad = page_index == o.at and i == o.rec and \
                any(f in o.faults for f in ("badutf8", "ctrl", "entity"))
            parts.append(self.record(n, r, prefix, hdr_only, "@@BAD@@" if is_bad else ""))
            if is_bad:
                badn = n
        if badn is not None:
            if "badutf8" in o.faults:
                bad = b" \xff\xfe h\xe1\xbb"
            elif "ctrl" in o.faults:
                bad = b" \x01\x02\x1b[0m\x0c"
            else:
                bad = b" &nbsp;&eacute;"
            self.bad_record = "oai:test:%d" % badn
        nxt = offset + len(sel_page)
        size = len(sel)
        if "liesize" in o.faults:
            size = max(1, size // 10)
        tok = ""
        if "emptypages" in o.faults:
            tok = make_token(st, verb, prefix, frm_s, until_s, setspec, nxt + o.ps)
        elif nxt < len(sel):
            tok = make_token(st, verb, prefix, frm_s, until_s, setspec, nxt)
        if "sametoken" in o.faults and page_index == o.at + 1 and "resumptionToken" in args:
            tok = args["resumptionToken"]
            entry_fault = "sametoken"
        if repeat_first:
            tok = args["resumptionToken"]
            entry_fault = "repeattoken"
        if tok or offset > 0:
            parts.append('<resumptionToken completeListSize="%d" cursor="%d">%s</resumptionToken>'
                         % (size, offset, tok))
        self.entry_fault = entry_fault
        return attrs, "<%s>%s</%s>" % (verb, "\n".join(parts), verb), page_index, bad

    def lookup(self, ident):
        m = re.fullmatch(r"oai:test:(\d+)", ident or "")
        if not m:
            return None
        n = int(m.group(1))
        return n if self.server.st.corpus.get(n) is not None else None

    def record(self, n, r, prefix, hdr_only, bad=""):
        o = self.opts
        ts, version, deleted = r
        ds = day(ts) if o.gran_day else iso(ts)
        status = ' status="deleted"' if deleted else ""
        h = "<header%s><identifier>oai:test:%d</identifier><datestamp>%s</datestamp>" \
            "<setSpec>%s</setSpec></header>" % (status, n, ds, set_of(n))
        if hdr_only:
            return h
        if deleted:
            return "<record>%s</record>" % h
        bodies = self.server.st.corpus.bodies
        if prefix == "marc21":
            md = render_marc(n, ts, version, bodies, bad)
        else:
            md = render_dc(n, ts, version, bodies, bad)
        return "<record>%s<metadata>%s</metadata></record>" % (h, md)

    def send_huge(self, attrs, mb, entry):
        """One ListRecords page of about `mb` MB, streamed (no Content-Length)."""
        st = self.server.st
        self.send_response(200)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        head = self.envelope(attrs, "@@SPLIT@@").encode()
        a, b = head.split(b"@@SPLIT@@")
        self.wfile.write(a + b"<ListRecords>")
        total = len(a)
        limit = int(mb * 1024 * 1024)
        n = 0
        chunk = []
        csize = 0
        ts = st.now() - 86400
        while total < limit:
            n += 1
            rec = self.record(n, [ts, 1, False], "marc21", False).encode()
            chunk.append(rec)
            csize += len(rec)
            if csize > 1 << 20:
                self.wfile.write(b"\n".join(chunk) + b"\n")
                total += csize
                chunk, csize = [], 0
        if chunk:
            self.wfile.write(b"\n".join(chunk) + b"\n")
            total += csize
        self.wfile.write(b"</ListRecords>" + b + b"\n")
        entry["status"] = 200
        entry["bytes"] = total
        entry["records"] = n
        entry["fault"] = "huge"

    # -- replay of captured responses
    def replay(self, query, pairs, verb, entry):
        st = self.server.st
        name = self.opts.replay or ""
        mapping = st.replays.get(name)
        if mapping is None:
            body = self.send_body(404, b"no such capture\n", "text/plain", entry=entry)
            self.wfile.write(body)
            return
        args = dict(pairs)
        path = mapping.get(norm_query(query))
        if path is None and verb in ("ListRecords", "ListIdentifiers") and "resumptionToken" not in args:
            # a harvester chooses its own from/until: serve the capture of the verb and prefix
            for k, p in sorted(mapping.items()):
                kd = dict(parse_qsl(k))
                if kd.get("verb") == verb and kd.get("metadataPrefix") == args.get("metadataPrefix"):
                    path = p
                    break
        entry["file"] = path
        if path is None:
            if verb == "Identify":
                content = ("<Identify><repositoryName>replay %s</repositoryName><baseURL>"
                           "http://127.0.0.1/</baseURL><protocolVersion>2.0</protocolVersion>"
                           "<adminEmail>test@example.org</adminEmail><earliestDatestamp>"
                           "2001-01-01T00:00:00Z</earliestDatestamp><deletedRecord>no"
                           "</deletedRecord><granularity>YYYY-MM-DDThh:mm:ssZ</granularity>"
                           "</Identify>" % esc(name))
            elif verb == "ListMetadataFormats":
                content = ("<ListMetadataFormats><metadataFormat><metadataPrefix>oai_dc"
                           "</metadataPrefix><schema>%s</schema><metadataNamespace>%s"
                           "</metadataNamespace></metadataFormat></ListMetadataFormats>"
                           % FORMATS["oai_dc"])
            elif verb in ("ListRecords", "ListIdentifiers"):
                content = '<error code="noRecordsMatch">no capture for this request</error>'
            else:
                content = '<error code="badArgument">no capture for this request</error>'
            body = self.send_body(200, self.envelope({}, content).encode(), entry=entry)
            self.wfile.write(body)
            return
        size = os.path.getsize(path)
        ae = self.headers.get("Accept-Encoding", "") or ""
        if not self.opts.plain and not st.args.no_compression and not st.args.replay_raw and \
                ("gzip" in ae or "deflate" in ae) and size < (64 << 20):
            with open(path, "rb") as fh:
                body = self.send_body(200, fh.read(), entry=entry)
            self.wfile.write(body)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        with open(path, "rb") as fh:
            self.wfile.flush()
            rate = st.args.rate * 1e6
            if rate <= 0:
                self.connection.sendfile(fh)
            else:  # a link of `rate` MB/s: 64 KiB at a time, on schedule
                t0 = time.monotonic()
                sent = 0
                while True:
                    n = self.connection.sendfile(fh, sent, 65536)
                    if n <= 0:
                        break
                    sent += n
                    ahead = sent / rate - (time.monotonic() - t0)
                    if ahead > 0:
                        time.sleep(ahead)
        entry["status"] = 200
        entry["bytes"] = size


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def render(args):
    """Write the pages of the generated corpus for static serving."""
    os.makedirs(args.render, exist_ok=True)
    st = State(args)
    c = st.corpus
    ps = args.page_size
    prefix = args.render_prefix
    ns = sorted(c.recs)
    mapping = []
    now = iso(args.now)

    def write(name, query, content, attrs):
        a = "".join(' %s="%s"' % (k, html.escape(v)) for k, v in attrs.items())
        with open(os.path.join(args.render, name), "w", encoding="utf-8") as fh:
            fh.write("%s<responseDate>%s</responseDate>\n<request%s>http://127.0.0.1/oai</request>\n"
                     % (HEAD, now, a))
            if isinstance(content, str):
                fh.write(content)
            else:
                for part in content:
                    fh.write(part)
            fh.write("\n</OAI-PMH>\n")
        mapping.append((query, name))

    ident = ("<Identify><repositoryName>mucluc rendered corpus</repositoryName><baseURL>"
             "http://127.0.0.1/oai</baseURL><protocolVersion>2.0</protocolVersion><adminEmail>"
             "test@example.org</adminEmail><earliestDatestamp>%s</earliestDatestamp><deletedRecord>"
             "persistent</deletedRecord><granularity>YYYY-MM-DDThh:mm:ssZ</granularity></Identify>"
             % iso(args.date_range[0]))
    write("identify.xml", "verb=Identify", ident, {"verb": "Identify"})
    fm = "".join("<metadataFormat><metadataPrefix>%s</metadataPrefix><schema>%s</schema>"
                 "<metadataNamespace>%s</metadataNamespace></metadataFormat>" % (p, s, n2)
                 for p, (s, n2) in FORMATS.items())
    write("formats.xml", "verb=ListMetadataFormats", "<ListMetadataFormats>%s</ListMetadataFormats>"
          % fm, {"verb": "ListMetadataFormats"})
    pages = (len(ns) + ps - 1) // ps
    urls = []
    for p in range(pages):
        chunk = ns[p * ps:(p + 1) * ps]

        def gen(chunk=chunk, p=p):
            yield "<ListRecords>"
            for n in chunk:
                ts = c.recs[n][0]
                h = "<header><identifier>oai:test:%d</identifier><datestamp>%s</datestamp>" \
                    "<setSpec>%s</setSpec></header>" % (n, iso(ts), set_of(n))
                md = render_marc(n, ts, 1, c.bodies) if prefix == "marc21" else \
                    render_dc(n, ts, 1, c.bodies)
                yield "<record>%s<metadata>%s</metadata></record>\n" % (h, md)
            tok = "p%d" % (p + 1) if p + 1 < pages else ""
            if pages > 1:
                yield '<resumptionToken completeListSize="%d" cursor="%d">%s</resumptionToken>' % (
                    len(ns), p * ps, tok)
            yield "</ListRecords>"
        if p == 0:
            q = "verb=ListRecords&metadataPrefix=%s" % prefix
            attrs = {"verb": "ListRecords", "metadataPrefix": prefix}
        else:
            q = "verb=ListRecords&resumptionToken=p%d" % p
            attrs = {"verb": "ListRecords", "resumptionToken": "p%d" % p}
        write("page-%05d.xml" % p, q, gen(), attrs)
        urls.append(q)
    with open(os.path.join(args.render, "mapping.txt"), "w", encoding="utf-8") as fh:
        for q, name in mapping:
            fh.write("%s\n%s\n" % (q, name))
    with open(os.path.join(args.render, "pages.txt"), "w", encoding="utf-8") as fh:
        for q in urls:
            fh.write(q + "\n")
    print("rendered %d records in %d pages to %s" % (len(ns), pages, args.render))


def main():
    ap = argparse.ArgumentParser(description="fault-injecting OAI-PMH 2.0 test provider")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", help="write the chosen port here once listening")
    ap.add_argument("--log", help="append one JSON line per request here")
    ap.add_argument("--records", type=int, default=1000)
    ap.add_argument("--page-size", type=int, default=100)
    ap.add_argument("--granularity", choices=("day", "seconds"), default="seconds")
    ap.add_argument("--deleted", choices=("no", "persistent", "transient"), default="persistent")
    ap.add_argument("--now", default="2026-01-01T00:00:00Z", help="the provider's clock")
    ap.add_argument("--date-range", default="2020-01-01,2025-12-31",
                    help="datestamps of the generated records: FROM,UNTIL")
    ap.add_argument("--formats", default="marc21,oai_dc")
    ap.add_argument("--no-sets", action="store_true")
    ap.add_argument("--no-compression", action="store_true")
    ap.add_argument("--corpus", nargs="+", help="MARCXML file(s) to take record bodies from")
    ap.add_argument("--replay", help="directory of captures (mapping.txt)")
    ap.add_argument("--replay-raw", action="store_true", help="never compress replayed files")
    ap.add_argument("--rate", type=float, default=0,
                    help="replay: send each file at this many MB/s (a slower link)")
    ap.add_argument("--render", help="write the pages to this directory and exit")
    ap.add_argument("--render-prefix", default="marc21")
    ap.add_argument("--nonce", help="resumption token nonce (default random per run)")
    args = ap.parse_args()
    p = parse_date(args.now)
    if not p:
        ap.error("--now: YYYY-MM-DDThh:mm:ssZ")
    args.now = p[0]
    a, _, b = args.date_range.partition(",")
    if not parse_date(a) or not parse_date(b):
        ap.error("--date-range FROM,UNTIL")
    args.date_range = (parse_date(a)[0], parse_date(b)[0])
    args.formats = [f for f in args.formats.split(",") if f]
    if args.render:
        render(args)
        return
    srv = Server(("127.0.0.1", args.port), Handler)
    srv.st = State(args)
    port = srv.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as fh:
            fh.write("%d\n" % port)
        os.rename(tmp, args.port_file)
    sys.stderr.write("provider: listening on http://127.0.0.1:%d/oai\n" % port)
    sys.stderr.flush()
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
