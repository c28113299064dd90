-- wrk script for `make bench`: cycle through a file of paths, or use each once.
--
--   wrk ... -s bench/wrk/requests.lua <url> -- PATHS METHOD BODY MODE THREADS [Header: value ...]
--
-- PATHS   a file with one path per line
-- METHOD  GET or POST
-- BODY    a file holding the request body, or "-" for none
-- MODE    "cycle" (round and round the paths) or "once" (each path requested once, the
--         paths shared out between the threads; a thread with none left stops)
-- THREADS the -t given to wrk, to share the paths out
--
-- done() prints one line `BENCH_JSON {...}` with the counts and latency percentiles
-- (microseconds) that bench/run.py reads; responses other than 2xx are counted as `non2xx`.

local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

local paths = {}
local method, body, mode, nthreads
local position, step
-- Globals, not locals: done() reads each thread's counts with thread:get, which sees only
-- a thread's globals (as locals they read as nil: no non-2xx answer was ever counted).
requests_made, non2xx, exhausted = 0, 0, 0
local fallback

function init(args)
  for line in io.lines(args[1]) do
    if line ~= "" then
      paths[#paths + 1] = line
    end
  end
  method = args[2]
  if args[3] ~= "-" then
    local f = assert(io.open(args[3], "rb"))
    body = f:read("*a")
    f:close()
  end
  mode = args[4]
  nthreads = tonumber(args[5])
  for i = 6, #args do
    local name, value = args[i]:match("^([^:]+):%s*(.*)$")
    wrk.headers[name] = value
  end
  if mode == "once" then
    position, step = thread_index + 1, nthreads
  else
    position, step = (thread_index * 7919) % #paths + 1, 1
  end
  -- What an exhausted thread sends while it stops (not counted in `made`).
  fallback = wrk.format("GET", "/healthz")
end

function request()
  if position > #paths then
    if mode == "once" then
      exhausted = 1
      wrk.thread:stop()
      return fallback
    end
    position = (position - 1) % #paths + 1
  end
  local path = paths[position]
  position = position + step
  requests_made = requests_made + 1
  return wrk.format(method, path, nil, body)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local made, bad, out = 0, 0, 0
  for _, thread in ipairs(threads) do
    made = made + (thread:get("requests_made") or 0)
    bad = bad + (thread:get("non2xx") or 0)
    out = out + (thread:get("exhausted") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "made": %d, "non2xx": %d, ' ..
    '"socket_errors": %d, "timeouts": %d, "exhausted_threads": %d, ' ..
    '"p50_us": %.1f, "p90_us": %.1f, "p99_us": %.1f, "max_us": %.1f, "mean_us": %.1f}\n',
    summary.requests, summary.duration, made, bad,
    e.connect + e.read + e.write, e.timeout, out,
    latency:percentile(50.0), latency:percentile(90.0), latency:percentile(99.0),
    latency.max, latency.mean))
end
