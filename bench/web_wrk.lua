-- wrk script for bench/web.py: GET the paths of a file in turn, as one signed-in viewer.
--
--   wrk -t2 -c20 -d20s -s bench/web_wrk.lua http://127.0.0.1:PORT -- PATHS_FILE COOKIE
--
-- PATHS_FILE holds one path per line (query string included); each wrk thread starts at its own
-- offset. COOKIE is the session cookie ("tierwise_session=..."). At the end it prints one line:
--   RESULT requests non_2xx socket_errors p50_us p95_us p99_us seconds
-- (latencies in microseconds, over every request of the run).

local paths = {}
local next_index = 1
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("offset", thread_count * 7919)
end

function init(args)
  for line in io.lines(args[1]) do
    paths[#paths + 1] = line
  end
  wrk.headers["Cookie"] = args[2]
  wrk.headers["Accept"] = "application/json"
  next_index = (offset or 0) % #paths + 1
end

function request()
  local path = paths[next_index]
  next_index = next_index % #paths + 1
  return wrk.format("GET", path)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d %.3f\n", summary.requests, errors.status,
                         errors.connect + errors.read + errors.write + errors.timeout,
                         latency:percentile(50), latency:percentile(95),
                         latency:percentile(99), summary.duration / 1e6))
end
