-- wrk script for bench/search: cycles through the request paths of a file
-- (one per line: "wrk ... -s mix.lua URL -- PATHS"), each thread from its own
-- offset, and prints exact percentiles for the harness to read.
local threads = {}

function setup(thread)
   thread:set("tid", #threads)
   table.insert(threads, thread)
end

function init(args)
   paths = {}
   for line in io.lines(args[1]) do
      paths[#paths + 1] = line
   end
   i = ((tid or 0) * 7919) % #paths
end

function request()
   i = i % #paths + 1
   return wrk.format("GET", paths[i])
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format("BENCH p50_us %d\nBENCH p99_us %d\nBENCH max_us %d\n",
      latency:percentile(50), latency:percentile(99), latency.max))
   io.write(string.format("BENCH requests %d\nBENCH duration_us %d\n",
      summary.requests, summary.duration))
   io.write(string.format("BENCH socket_errors %d\nBENCH non2xx %d\n",
      e.connect + e.read + e.write + e.timeout, e.status))
end
