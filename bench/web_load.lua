-- wrk script of bench/web_load.py: one thread and one connection per client, each
-- with its own session cookie, asking for the pages in turn. Any answer but 200
-- (a redirect to the sign-in page included) counts as an error.
local paths = {}
for path in string.gmatch(os.getenv("BENCH_PATHS"), "%S+") do table.insert(paths, path) end
local cookies = {}
for cookie in string.gmatch(os.getenv("BENCH_COOKIES"), "%S+") do table.insert(cookies, cookie) end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("cookie", cookies[(#threads - 1) % #cookies + 1])
  thread:set("counter", #threads)  -- clients start on different pages
  thread:set("bad", 0)
end

function request()
  counter = counter + 1
  return wrk.format("GET", paths[counter % #paths + 1], {["Cookie"] = cookie})
end

function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  for _, thread in ipairs(threads) do errors = errors + thread:get("bad") end
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_s": %f, "p50_us": %f, "p95_us": %f, '
      .. '"p99_us": %f, "errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50),
    latency:percentile(95), latency:percentile(99), errors))
end
