-- wrk script of benchmarks/api.py: posts pre-made bodies, one line of a file each, in file order.
--
--   [RAMPART_WRK_RATE=R] wrk -t T -c C -d 10s -s api_wrk.lua URL -- BODIES PATH METHOD KEY T
--
-- BODIES: a file of request bodies, one per line (an event, or a JSON array of events), in time
-- order. Thread k of T sends lines k+1, k+1+T, ... so no line is sent twice while the file lasts
-- and every thread's slice stays in time order (threads move at the same pace, so all are close to
-- the same event time). A thread that runs out starts its slice again and counts a wrap (the
-- caller sees re-sent events). METHOD GET sends no body (a baseline without one). KEY goes in
-- `Authorization: Bearer`. RAMPART_WRK_RATE=R > 0 (an environment variable: wrk looks for
-- delay() before any argument reaches the script) paces each thread to R / T requests a second,
-- open loop: request n of a thread is due at start + n * T / R, and delay() holds it until then.
-- done() prints one JSON line starting with "RESULT " for the caller to read.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_usec; } bench_timeval;
  int gettimeofday(bench_timeval *tv, void *tz);
]]

local function now_ms()
  local tv = ffi.new("bench_timeval")
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) * 1000 + tonumber(tv.tv_usec) / 1000
end

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  local file, path, method, key = args[1], args[2], args[3], args[4]
  local nthreads = tonumber(args[5] or "1")
  bodies, n, index, wraps, sent = {}, 0, 0, 0, 0
  local line_no = 0
  for line in io.lines(file) do
    if line_no % nthreads == id then
      n = n + 1
      bodies[n] = line
    end
    line_no = line_no + 1
  end
  interval = 0
  if RATE > 0 then
    interval = 1000.0 / (RATE / nthreads)
  end
  started = nil
  headers = { ["Authorization"] = "Bearer " .. key }
  if method ~= "GET" then
    headers["Content-Type"] = "application/json"
  end
  req_method, req_path = method, path
end

RATE = tonumber(os.getenv("RAMPART_WRK_RATE") or "0")

local function paced()
  local t = now_ms()
  if started == nil then
    started = t
  end
  local due = started + sent * interval
  if due > t then
    return math.floor(due - t)
  end
  return 0
end

if RATE > 0 then
  delay = paced
end

function request()
  sent = sent + 1
  if req_method == "GET" then
    return wrk.format("GET", req_path, headers, nil)
  end
  index = index + 1
  if index > n then
    index = 1
    wraps = wraps + 1
  end
  return wrk.format(req_method, req_path, headers, bodies[index])
end

function done(summary, latency, requests)
  local total_wraps, total_sent = 0, 0
  for _, thread in ipairs(threads) do
    total_wraps = total_wraps + (thread:get("wraps") or 0)
    total_sent = total_sent + (thread:get("sent") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,"read_errors":%d,'
      .. '"write_errors":%d,"status_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,'
      .. '"p99_us":%d,"p999_us":%d,"max_us":%d,"mean_us":%.1f,"wraps":%d,"sent":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean, total_wraps, total_sent))
end
